"""Children's privacy (§11): services are not directed to people under 18; a minor's record needs a
guardian and a guardian consent before any booking, and the portal refuses self-booking under 18.

Scheduling calls `assert_booking_allowed(patient)` before it books; portal sign-up calls
`may_self_book(date_of_birth)` before it creates a record."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from privacy import events
from privacy.models import Guardian, GuardianConsent, PrivacyEvent

ADULT_AGE = 18


class MinorNeedsGuardianConsent(Exception):
    """Booking refused: under 18 without a recorded guardian consent (§11)."""

    clause = "§11: We do not knowingly collect information from minors without appropriate legal consent."

    def __init__(self):
        super().__init__(self.clause)


def age_on(date_of_birth: dt.date, today: dt.date) -> int:
    return today.year - date_of_birth.year - ((today.month, today.day) < (date_of_birth.month, date_of_birth.day))


def is_minor(date_of_birth: dt.date, today: dt.date | None = None) -> bool:
    return age_on(date_of_birth, today or timezone.localdate()) < ADULT_AGE


def may_self_book(date_of_birth: dt.date, today: dt.date | None = None) -> bool:
    """May this person book for themself through the portal? Only adults."""
    return not is_minor(date_of_birth, today)


def has_guardian_consent(patient) -> bool:
    return patient.guardian_consents.filter(revoked_at__isnull=True).exists()


def assert_booking_allowed(patient, today: dt.date | None = None) -> None:
    """Raise MinorNeedsGuardianConsent for an under-18 record without a guardian consent."""
    if is_minor(patient.date_of_birth, today) and not has_guardian_consent(patient):
        raise MinorNeedsGuardianConsent()


@transaction.atomic
def record_guardian_consent(
    *,
    patient,
    full_name: str,
    relationship: str,
    consent_text: str,
    recorded_by,
    method: str = "in_person",
    email: str = "",
    mobile_phone: str = "",
) -> GuardianConsent:
    if not full_name.strip() or not relationship.strip() or not consent_text.strip():
        raise ValidationError("Guardian name, relationship and the consent text are required.")
    guardian = Guardian.objects.create(
        patient=patient,
        full_name=full_name.strip(),
        relationship=relationship.strip(),
        email=email,
        mobile_phone=mobile_phone,
    )
    consent = GuardianConsent.objects.create(
        patient=patient, guardian=guardian, method=method, consent_text=consent_text.strip(), recorded_by=recorded_by
    )
    events.record(
        PrivacyEvent.Kind.GUARDIAN_CONSENT, patient=patient, user=recorded_by, detail=f"guardian consent #{consent.pk}"
    )
    return consent
