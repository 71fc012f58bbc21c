import phonenumbers
from django import template

from patients.templatetags.patients_tags import clinic_time

register = template.Library()


@register.filter
def phone(value: str) -> str:
    """+18582560289 → (858) 256-0289 (international format outside the US)."""
    try:
        parsed = phonenumbers.parse(value or "", "US")
    except phonenumbers.NumberParseException:
        return value
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if parsed.country_code == 1
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(parsed, fmt)


@register.filter
def status_class(status: str) -> str:
    return {
        "delivered": "ok",
        "sent": "ok",
        "failed": "bad",
        "suppressed": "bad",
        "unknown": "bad",
        "quarantined": "bad",
    }.get(status, "")


# Stored times are UTC; staff read them in the clinic's time zone, as on the patient pages.
register.filter("clinic_time", clinic_time)
