"""Reads of consent records: SMS consent state (policy §4) and signed consents (§2B)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from cinrella import crypto
from consents.models import (
    ConsentKind,
    ConsentRevocation,
    ConsentSignature,
    ConsentTemplate,
    ConsentTemplateVersion,
    PhoneVerification,
    SmsConsentEvent,
    SmsPurpose,
)

# --- SMS consent ledger ---------------------------------------------------------------------------


def phone_digest(phone: str) -> str | None:
    e164 = crypto.normalise_phone(phone) if phone else None
    return crypto.blind_index("phone", e164) if e164 else None


def latest_sms_consent(phone: str, purpose: str) -> SmsConsentEvent | None:
    """The event that decides the current state for this phone and purpose (None: never asked)."""
    digest = phone_digest(phone)
    if digest is None:
        return None
    return (
        SmsConsentEvent.objects.filter(
            phone_bidx=digest,
            purpose=purpose,
            action__in=[SmsConsentEvent.Action.OPT_IN, SmsConsentEvent.Action.OPT_OUT],
        )
        .select_related("staff_user")
        .order_by("-occurred_at", "-id")
        .first()
    )


def latest_sms_consents(phone: str) -> dict[str, SmsConsentEvent]:
    """`latest_sms_consent` for every purpose at once, in one query: {purpose: deciding event}.
    A purpose never asked about is absent."""
    digest = phone_digest(phone)
    if digest is None:
        return {}
    events = (
        SmsConsentEvent.objects.filter(
            phone_bidx=digest,
            action__in=[SmsConsentEvent.Action.OPT_IN, SmsConsentEvent.Action.OPT_OUT],
        )
        .select_related("staff_user")
        .order_by("purpose", "-occurred_at", "-id")
        .distinct("purpose")
    )
    return {event.purpose: event for event in events}


def sms_opted_out_of_everything(phone: str) -> bool:
    """Every purpose's latest event is an opt-out (a second STOP gets no second confirmation).

    The same deciding events as `latest_sms_consents`, but only their purpose and action are read:
    no join, no decryption (the inbound webhook asks this on every STOP)."""
    digest = phone_digest(phone)
    if digest is None:
        return False
    latest = dict(
        SmsConsentEvent.objects.filter(
            phone_bidx=digest,
            action__in=[SmsConsentEvent.Action.OPT_IN, SmsConsentEvent.Action.OPT_OUT],
        )
        .order_by("purpose", "-occurred_at", "-id")
        .distinct("purpose")
        .values_list("purpose", "action")
    )
    return all(latest.get(purpose) == SmsConsentEvent.Action.OPT_OUT for purpose in SmsPurpose)


_STATE_ACTIONS = [SmsConsentEvent.Action.OPT_IN, SmsConsentEvent.Action.OPT_OUT, SmsConsentEvent.Action.PENDING]


def sms_states(phone: str) -> dict[str, SmsConsentEvent]:
    """{purpose: latest opt_in, opt_out or pending event} in one query. A pending event is recorded
    only while a number has no consent state at all, so it never hides an opt-in or an opt-out."""
    digest = phone_digest(phone)
    if digest is None:
        return {}
    events = (
        SmsConsentEvent.objects.filter(phone_bidx=digest, action__in=_STATE_ACTIONS)
        .order_by("purpose", "-occurred_at", "-id")
        .distinct("purpose")
    )
    return {event.purpose: event for event in events}


def number_verified_for(phone: str, patient) -> bool:
    """The patient has proven they hold this number (a code entered, or YES from the number to a
    request made for their record)."""
    digest = phone_digest(phone)
    if digest is None or patient is None or patient.pk is None:
        return False
    return PhoneVerification.objects.filter(phone_bidx=digest, patient=patient).exists()


def sms_opted_in(phone: str, purpose: str) -> bool:
    latest = latest_sms_consent(phone, purpose)
    return latest is not None and latest.action == SmsConsentEvent.Action.OPT_IN


def sms_consent_history(phone: str):
    digest = phone_digest(phone)
    if digest is None:
        return SmsConsentEvent.objects.none()
    return SmsConsentEvent.objects.filter(phone_bidx=digest).order_by("occurred_at", "id")


@dataclass(frozen=True)
class SmsStatus:
    purpose: str
    label: str
    opted_in: bool
    latest: SmsConsentEvent | None
    pending: SmsConsentEvent | None = None  # a web form's opt-in waiting for YES from the number


def sms_status(phone: str) -> list[SmsStatus]:
    """Current state per purpose with the event that decided it (for the staff and patient pages)."""
    statuses = []
    states = sms_states(phone) if phone else {}
    for purpose in SmsPurpose:
        state = states.get(purpose.value)
        pending = state if state is not None and state.action == SmsConsentEvent.Action.PENDING else None
        latest = None if pending else state
        statuses.append(
            SmsStatus(
                purpose=purpose.value,
                label=purpose.label,
                opted_in=latest is not None and latest.action == SmsConsentEvent.Action.OPT_IN,
                latest=latest,
                pending=pending,
            )
        )
    return statuses


# --- consent templates and signatures ------------------------------------------------------------


def render_consent_text(version: ConsentTemplateVersion) -> str:
    """The exact text a patient sees and signs for this version. Deterministic: the same version
    always renders the same text, so its SHA-256 proves what was signed."""
    return f"{version.template.title}\nVersion {version.number}\n\n{version.body.strip()}\n"


def rendered_text_sha256(version: ConsentTemplateVersion) -> str:
    return hashlib.sha256(render_consent_text(version).encode("utf-8")).hexdigest()


def current_version(template: ConsentTemplate) -> ConsentTemplateVersion | None:
    return template.versions.order_by("-number").first()


def _not_revoked_at(at):
    revoked = ConsentRevocation.objects.filter(signature=OuterRef("pk"), revoked_at__lte=at)
    return ~Exists(revoked)


def valid_signatures(*, at=None) -> QuerySet[ConsentSignature]:
    """Signatures in force at `at` (default now): signed, not expired, not revoked."""
    at = at or timezone.now()
    return ConsentSignature.objects.filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=at), _not_revoked_at(at), signed_at__lte=at
    )


def valid_signature_for(patient, template: ConsentTemplate, *, at=None) -> ConsentSignature | None:
    """The patient's newest signature of any version of this template still in force."""
    return (
        valid_signatures(at=at)
        .filter(patient=patient, template_version__template=template)
        .order_by("-signed_at", "-id")
        .first()
    )


def valid_signatures_by_template(patient, templates, *, at=None) -> dict[int, ConsentSignature]:
    """template id → the patient's newest signature in force, for many templates in one query."""
    newest: dict[int, ConsentSignature] = {}
    signatures = (
        valid_signatures(at=at)
        .filter(patient=patient, template_version__template__in=list(templates))
        .select_related("template_version")
        .order_by("-signed_at", "-id")
    )
    for signature in signatures:
        newest.setdefault(signature.template_version.template_id, signature)
    return newest


def has_valid_consent_of_kind(patient, kind: str, *, at=None) -> bool:
    if patient is None or patient.pk is None:
        return False
    return valid_signatures(at=at).filter(patient=patient, template_version__template__kind=kind).exists()


def patient_signatures(patient) -> QuerySet[ConsentSignature]:
    return (
        ConsentSignature.objects.filter(patient=patient)
        .select_related("template_version__template", "revocation", "staff_user")
        .order_by("-signed_at", "-id")
    )


def marketing_photo_patients(*, at=None):
    """Patients whose photos may be used in marketing right now (valid photo-marketing consent)."""
    from patients.models import Patient

    signed = valid_signatures(at=at).filter(
        patient=OuterRef("pk"), template_version__template__kind=ConsentKind.PHOTO_MARKETING
    )
    return Patient.objects.filter(Exists(signed))


def photos_for_marketing(photos: QuerySet, *, at=None) -> QuerySet:
    """Narrow any queryset of photos (rows with a `patient` foreign key, e.g. patients.PatientPhoto)
    to those whose patient holds a photo-marketing consent in force: a revocation removes them
    from the very next query (§2B)."""
    return photos.filter(patient__in=marketing_photo_patients(at=at).values("pk"))


@dataclass(frozen=True)
class MissingConsent:
    template: ConsentTemplate
    reason: str  # "missing", "expired" or "revoked"

    @property
    def label(self) -> str:
        return f"{self.template.title} ({self.reason})"


def required_templates(service) -> list[ConsentTemplate]:
    return list(service.required_consent_templates.filter(active=True).order_by("title"))


def missing_consents(appointment, *, at=None) -> list[MissingConsent]:
    """Required consents of the appointment's service that its patient has no valid signature
    for right now: never signed, expired, or revoked."""
    at = at or timezone.now()
    templates = required_templates(appointment.service)
    if not templates:
        return []
    signatures = list(
        ConsentSignature.objects.filter(
            patient_id=appointment.patient_id, template_version__template__in=templates, signed_at__lte=at
        )
        .select_related("template_version", "revocation")
        .order_by("-signed_at", "-id")
    )
    missing = []
    for template in templates:
        own = [s for s in signatures if s.template_version.template_id == template.pk]
        if any(_in_force(s, at) for s in own):
            continue
        if not own:
            reason = "missing"
        elif _revoked(own[0], at):
            reason = "revoked"
        else:
            reason = "expired"
        missing.append(MissingConsent(template=template, reason=reason))
    return missing


def _revoked(signature: ConsentSignature, at) -> bool:
    try:
        revocation = signature.revocation
    except ConsentRevocation.DoesNotExist:
        return False
    return revocation.revoked_at <= at


def _in_force(signature: ConsentSignature, at) -> bool:
    return (signature.expires_at is None or signature.expires_at > at) and not _revoked(signature, at)


__all__ = [
    "SmsPurpose",
    "latest_sms_consent",
    "latest_sms_consents",
    "sms_opted_in",
    "sms_consent_history",
    "phone_digest",
    "sms_opted_out_of_everything",
    "sms_status",
    "missing_consents",
    "photos_for_marketing",
]
