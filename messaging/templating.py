"""Message wording: built-in defaults, manager overrides (MessageTemplate) and placeholders.

Defaults carry the minimum (§5): a first name, a date, a time, a location — never a treatment
name or a health detail. `{instructions}` exists for pre/post-care templates but is not in the
defaults: a manager who adds it chooses to send the service's instruction text."""

import string

from django.conf import settings

from messaging.models import Kind, MessageTemplate

OPT_OUT_HINT = "Reply STOP to opt out."

PLACEHOLDERS = {
    "first_name": "Patient's first name",
    "clinic_name": "Clinic name",
    "clinic_phone": "Clinic phone number",
    "clinic_website": "Clinic website",
    "date": "Appointment date (location time zone)",
    "time": "Appointment time (location time zone)",
    "location": "Location name",
    "location_phone": "Location phone number",
    "manage_link": "Link to view or change the appointment",
    "link": "The link the message carries (consent signing, payment)",
    "amount": "Amount due (payment links)",
    "instructions": "The service's pre/post-care instruction text (not used by default)",
    "program": "SMS program description (double opt-in)",
}

PROGRAM_TEXT = "appointment reminders, confirmations and care instructions"
FREQUENCY_TEXT = "Msg frequency varies. Msg & data rates may apply."

DEFAULT_TEMPLATES = {
    Kind.BOOKING_CONFIRMATION: "{clinic_name}: Hi {first_name}, you're booked for {date} at {time} at {location}. "
    "Manage: {manage_link}",
    Kind.RESCHEDULE_NOTICE: "{clinic_name}: Hi {first_name}, your appointment moved to {date} at {time} "
    "at {location}. Manage: {manage_link}",
    Kind.CANCEL_NOTICE: "{clinic_name}: Hi {first_name}, your appointment on {date} at {time} is cancelled. "
    "To rebook: {manage_link}",
    Kind.REMINDER: "{clinic_name}: Reminder, {first_name}: your appointment is {date} at {time} at {location}. "
    "Reply C to confirm. Manage: {manage_link}",
    Kind.PRE_CARE: "{clinic_name}: Hi {first_name}, please review how to prepare for your visit on {date} "
    "at {time}: {manage_link}",
    Kind.POST_CARE: "{clinic_name}: Thank you for visiting, {first_name}. Your aftercare instructions: "
    "{manage_link} Questions? Call {clinic_phone}.",
    Kind.CONSENT_LINK: "{clinic_name}: Hi {first_name}, please review and sign your forms before your visit: {link}",
    Kind.DOUBLE_OPT_IN: "{clinic_name}: You're subscribed to {program} by text. " + FREQUENCY_TEXT + " "
    "Reply HELP for help, STOP to opt out.",
    Kind.HELP_REPLY: "{clinic_name}: "
    + PROGRAM_TEXT
    + ". Help: call {clinic_phone} or visit {clinic_website}. "
    + FREQUENCY_TEXT
    + " Reply STOP to opt out.",
    Kind.OPT_OUT_CONFIRMATION: "{clinic_name}: You're unsubscribed and will get no more texts from us. "
    "Reply START to resubscribe.",
    Kind.OPT_IN_CONFIRMATION: "{clinic_name}: You're resubscribed to " + PROGRAM_TEXT + ". " + FREQUENCY_TEXT + " "
    "Reply HELP for help, STOP to opt out.",
    Kind.APPOINTMENT_CONFIRMED: "{clinic_name}: Thanks {first_name}, your appointment on {date} at {time} "
    "is confirmed.",
    Kind.STAFF_REPLY: "",  # typed by staff
    Kind.CAMPAIGN: "",  # each campaign's own text
    Kind.PAY_LINK: "{clinic_name}: Hi {first_name}, your balance of {amount} can be paid securely here: {link}",
}

# Replies that carry their own STOP/START wording (and the opt-out confirmation must not
# invite another STOP): no hint appended.
NO_HINT_KINDS = frozenset({Kind.HELP_REPLY, Kind.OPT_OUT_CONFIRMATION, Kind.OPT_IN_CONFIRMATION, Kind.DOUBLE_OPT_IN})


class UnknownPlaceholder(ValueError):
    pass


def placeholders_in(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def validate_template(text: str) -> None:
    """Raise UnknownPlaceholder (with a message for the form) for a typo like {firstname}."""
    try:
        fields = [(name, spec, conversion) for _, name, spec, conversion in string.Formatter().parse(text) if name]
    except ValueError as exc:
        raise UnknownPlaceholder("Unbalanced braces: write placeholders like {first_name}.") from exc
    names = {name for name, _, _ in fields}
    unknown = names - set(PLACEHOLDERS)
    if unknown:
        raise UnknownPlaceholder(f"Unknown placeholder(s): {', '.join(sorted('{' + n + '}' for n in unknown))}.")
    # A format spec or conversion would quote the value ("{first_name!r}"), pad it to gigabytes
    # ("{first_name:>9999999999}") or fail at send time ("{first_name:d}").
    formatted = sorted({"{" + name + "}" for name, spec, conversion in fields if spec or conversion})
    if formatted:
        raise UnknownPlaceholder(f"Write placeholders plainly, like {formatted[0]}: no ':' or '!' inside the braces.")


class _Blank(dict):
    def __missing__(self, key):
        return ""


def clinic_context() -> dict:
    return {
        "clinic_name": settings.CLINIC_NAME,
        "clinic_phone": settings.CLINIC_PHONE,
        "clinic_website": settings.CLINIC_WEBSITE,
        "program": PROGRAM_TEXT,
    }


def template_text(kind: str) -> str:
    override = MessageTemplate.objects.filter(kind=kind).values_list("body", flat=True).first()
    return override or DEFAULT_TEMPLATES[kind]


def render(kind: str, context: dict, *, template: str | None = None, literal: str | None = None) -> str:
    """The body for one message plus the opt-out hint. `template` replaces the kind's wording
    (campaigns); `literal` is sent as typed (staff replies: braces are not placeholders there)."""
    if literal is not None:
        body = literal
    else:
        values = _Blank(clinic_context())
        values.update({k: ("" if v is None else str(v)) for k, v in context.items()})
        body = string.Formatter().vformat(template or template_text(kind), (), values)
    body = " ".join(body.split())
    if kind not in NO_HINT_KINDS and "reply stop" not in body.casefold():
        body = f"{body} {OPT_OUT_HINT}"
    return body
