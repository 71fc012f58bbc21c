"""Writes to consent records. Keyword-only, one transaction each; the rows are the audit trail
(every consent table is append-only at the database)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import io
from dataclasses import dataclass, field

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
    PhoneVerification,
    PhoneVerificationCode,
    SmsConsentEvent,
    SmsPurpose,
)
from consents.signals import consent_revoked, phone_code_requested, sms_opt_in_recorded, sms_opt_in_requested


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
    asserted_by: str = "",
    verification: str = "",
) -> list[SmsConsentEvent]:
    """The same event for several purposes (a STOP ends them all), in one INSERT.

    `asserted_by` and `verification` say whose word the event rests on and how we know they own
    the number (the rules are in the functions below; this one only writes). Pass `patient_id`
    when only the id is at hand, so no patient row is loaded (and decrypted) just to be referenced.
    A single statement is atomic on its own: no savepoint needed."""
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
        "asserted_by": asserted_by,
        "verification": verification,
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


# --- who may change a number's consent (issue 17, DESIGN.md §9) ---------------------------------------
#
# Only the number's owner: a text from the number; a code texted to it and entered on the portal;
# a form from a patient whose record holds the number, already verified; staff writing down what
# the patient says at the desk (transactional only). A web form naming a number nobody has proven
# to own records a PENDING opt-in and texts one "Reply YES" request; nothing else goes to the
# number until YES comes back from it. A number that opted out is re-opted-in only by a text from
# the number itself (START, YES to the opt-in confirmation, JOIN). Opt-outs are honoured from every
# channel (FCC 2024: revocation by any reasonable means), with who asserted them on the row.

OPT_IN_REQUEST_SPACING = dt.timedelta(hours=24)
OPTED_OUT_MESSAGE = (
    "This number opted out of texts by replying STOP. Only the number itself can opt back in: text START "
    "(or JOIN for offers) to {clinic_phone}."
)


@dataclass
class OptInOutcome:
    """What a form's opt-in did, per purpose, so the page can say it."""

    opted_in: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    refused_opted_out: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    opted_out: list[str] = field(default_factory=list)
    request_sent: bool = False

    def __bool__(self) -> bool:
        """Something was recorded."""
        return bool(self.opted_in or self.pending or self.opted_out)

    def message(self) -> str:
        """One sentence for the page (no PHI)."""
        from django.conf import settings

        if self.refused_opted_out:
            return OPTED_OUT_MESSAGE.format(clinic_phone=settings.CLINIC_PHONE)
        if self.pending:
            return "We texted your number a request: reply YES to start getting texts. Nothing else is sent until then."
        return ""


def _form_opt_in(
    *, phone: str, purposes, source: str, request, patient, asserted_by: str, verified: bool, verification: str
) -> OptInOutcome:
    """Opt-ins from a web form (booking boxes, preferences page), under the ownership rules."""
    outcome = OptInOutcome()
    states = selectors.sms_states(phone)
    wanted = []
    for purpose in purposes:
        latest = states.get(purpose)
        if latest is not None and latest.action == SmsConsentEvent.Action.OPT_OUT:
            outcome.refused_opted_out.append(purpose)
        elif latest is not None and latest.action == SmsConsentEvent.Action.OPT_IN:
            outcome.already.append(purpose)
        else:
            wanted.append(purpose)
    if not wanted:
        return outcome
    common = {
        "phone": phone,
        "source": source,
        "disclosure_version": disclosures.DISCLOSURE_VERSION,
        "request": request,
        "patient": patient,
    }
    if verified:
        events = [
            record_sms_consent_event(
                purpose=purpose,
                action=SmsConsentEvent.Action.OPT_IN,
                disclosure_text=disclosures.disclosure_for(purpose),
                asserted_by=asserted_by,
                verification=verification,
                **common,
            )
            for purpose in wanted
        ]
        outcome.opted_in = wanted
        _announce_opt_in(events, phone=phone, patient=patient)
        return outcome
    recent_request = SmsConsentEvent.objects.filter(
        phone_bidx=crypto.blind_index("phone", phone),
        action=SmsConsentEvent.Action.PENDING,
        occurred_at__gte=timezone.now() - OPT_IN_REQUEST_SPACING,
    ).exists()
    events = [
        record_sms_consent_event(
            purpose=purpose,
            action=SmsConsentEvent.Action.PENDING,
            disclosure_text=disclosures.disclosure_for(purpose),
            asserted_by=SmsConsentEvent.AssertedBy.WEB_VISITOR,
            verification=SmsConsentEvent.Verification.UNVERIFIED,
            **common,
        )
        for purpose in wanted
    ]
    outcome.pending = wanted
    # One request per number a day at most: a stranger cannot turn the form into a way to text
    # someone else's phone over and over.
    if not recent_request:
        sms_opt_in_requested.send(sender=SmsConsentEvent, phone=phone, purposes=wanted, events=events, patient=patient)
        outcome.request_sent = True
    return outcome


@transaction.atomic
def record_portal_sms_choices(
    *, phone: str, transactional: bool, marketing: bool, request, patient=None
) -> OptInOutcome:
    """The booking portal's two (never pre-checked) boxes. The exact disclosure text and version
    are recorded for each box ticked; an unticked box records nothing (declining is not an event).
    A number already verified for this patient is opted in (and `sms_opt_in_recorded` queues the
    confirmations); any other number gets a pending opt-in and one "Reply YES" request; a number
    that opted out by text is refused (only the number can opt back in)."""
    chosen = [
        p for p, ticked in ((SmsPurpose.TRANSACTIONAL, transactional), (SmsPurpose.MARKETING, marketing)) if ticked
    ]
    if not chosen:
        return OptInOutcome()
    e164 = crypto.normalise_phone(phone or "")
    if e164 is None:
        raise InvalidConsentPhone("Enter a valid mobile number to receive text messages.")
    verified = selectors.number_verified_for(e164, patient)
    return _form_opt_in(
        phone=e164,
        purposes=chosen,
        source=SmsConsentEvent.Source.PORTAL_FORM,
        request=request,
        patient=patient,
        asserted_by=SmsConsentEvent.AssertedBy.PATIENT if verified else SmsConsentEvent.AssertedBy.WEB_VISITOR,
        verified=verified,
        verification=SmsConsentEvent.Verification.VERIFIED_RECORD,
    )


@transaction.atomic
def record_sms_preferences(*, patient, transactional: bool, marketing: bool, request) -> OptInOutcome:
    """The patient's own preferences page (signed link). An unticked box that was on records an
    opt-out at once; a ticked box that was off follows the ownership rules (verified number: opt-in;
    otherwise pending + one YES request; opted out by text: refused)."""
    phone = crypto.normalise_phone(patient.mobile_phone or "")
    if phone is None:
        raise InvalidConsentPhone("There is no valid mobile number on your record; call the clinic to add one.")
    wanted = {SmsPurpose.TRANSACTIONAL: transactional, SmsPurpose.MARKETING: marketing}
    states = selectors.sms_states(phone)
    outcome = OptInOutcome()
    to_opt_in = []
    for purpose, want in wanted.items():
        latest = states.get(purpose)
        on = latest is not None and latest.action == SmsConsentEvent.Action.OPT_IN
        if want and not on:
            to_opt_in.append(purpose)
        elif not want and on:
            record_sms_consent_event(
                phone=phone,
                purpose=purpose,
                action=SmsConsentEvent.Action.OPT_OUT,
                source=SmsConsentEvent.Source.PORTAL_PREFERENCES,
                disclosure_text="Unticked on the preferences page.",
                request=request,
                patient=patient,
                asserted_by=SmsConsentEvent.AssertedBy.PATIENT,
                verification=SmsConsentEvent.Verification.SIGNED_LINK,
            )
            outcome.opted_out.append(purpose)
    if to_opt_in:
        verified = selectors.number_verified_for(phone, patient)
        opted = _form_opt_in(
            phone=phone,
            purposes=to_opt_in,
            source=SmsConsentEvent.Source.PORTAL_PREFERENCES,
            request=request,
            patient=patient,
            asserted_by=SmsConsentEvent.AssertedBy.PATIENT,
            verified=verified,
            verification=SmsConsentEvent.Verification.VERIFIED_RECORD,
        )
        opted.opted_out = outcome.opted_out
        return opted
    return outcome


VERBAL_MARKETING_REFUSED = (
    "Marketing texts need the patient's written consent: the box on the booking or preferences page, "
    "or the patient texting JOIN to the clinic's number. Staff cannot record it."
)


@transaction.atomic
def record_verbal_sms_consent(*, patient, purpose: str, action: str, note: str, staff_user, request) -> SmsConsentEvent:
    """Front desk writes down what the patient says at the desk: an opt-in to appointment texts
    (transactional only; marketing needs written consent), or an opt-out of either. The note is
    required; for an opt-in the disclosure read to the patient is stored with its version."""
    if not (note or "").strip():
        raise ConsentError("A note is required: say who gave the consent or opt-out, and how.")
    opting_in = action == SmsConsentEvent.Action.OPT_IN
    if opting_in and purpose == SmsPurpose.MARKETING:
        raise ConsentError(VERBAL_MARKETING_REFUSED)
    if opting_in:
        latest = selectors.sms_states(patient.mobile_phone or "").get(purpose)
        if latest is not None and latest.action == SmsConsentEvent.Action.OPT_OUT:
            from django.conf import settings

            raise ConsentError(OPTED_OUT_MESSAGE.format(clinic_phone=settings.CLINIC_PHONE))
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
        asserted_by=SmsConsentEvent.AssertedBy.STAFF,
        verification=SmsConsentEvent.Verification.IN_PERSON,
    )


# --- the number itself ----------------------------------------------------------------------------

FROM_THE_NUMBER = {
    "asserted_by": SmsConsentEvent.AssertedBy.NUMBER,
    "verification": SmsConsentEvent.Verification.INBOUND_TEXT,
}


def confirm_pending_opt_ins(*, phone: str, inbound_message_sid: str, body: str = "") -> list[SmsConsentEvent]:
    """YES from the number to an opt-in request: each purpose still pending becomes an opt-in (the
    disclosure the web form showed, confirmed by the number itself), and the patient the request
    was made for now holds a verified number. Call inside the inbound text's transaction; the
    caller queues the confirmation replies. Returns the opt-in events (empty: nothing pending)."""
    pending = [e for e in selectors.sms_states(phone).values() if e.action == SmsConsentEvent.Action.PENDING]
    events = []
    for event in pending:
        events += record_sms_consent_events(
            phone=phone,
            purposes=[event.purpose],
            action=SmsConsentEvent.Action.OPT_IN,
            source=SmsConsentEvent.Source.KEYWORD,
            disclosure_text=event.disclosure_text,
            disclosure_version=event.disclosure_version,
            note=f"Confirmed by a reply from the number ({body[:40]!r}) to the opt-in request of event #{event.pk}.",
            inbound_message_sid=inbound_message_sid,
            patient_id=event.patient_id,
            **FROM_THE_NUMBER,
        )
    for patient_id in {e.patient_id for e in pending if e.patient_id}:
        PhoneVerification.objects.create(
            phone=phone,
            phone_bidx=crypto.blind_index("phone", phone),
            patient_id=patient_id,
            method=PhoneVerification.Method.REPLY_YES,
            verified_at=timezone.now(),
            inbound_message_sid=inbound_message_sid,
        )
    return events


# --- a code texted to the number, entered on the portal ------------------------------------------

PHONE_CODE_TTL = dt.timedelta(minutes=10)
PHONE_CODE_MAX_ATTEMPTS = 5
PHONE_CODE_MIN_SPACING = dt.timedelta(seconds=60)
PHONE_CODES_PER_DAY = 5


def _code_hash(code_id: int, code: str) -> str:
    from django.utils.crypto import salted_hmac

    return salted_hmac("consents.phone-code", f"{code_id}:{code}", algorithm="sha256").hexdigest()


@transaction.atomic
def send_phone_code(*, patient) -> None:
    """Text a 6-digit code to the patient's mobile so they can show, on the portal, that the number
    is theirs. Never to a number that opted out (it would be a text after STOP); a minute apart and
    five a day at most. Messaging queues the text (`phone_code_requested`)."""
    import secrets

    from django.conf import settings

    phone = crypto.normalise_phone(patient.mobile_phone or "")
    if phone is None:
        raise InvalidConsentPhone("There is no valid mobile number on your record; call the clinic to add one.")
    if selectors.sms_opted_out_of_everything(phone):
        raise ConsentError(OPTED_OUT_MESSAGE.format(clinic_phone=settings.CLINIC_PHONE))
    digest = crypto.blind_index("phone", phone)
    now = timezone.now()
    recent = PhoneVerificationCode.objects.filter(phone_bidx=digest, created_at__gte=now - dt.timedelta(days=1))
    if recent.filter(created_at__gte=now - PHONE_CODE_MIN_SPACING).exists() or recent.count() >= PHONE_CODES_PER_DAY:
        raise ConsentError("A code was sent a moment ago: wait a minute for it, or call the clinic.")
    PhoneVerificationCode.objects.filter(phone_bidx=digest, patient=patient, used_at__isnull=True).update(
        expires_at=now
    )
    code = f"{secrets.randbelow(1_000_000):06d}"
    row = PhoneVerificationCode.objects.create(
        phone_bidx=digest, patient=patient, code_hash="-", created_at=now, expires_at=now + PHONE_CODE_TTL
    )
    row.code_hash = _code_hash(row.pk, code)
    row.save(update_fields=["code_hash"])
    body = (
        f"{settings.CLINIC_NAME}: your code to confirm this number is {code}. It expires in 10 minutes. "
        "Didn't ask? Ignore this text."
    )
    phone_code_requested.send(sender=PhoneVerificationCode, phone=phone, body=body, patient=patient, code_id=row.pk)


@transaction.atomic
def verify_phone_code(*, patient, code: str, request=None) -> OptInOutcome:
    """The code texted to the number, typed on the portal: the patient holds the number
    (`PhoneVerification`, method sms_code), and the number's pending opt-ins take effect, asserted
    by the patient and verified by the code. Raises ConsentError for a wrong, used or expired code."""
    from django.utils.crypto import constant_time_compare

    phone = crypto.normalise_phone(patient.mobile_phone or "")
    digest = crypto.blind_index("phone", phone) if phone else ""
    row = (
        PhoneVerificationCode.objects.select_for_update()
        .filter(phone_bidx=digest, patient=patient, used_at__isnull=True)
        .order_by("-created_at")
        .first()
    )
    now = timezone.now()
    if row is None or row.expires_at <= now or row.attempts >= PHONE_CODE_MAX_ATTEMPTS:
        raise ConsentError("That code has expired: ask for a new one.")
    if not constant_time_compare(row.code_hash, _code_hash(row.pk, (code or "").strip())):
        PhoneVerificationCode.objects.filter(pk=row.pk).update(attempts=row.attempts + 1)
        raise ConsentError("That code is not right: check the text and try again.")
    PhoneVerificationCode.objects.filter(pk=row.pk).update(used_at=now)
    PhoneVerification.objects.create(
        phone=phone, phone_bidx=digest, patient=patient, method=PhoneVerification.Method.SMS_CODE, verified_at=now
    )
    outcome = OptInOutcome()
    pending = [e for e in selectors.sms_states(phone).values() if e.action == SmsConsentEvent.Action.PENDING]
    events = [
        record_sms_consent_event(
            phone=phone,
            purpose=event.purpose,
            action=SmsConsentEvent.Action.OPT_IN,
            source=SmsConsentEvent.Source.PORTAL_CODE,
            disclosure_text=event.disclosure_text,
            disclosure_version=event.disclosure_version,
            request=request,
            patient=patient,
            note=f"Confirms the pending opt-in of event #{event.pk}.",
            asserted_by=SmsConsentEvent.AssertedBy.PATIENT,
            verification=SmsConsentEvent.Verification.SMS_CODE,
        )
        for event in pending
    ]
    outcome.opted_in = [e.purpose for e in events]
    _announce_opt_in(events, phone=phone, patient=patient)
    return outcome


def record_opt_out_from_reply(*, phone: str, inbound_message_sid: str, body: str, staff_user, patient_id=None):
    """Staff pressed "this is an opt-out" on a reply the classifier was unsure of: the number's own
    words, confirmed by staff, revoke both purposes."""
    return record_sms_consent_events(
        phone=phone,
        purposes=list(SmsPurpose),
        action=SmsConsentEvent.Action.OPT_OUT,
        source=SmsConsentEvent.Source.FREE_TEXT,
        disclosure_text=body[:1000],
        note="Read as an opt-out by staff (the reply was flagged for review).",
        staff_user=staff_user,
        inbound_message_sid=f"{inbound_message_sid}:staff"[:64],
        patient_id=patient_id,
        **FROM_THE_NUMBER,
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
