"""Message wording: built-in defaults, manager overrides (MessageTemplate) and placeholders.

Defaults carry the minimum (§5): a first name, a date, a time, a location — never a treatment
name or a health detail. `{instructions}` exists for pre/post-care templates but is not in the
defaults: a manager who adds it chooses to send the service's instruction text."""

import re
import string

from django.conf import settings

from messaging.models import Kind, MessageTemplate
from patients.names import name_for_text
from privacy import content

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
    "frequency": "How often marketing texts come (marketing confirmation)",
}

PROGRAM_TEXT = "appointment reminders, confirmations and care instructions"
FREQUENCY_TEXT = "Msg frequency varies. Msg & data rates may apply."
MARKETING_PROGRAM_TEXT = "offers and news"

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
    Kind.HELP_REPLY: "{clinic_name}: we text {program}. For help, call {clinic_phone} or visit {clinic_website}. "
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
    # Fixed wording, no name and nothing typed on the form: it goes to a number nobody has yet
    # shown to own (issue 17).
    Kind.OPT_IN_REQUEST: "{clinic_name}: Reply YES to get {program} by text from {clinic_name}. "
    + FREQUENCY_TEXT
    + " Reply HELP for help, STOP to opt out. Didn't ask? Ignore this text.",
    # The first marketing text: program, frequency, rates, HELP and STOP (CTIA; issue 17).
    Kind.MARKETING_CONFIRMATION: "{clinic_name}: You're subscribed to {program} by text. {frequency} "
    "Msg & data rates may apply. Reply HELP for help, STOP to opt out.",
    Kind.CANCEL_REQUEST_RECEIVED: "{clinic_name}: We've told the front desk you'd like to cancel your visit on "
    "{date} at {time}. They will confirm, or call {location_phone}. To stop all texts, reply STOP.",
    Kind.PHONE_CODE: "",  # the code, sent as given
}

# Replies that carry their own STOP/START wording (and the opt-out confirmation must not
# invite another STOP): no hint appended.
NO_HINT_KINDS = frozenset(
    {
        Kind.HELP_REPLY,
        Kind.OPT_OUT_CONFIRMATION,
        Kind.OPT_IN_CONFIRMATION,
        Kind.DOUBLE_OPT_IN,
        Kind.OPT_IN_REQUEST,
        Kind.MARKETING_CONFIRMATION,
    }
)


class InvalidTemplate(ValueError):
    """The wording cannot be saved; the message says why, for the form."""


# What each kind's message knows when it is written: a placeholder outside its set would be sent
# blank ("{amount}" in a reminder). The clinic's details and the program text are always known.
CLINIC_PLACEHOLDERS = frozenset({"clinic_name", "clinic_phone", "clinic_website", "program"})
_APPOINTMENT = CLINIC_PLACEHOLDERS | {"first_name", "date", "time", "location", "location_phone", "manage_link"}
PLACEHOLDERS_BY_KIND = {
    Kind.BOOKING_CONFIRMATION: _APPOINTMENT,
    Kind.RESCHEDULE_NOTICE: _APPOINTMENT,
    Kind.CANCEL_NOTICE: _APPOINTMENT,
    Kind.REMINDER: _APPOINTMENT,
    Kind.APPOINTMENT_CONFIRMED: _APPOINTMENT,
    Kind.PRE_CARE: _APPOINTMENT | {"instructions"},
    Kind.POST_CARE: _APPOINTMENT | {"instructions"},
    Kind.CONSENT_LINK: CLINIC_PLACEHOLDERS | {"first_name", "link"},
    Kind.PAY_LINK: CLINIC_PLACEHOLDERS | {"first_name", "link", "amount"},
    Kind.DOUBLE_OPT_IN: CLINIC_PLACEHOLDERS,
    Kind.HELP_REPLY: CLINIC_PLACEHOLDERS,
    Kind.OPT_OUT_CONFIRMATION: CLINIC_PLACEHOLDERS,
    Kind.OPT_IN_CONFIRMATION: CLINIC_PLACEHOLDERS,
    # A campaign goes to many patients, none through an appointment or a link of their own.
    Kind.CAMPAIGN: frozenset({"first_name", "clinic_name", "clinic_phone", "clinic_website"}),
    Kind.OPT_IN_REQUEST: CLINIC_PLACEHOLDERS,
    Kind.MARKETING_CONFIRMATION: CLINIC_PLACEHOLDERS | {"frequency"},
    Kind.CANCEL_REQUEST_RECEIVED: _APPOINTMENT,
}


def _placeholder(name: str):
    return lambda text, names: name in names


def _words(pattern: str):
    compiled = re.compile(pattern, re.IGNORECASE)
    return lambda text, names: compiled.search(text) is not None


_NAMES_THE_CLINIC = ("the clinic's name, {clinic_name}", _placeholder("clinic_name"))
_SAYS_HOW_TO_STOP = ("how to opt out (Reply STOP)", _words(r"\bSTOP\b"))
_SAYS_HOW_TO_GET_HELP = ("how to get help (Reply HELP)", _words(r"\bHELP\b"))
_SAYS_RATES_MAY_APPLY = ("that message and data rates may apply", _words(r"\brates may apply\b"))
_SAYS_FREQUENCY = ("that message frequency varies", _words(r"\bfrequency varies\b"))

# The replies carriers audit (DESIGN.md §5: the HELP reply names the clinic, its phone, the
# frequency and rates, STOP/HELP; confirmations name the program's sender and the way out). A
# manager may reword them, not drop these parts.
REQUIRED_WORDING = {
    Kind.HELP_REPLY: [
        _NAMES_THE_CLINIC,
        ("the clinic's phone number, {clinic_phone}", _placeholder("clinic_phone")),
        _SAYS_FREQUENCY,
        _SAYS_RATES_MAY_APPLY,
        _SAYS_HOW_TO_STOP,
    ],
    Kind.DOUBLE_OPT_IN: [
        _NAMES_THE_CLINIC,
        ("what they subscribed to, {program}", _placeholder("program")),
        _SAYS_FREQUENCY,
        _SAYS_RATES_MAY_APPLY,
        _SAYS_HOW_TO_GET_HELP,
        _SAYS_HOW_TO_STOP,
    ],
    Kind.OPT_IN_CONFIRMATION: [_NAMES_THE_CLINIC, _SAYS_HOW_TO_GET_HELP, _SAYS_HOW_TO_STOP],
    Kind.OPT_OUT_CONFIRMATION: [_NAMES_THE_CLINIC],
    Kind.OPT_IN_REQUEST: [
        _NAMES_THE_CLINIC,
        ("what they would get, {program}", _placeholder("program")),
        ("how to accept (Reply YES)", _words(r"\bYES\b")),
        _SAYS_RATES_MAY_APPLY,
        _SAYS_HOW_TO_GET_HELP,
        _SAYS_HOW_TO_STOP,
    ],
    Kind.MARKETING_CONFIRMATION: [
        _NAMES_THE_CLINIC,
        ("the program, {program}", _placeholder("program")),
        ("how often, {frequency}", _placeholder("frequency")),
        _SAYS_RATES_MAY_APPLY,
        _SAYS_HOW_TO_GET_HELP,
        _SAYS_HOW_TO_STOP,
    ],
}


def placeholders_in(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def validate_template(text: str, *, kind: str | None = None) -> None:
    """Raise InvalidTemplate (with a message for the form) for a typo like {firstname}, a
    placeholder this kind of message cannot fill, or a compliance reply missing required wording.
    Without `kind`, only the placeholder names and their plain form are checked."""
    try:
        fields = [(name, spec, conversion) for _, name, spec, conversion in string.Formatter().parse(text) if name]
    except ValueError as exc:
        raise InvalidTemplate("Unbalanced braces: write placeholders like {first_name}.") from exc
    names = {name for name, _, _ in fields}
    unknown = names - set(PLACEHOLDERS)
    if unknown:
        raise InvalidTemplate(f"Unknown placeholder(s): {', '.join(sorted('{' + n + '}' for n in unknown))}.")
    # A format spec or conversion would quote the value ("{first_name!r}"), pad it to gigabytes
    # ("{first_name:>9999999999}") or fail at send time ("{first_name:d}").
    formatted = sorted({"{" + name + "}" for name, spec, conversion in fields if spec or conversion})
    if formatted:
        raise InvalidTemplate(f"Write placeholders plainly, like {formatted[0]}: no ':' or '!' inside the braces.")
    if kind is not None:
        _check_kind_rules(text, names, Kind(kind))
        if Kind(kind) != Kind.CAMPAIGN:
            check_health_terms(text, kind=kind)


def check_health_terms(text: str, *, kind: str, audience_service: str = "") -> None:
    """No treatment or product names in message wording (DESIGN.md §5 "bodies carry the minimum"):
    a reminder or confirmation read over someone's shoulder must not say what they have done.
    Marketing may name the treatment its audience was chosen by (policy §3/§4: nothing beyond
    what the selection already implies), never another one."""
    allowed = audience_service if Kind(kind) == Kind.CAMPAIGN else ""
    found = content.terms_outside(text, allowed_service=allowed)
    if not found:
        return
    names = ", ".join(f"“{name}”" for name in found)
    if Kind(kind) == Kind.CAMPAIGN and audience_service:
        raise InvalidTemplate(
            f"This campaign goes to patients who had {audience_service}: it may not name {names} "
            "(a treatment they were not selected by)."
        )
    if Kind(kind) == Kind.CAMPAIGN:
        raise InvalidTemplate(
            f"Treatment names ({names}) may only go to an audience chosen by that treatment: pick it under "
            "“Had this service”, or leave the name out."
        )
    raise InvalidTemplate(f"Message wording may not name treatments or products ({names}).")


def check_marketing_text(text: str, *, audience_service: str = "") -> None:
    """Every marketing text names the clinic and says how to opt out; treatment names only to an
    audience chosen by that treatment (issue 17). `text` is the wording a manager typed."""
    names_clinic = "clinic_name" in placeholders_in(text) or settings.CLINIC_NAME.casefold() in text.casefold()
    if not names_clinic:
        raise InvalidTemplate(
            f"A marketing text must name the clinic: add {{clinic_name}} (it reads “{settings.CLINIC_NAME}”)."
        )
    check_health_terms(text, kind=Kind.CAMPAIGN, audience_service=audience_service)
    rendered = render(Kind.CAMPAIGN, {"first_name": "Ana"}, template=text)
    if "stop" not in rendered.casefold():
        raise InvalidTemplate("A marketing text must say how to opt out (Reply STOP to opt out).")


def placeholders_for(kind: str) -> dict[str, str]:
    """The placeholders a message of this kind can fill, with their descriptions (for the editor)."""
    allowed = PLACEHOLDERS_BY_KIND.get(Kind(kind), set(PLACEHOLDERS))
    return {name: help_text for name, help_text in PLACEHOLDERS.items() if name in allowed}


def required_wording(kind: str) -> list[str]:
    """What a manager's rewording of this reply must keep, as the editor lists it."""
    return [label for label, _ in REQUIRED_WORDING.get(Kind(kind), [])]


def _check_kind_rules(text: str, names: set[str], kind: Kind) -> None:
    allowed = PLACEHOLDERS_BY_KIND.get(kind, set(PLACEHOLDERS))
    blank = sorted(names - allowed)
    if blank:
        listed = ", ".join("{" + n + "}" for n in blank)
        raise InvalidTemplate(f"{listed} would be sent blank: this message ({kind.label}) has no value for it.")
    missing = [label for label, present in REQUIRED_WORDING.get(kind, []) if not present(text, names)]
    if missing:
        raise InvalidTemplate(f"This reply must keep {'; '.join(missing)}.")


class _Blank(dict):
    def __missing__(self, key):
        return ""


def clinic_context() -> dict:
    return {
        "clinic_name": settings.CLINIC_NAME,
        "clinic_phone": settings.CLINIC_PHONE,
        "clinic_website": settings.CLINIC_WEBSITE,
        "program": PROGRAM_TEXT,
        "frequency": getattr(settings, "SMS_MARKETING_FREQUENCY", "Up to 4 msgs/month."),
    }


_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([,.:;!?])")
_DOUBLED_PUNCTUATION = re.compile(r"[,:;](?=[,.:;!?])")


def _tidy(body: str) -> str:
    """A greeting whose name was left out reads as a sentence: "Hi , you're" → "Hi, you're",
    "Reminder, : your" → "Reminder: your"."""
    return _DOUBLED_PUNCTUATION.sub("", _SPACE_BEFORE_PUNCTUATION.sub(r"\1", body))


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
        # The name was typed by the public (the booking form): only what a name can be goes out.
        values["first_name"] = name_for_text(values.get("first_name", ""))
        body = _tidy(string.Formatter().vformat(template or template_text(kind), (), values))
    body = " ".join(body.split())
    if kind not in NO_HINT_KINDS and "reply stop" not in body.casefold():
        body = f"{body} {OPT_OUT_HINT}"
    return body
