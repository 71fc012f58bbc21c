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

from appointments.models import Appointment, BookingRequest
from consents import disclosures
from consents.services import record_portal_sms_choices
from privacy import selectors as privacy_selectors
from privacy.policy_versions import record_policy_acceptance

# One source for the texts: what the portal shows is exactly what the SMS consent ledger records
# (consents.disclosures), and the policy version is the one the privacy app serves at /privacy/.
DISCLOSURE_VERSION = disclosures.DISCLOSURE_VERSION
PRIVACY_POLICY_URL = "/privacy/"


def current_policy_version() -> str:
    version = privacy_selectors.current_policy_version()
    return str(version.number) if version else ""


def transactional_disclosure() -> str:
    return disclosures.transactional_disclosure()


def marketing_disclosure() -> str:
    return disclosures.marketing_disclosure()


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


def record_portal_consents(
    *,
    appointment: Appointment,
    choices: PortalConsentChoices,
    request=None,
    identity: str = BookingRequest.Identity.NEW_PATIENT,
) -> BookingRequest:
    """Record what the patient chose on the consents step, inside the booking transaction:
    the raw choices on a BookingRequest row and, for a patient whose identity is not in doubt, the
    SMS choices (consents: an opt-in, or a pending one with its "Reply YES" request, under the
    phone-ownership rules) and the privacy-policy acceptance with the version shown (privacy).
    A booking that only matched an existing record (`identity=UNPROVEN_MATCH`) records neither on
    her record: the row keeps them for the front desk (appointments.portal_booking)."""
    if identity != BookingRequest.Identity.UNPROVEN_MATCH:
        record_portal_sms_choices(
            phone=choices.sms_phone,
            transactional=choices.sms_transactional,
            marketing=choices.sms_marketing,
            request=request,
            patient=appointment.patient,
        )
        version = privacy_selectors.current_policy_version()
        if choices.privacy_policy_acknowledged and version is not None:
            record_policy_acceptance(appointment.patient, version, request, context="booking")
    return BookingRequest.objects.create(
        appointment=appointment,
        identity=identity,
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
