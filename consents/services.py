"""Writes to consent records. Keyword-only, one transaction each; the rows are the audit trail
(every consent table is append-only at the database)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import io

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from cinrella import crypto
from cinrella.request_meta import client_ip, user_agent
from consents import disclosures, selectors
from consents.models import (
    ConsentRevocation,
    ConsentSignature,
    ConsentTemplate,
    ConsentTemplateVersion,
    SmsConsentEvent,
    SmsPurpose,
)
from consents.signals import consent_revoked, sms_opt_in_recorded


class InvalidConsentPhone(ValueError):
    pass


class ConsentError(ValueError):
    """A consent action that cannot be done; the message is safe to show (no PHI)."""


class ConsentsMissing(Exception):
    """An appointment's service needs consents its patient has not validly signed."""

    def __init__(self, missing):
        self.missing = list(missing)
        names = ", ".join(m.label for m in self.missing)
        super().__init__(f"Consent required before this visit can be completed: {names}.")


# --- SMS consent ledger ---------------------------------------------------------------------------


def record_sms_consent_event(*, purpose: str, **details) -> SmsConsentEvent:
    """Append one event to the SMS consent ledger. `request` supplies IP, user agent and page URL."""
    return record_sms_consent_events(purposes=[purpose], **details)[0]


def record_sms_consent_events(
    *,
    purposes,
    phone: str,
    action: str,
    source: str,
    disclosure_text: str = "",
    disclosure_version: str = "",
    request=None,
    page_url: str = "",
    staff_user=None,
    note: str = "",
    inbound_message_sid: str = "",
    patient=None,
    patient_id=None,
    occurred_at=None,
) -> list[SmsConsentEvent]:
    """The same event for several purposes (a STOP ends them all), in one INSERT.

    Pass `patient_id` when only the id is at hand, so no patient row is loaded (and decrypted) just
    to be referenced. A single statement is atomic on its own: no savepoint needed."""
    e164 = crypto.normalise_phone(phone)
    if e164 is None:
        raise InvalidConsentPhone("Not a valid mobile number.")
    if source == SmsConsentEvent.Source.STAFF_VERBAL and (staff_user is None or not note.strip()):
        raise ValueError("A verbal consent or opt-out recorded by staff needs the staff user and a note.")
    common = {
        "phone": e164,
        "phone_bidx": crypto.blind_index("phone", e164),
        "action": action,
        "source": source,
        "disclosure_text": disclosure_text,
        "disclosure_version": disclosure_version,
        "occurred_at": occurred_at or timezone.now(),
        "ip_address": client_ip(request) if request is not None else None,
        "user_agent": user_agent(request) if request is not None else "",
        "page_url": (page_url or (request.build_absolute_uri(request.path) if request is not None else ""))[:300],
        "staff_user": staff_user,
        "note": note,
        "inbound_message_sid": inbound_message_sid,
    }
    if patient is not None:
        common["patient"] = patient
    else:
        common["patient_id"] = patient_id
    return SmsConsentEvent.objects.bulk_create([SmsConsentEvent(purpose=purpose, **common) for purpose in purposes])


def _announce_opt_in(events: list[SmsConsentEvent], *, phone: str, patient) -> None:
    if events:
        sms_opt_in_recorded.send(
            sender=SmsConsentEvent,
            phone=phone,
            purposes=[e.purpose for e in events],
            events=events,
            patient=patient,
        )


@transaction.atomic
def record_portal_sms_choices(
    *, phone: str, transactional: bool, marketing: bool, request, patient=None
) -> list[SmsConsentEvent]:
    """The booking portal's two (never pre-checked) boxes. Records an opt_in with the exact
    disclosure text and version for each box ticked; records nothing for an unticked box (SMS is
    optional, declining is not an event). A phone is needed only when a box is ticked. Sends
    `sms_opt_in_recorded` once so messaging queues one double opt-in confirmation."""
    chosen = [
        p for p, ticked in ((SmsPurpose.TRANSACTIONAL, transactional), (SmsPurpose.MARKETING, marketing)) if ticked
    ]
    if not chosen:
        return []
    e164 = crypto.normalise_phone(phone or "")
    if e164 is None:
        raise InvalidConsentPhone("Enter a valid mobile number to receive text messages.")
    events = [
        record_sms_consent_event(
            phone=e164,
            purpose=purpose,
            action=SmsConsentEvent.Action.OPT_IN,
            source=SmsConsentEvent.Source.PORTAL_FORM,
            disclosure_text=disclosures.disclosure_for(purpose),
            disclosure_version=disclosures.DISCLOSURE_VERSION,
            request=request,
            patient=patient,
        )
        for purpose in chosen
    ]
    _announce_opt_in(events, phone=e164, patient=patient)
    return events


@transaction.atomic
def record_sms_preferences(*, patient, transactional: bool, marketing: bool, request) -> list[SmsConsentEvent]:
    """The patient's own preferences page: records an event only where the choice changed the
    current state (opt_in with the disclosure text, or opt_out)."""
    phone = crypto.normalise_phone(patient.mobile_phone or "")
    if phone is None:
        raise InvalidConsentPhone("There is no valid mobile number on your record; call the clinic to add one.")
    wanted = {SmsPurpose.TRANSACTIONAL: transactional, SmsPurpose.MARKETING: marketing}
    events, opt_ins = [], []
    for purpose, want in wanted.items():
        if selectors.sms_opted_in(phone, purpose) == want:
            continue
        event = record_sms_consent_event(
            phone=phone,
            purpose=purpose,
            action=SmsConsentEvent.Action.OPT_IN if want else SmsConsentEvent.Action.OPT_OUT,
            source=SmsConsentEvent.Source.PORTAL_PREFERENCES,
            disclosure_text=disclosures.disclosure_for(purpose) if want else "Unticked on the preferences page.",
            disclosure_version=disclosures.DISCLOSURE_VERSION if want else "",
            request=request,
            patient=patient,
        )
        events.append(event)
        if want:
            opt_ins.append(event)
    _announce_opt_in(opt_ins, phone=phone, patient=patient)
    return events


@transaction.atomic
def record_verbal_sms_consent(*, patient, purpose: str, action: str, note: str, staff_user, request) -> SmsConsentEvent:
    """Front desk records a verbal opt-in or opt-out. The note is required; for an opt-in the
    disclosure read to the patient is stored with its version."""
    if not (note or "").strip():
        raise ConsentError("A note is required: say who gave the consent or opt-out, and how.")
    opting_in = action == SmsConsentEvent.Action.OPT_IN
    return record_sms_consent_event(
        phone=patient.mobile_phone or "",
        purpose=purpose,
        action=action,
        source=SmsConsentEvent.Source.STAFF_VERBAL,
        disclosure_text=disclosures.disclosure_for(purpose) if opting_in else "Verbal opt-out taken by staff.",
        disclosure_version=disclosures.DISCLOSURE_VERSION if opting_in else "",
        request=request,
        staff_user=staff_user,
        note=note.strip(),
        patient=patient,
    )


# --- consent templates ----------------------------------------------------------------------------


@transaction.atomic
def publish_template_version(*, template: ConsentTemplate, body: str, user=None) -> ConsentTemplateVersion:
    """Publish new words for a template. Old versions and their signatures stay untouched."""
    body = (body or "").strip()
    if not body:
        raise ConsentError("A consent version needs its text.")
    # Lock the template row so two publishers cannot take the same number.
    ConsentTemplate.objects.select_for_update().get(pk=template.pk)
    latest = template.versions.aggregate(n=Max("number"))["n"] or 0
    current = template.versions.filter(number=latest).first()
    if current is not None and current.body.strip() == body:
        return current
    return ConsentTemplateVersion.objects.create(
        template=template,
        number=latest + 1,
        body=body,
        published_at=timezone.now(),
        published_by=user if getattr(user, "is_authenticated", False) else None,
    )


# --- signatures -----------------------------------------------------------------------------------

MAX_SIGNATURE_BYTES = 400_000
PNG_DATA_URL_PREFIX = "data:image/png;base64,"


def decode_signature_png(data_url: str) -> bytes:
    """The PNG bytes of a canvas `toDataURL('image/png')`, checked to be a real, non-blank image."""
    data_url = (data_url or "").strip()
    if not data_url.startswith(PNG_DATA_URL_PREFIX):
        raise ConsentError("Please draw your signature in the box.")
    try:
        png = base64.b64decode(data_url[len(PNG_DATA_URL_PREFIX) :], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ConsentError("The drawn signature could not be read; please sign again.") from exc
    if len(png) > MAX_SIGNATURE_BYTES:
        raise ConsentError("The drawn signature is too large; please sign again.")
    try:
        with Image.open(io.BytesIO(png)) as image:
            if image.format != "PNG":
                raise ConsentError("The drawn signature could not be read; please sign again.")
            alpha = image.convert("RGBA").getchannel("A")
            if alpha.getbbox() is None:
                raise ConsentError("Please draw your signature in the box.")
    except (UnidentifiedImageError, OSError) as exc:
        raise ConsentError("The drawn signature could not be read; please sign again.") from exc
    return png


@transaction.atomic
def sign_consent(
    *,
    patient,
    version: ConsentTemplateVersion,
    typed_name: str,
    signature_data_url: str,
    channel: str,
    request=None,
    staff_user=None,
    appointment=None,
    signed_at=None,
) -> ConsentSignature:
    """Record a patient's signature on this exact version, with the hash of the text shown."""
    typed_name = " ".join((typed_name or "").split())
    if len(typed_name) < 2:
        raise ConsentError("Type your full name.")
    if appointment is not None and appointment.patient_id != patient.pk:
        raise ConsentError("This appointment belongs to another patient.")
    png = decode_signature_png(signature_data_url)
    signed_at = signed_at or timezone.now()
    days = version.template.validity_days
    return ConsentSignature.objects.create(
        template_version=version,
        patient=patient,
        appointment=appointment,
        signed_at=signed_at,
        expires_at=signed_at + dt.timedelta(days=days) if days else None,
        typed_name=typed_name[:200],
        signature_png_b64=base64.b64encode(png).decode("ascii"),
        rendered_text_sha256=selectors.rendered_text_sha256(version),
        channel=channel,
        ip_address=client_ip(request) if request is not None else None,
        user_agent=user_agent(request) if request is not None else "",
        staff_user=staff_user if getattr(staff_user, "is_authenticated", False) else None,
    )


@transaction.atomic
def revoke_consent(*, signature: ConsentSignature, reason: str = "", recorded_by=None, request=None):
    """Withdraw a signed consent: a new row, effective immediately (photo marketing stops now)."""
    signature = ConsentSignature.objects.select_for_update().get(pk=signature.pk)
    if ConsentRevocation.objects.filter(signature=signature).exists():
        raise ConsentError("This consent was already revoked.")
    revocation = ConsentRevocation.objects.create(
        signature=signature,
        revoked_at=timezone.now(),
        reason=(reason or "").strip(),
        recorded_by=recorded_by if getattr(recorded_by, "is_authenticated", False) else None,
        ip_address=client_ip(request) if request is not None else None,
        user_agent=user_agent(request) if request is not None else "",
    )
    consent_revoked.send(sender=ConsentSignature, signature=signature, revocation=revocation)
    return revocation


def assert_consents_complete(appointment) -> None:
    """Raise ConsentsMissing when the appointment's service needs consents that are missing,
    expired or revoked. Appointment completion calls it (block); check-in shows the same list
    as a warning via selectors.missing_consents."""
    missing = selectors.missing_consents(appointment)
    if missing:
        raise ConsentsMissing(missing)
