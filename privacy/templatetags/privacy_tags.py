from django import template
from django.urls import reverse

from privacy import cookies

register = template.Library()


@register.inclusion_tag("privacy/partials/cookie_banner.html", takes_context=True)
def cookie_banner(context):
    """The banner until a choice is made; the analytics script only after acceptance.
    Put `{% load privacy_tags %}{% cookie_banner %}` in a base template."""
    request = context.get("request")
    if request is None:
        return {"show_banner": False, "analytics_script": ""}
    allowed = cookies.analytics_allowed(request)
    return {
        "show_banner": cookies.choice(request) is None and request.path != reverse("privacy-cookies"),
        "analytics_script": cookies.analytics_script() if allowed else "",
        "next": request.path,
        "csrf_token": context.get("csrf_token"),
    }


PURPOSE_LABELS = {
    "scheduling": "scheduling your appointments",
    "treatment": "your treatment",
    "care_instructions": "care instructions",
    "payment": "processing a payment",
    "operations": "running the clinic's services",
    "marketing": "marketing you agreed to",
    "legal": "required by law",
}
CATEGORY_LABELS = {
    "identity": "identity",
    "contact": "contact details",
    "health": "health information",
    "payment": "payment details",
    "sms_consent": "text-message consent",
    "technical": "technical data",
    "audit": "audit records",
}


@register.filter
def purpose_label(value):
    return PURPOSE_LABELS.get(value, value)


@register.filter
def categories_label(values):
    return ", ".join(CATEGORY_LABELS.get(v, v) for v in values)
