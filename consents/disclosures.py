"""The canonical SMS opt-in disclosures (DESIGN.md §5, policy §4).

The booking portal, the preferences page and the staff verbal-consent form all show these exact
words, and the ledger stores the text and version the person agreed to. Changing a word means a
new DISCLOSURE_VERSION, so older ledger events keep proving what was shown at the time."""

from django.conf import settings

from consents.models import SmsPurpose

DISCLOSURE_VERSION = "2026-11-01"
PRIVACY_POLICY_PATH = "/privacy/"

RATES_AND_KEYWORDS = "Message frequency varies. Message and data rates may apply. Reply STOP to opt out, HELP for help."


def privacy_policy_url() -> str:
    return f"https://{settings.CLINIC_WEBSITE}{PRIVACY_POLICY_PATH}"


def transactional_disclosure() -> str:
    return (
        f"Yes, text me at this number. {settings.CLINIC_NAME} will send appointment confirmations, "
        f"reminders and pre- and post-treatment care instructions by SMS. {RATES_AND_KEYWORDS} "
        f"Privacy policy: {privacy_policy_url()}"
    )


def marketing_disclosure() -> str:
    return (
        f"Yes, send me offers and news by text. {settings.CLINIC_NAME} will send promotional messages "
        f"(specials, events, new treatments) to this number. Consent is not a condition of purchase. "
        f"{RATES_AND_KEYWORDS} Privacy policy: {privacy_policy_url()}"
    )


def disclosure_for(purpose: str) -> str:
    return marketing_disclosure() if purpose == SmsPurpose.MARKETING else transactional_disclosure()


def double_opt_in_confirmation(purposes) -> str:
    """The one confirmation text sent after a portal opt-in (messaging queues it)."""
    programs = " and ".join(
        "offers and news" if p == SmsPurpose.MARKETING else "appointment reminders and care instructions"
        for p in purposes
    )
    return (
        f"{settings.CLINIC_NAME}: you are subscribed to {programs} by text. {RATES_AND_KEYWORDS} "
        f"Call {settings.CLINIC_PHONE} or visit {settings.CLINIC_WEBSITE}."
    )
