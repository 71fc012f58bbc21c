from django import template

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
        "show_banner": cookies.choice(request) is None,
        "analytics_script": cookies.analytics_script() if allowed else "",
        "next": request.path,
        "csrf_token": context.get("csrf_token"),
    }
