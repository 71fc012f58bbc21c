"""The consent step of the booking portal: disclosure texts, versions, and where choices go.

!!! WIRING POINT — read before changing !!!
`record_portal_consents` is the ONE place the portal hands over a patient's SMS choices and privacy
policy acknowledgement. Today it stores the raw choices (with the exact disclosure texts, their
version, the policy version, IP, user agent and page URL) on `appointments.BookingRequest`, one row
per booking. It does NOT yet write the SMS consent ledger (consents app, DESIGN.md §5) nor the
policy-acceptance record (privacy app, §12): those apps add their calls inside this function, in
the same transaction as the booking. Until then no SMS may be sent on the strength of a portal
opt-in except by reading BookingRequest.

The texts follow DESIGN.md §5 and the privacy policy §4: never pre-checked, clinic name, what
messages, frequency and rates, STOP/HELP, a link to the policy, and for marketing "Consent is not a
condition of purchase."
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from appointments.models import Appointment, BookingRequest

# Bump when a text below changes: the version is recorded with every choice.
DISCLOSURE_VERSION = "2026-11-portal-1"
# Placeholder until the privacy app serves versioned policies (§12): the privacy app replaces
# `current_policy_version()` with a lookup of its current PolicyVersion.
CURRENT_POLICY_VERSION = "2026-01"

PRIVACY_POLICY_URL = "/privacy/"
PRIVACY_LINK_SENTENCE = "See our Privacy Policy."


def current_policy_version() -> str:
    return CURRENT_POLICY_VERSION


def transactional_disclosure() -> str:
    return (
        f"Yes, text me about my appointments at {settings.CLINIC_NAME}: confirmations, reminders, changes "
        "and care instructions. Message frequency varies. Message and data rates may apply. "
        "Reply STOP to opt out, HELP for help. " + PRIVACY_LINK_SENTENCE
    )


def marketing_disclosure() -> str:
    return (
        f"Yes, send me offers and news from {settings.CLINIC_NAME} by text. Consent is not a condition of "
        "purchase. Message frequency varies. Message and data rates may apply. Reply STOP to opt out, "
        "HELP for help. " + PRIVACY_LINK_SENTENCE
    )


@dataclass(frozen=True)
class PortalConsentChoices:
    sms_transactional: bool
    sms_marketing: bool
    sms_phone: str  # E.164 or "" when no mobile was given
    privacy_policy_acknowledged: bool
    privacy_policy_version: str
    ip_address: str | None
    user_agent: str
    page_url: str


def record_portal_consents(*, appointment: Appointment, choices: PortalConsentChoices) -> BookingRequest:
    """Record what the patient chose on the consents step (see the module docstring).

    Called by the portal inside the booking transaction."""
    return BookingRequest.objects.create(
        appointment=appointment,
        sms_transactional=choices.sms_transactional,
        sms_marketing=choices.sms_marketing,
        sms_phone=choices.sms_phone,
        transactional_disclosure=transactional_disclosure(),
        marketing_disclosure=marketing_disclosure(),
        disclosure_version=DISCLOSURE_VERSION,
        privacy_policy_version=choices.privacy_policy_version,
        privacy_policy_acknowledged=choices.privacy_policy_acknowledged,
        ip_address=choices.ip_address,
        user_agent=choices.user_agent[:300],
        page_url=choices.page_url[:300],
    )
