"""Patient portal sign-in with a one-time code (§7, §10: patients reach their own records).

No passwords for patients. A visitor types email or mobile plus date of birth; if that matches a
patient, a 6-digit code goes to the patient's email on file (or phone). The page answers the same
either way, so it never reveals whether a record exists. Codes are kept only as a salted HMAC,
expire after 10 minutes, work once, and lock after 5 wrong tries. Each IP may try a limited number
of times per window. The patient session is separate from staff auth: a session key holding the
patient id, dropped after 15 minutes idle."""

import functools
import secrets
import smtplib
import time

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from cinrella.clinic_time import clinic_time_zone
from cinrella.request_meta import client_ip
from messaging.services.notifications import send_sign_in_code
from patients.models import Patient
from patients.selectors import returning_patient
from privacy import events
from privacy.gate import PolicyViolation, disclose
from privacy.models import PortalSignInAttempt, PortalSignInCode, PrivacyEvent
from privacy.policy import Category, Purpose

CODE_TTL = 10 * 60  # seconds
MAX_CODE_ATTEMPTS = 5
PATIENT_SESSION_KEY = "privacy_portal_patient_id"
LAST_SEEN_KEY = "privacy_portal_last_seen"
PENDING_CODE_KEY = "privacy_portal_pending_code"
NO_CODE_TRIES_KEY = "privacy_portal_no_code_tries"


def _setting(name, default):
    return getattr(settings, name, default)


def ip_window_seconds() -> int:
    return _setting("PORTAL_SIGN_IN_WINDOW_SECONDS", 15 * 60)


def ip_limit() -> int:
    return _setting("PORTAL_SIGN_IN_MAX_PER_IP", 20)


def idle_timeout() -> int:
    return _setting("PORTAL_SESSION_IDLE_SECONDS", 15 * 60)


# --- codes -------------------------------------------------------------------------------------
def _hash(code_id: int, code: str) -> str:
    return salted_hmac("privacy.portal-sign-in-code", f"{code_id}:{code}", algorithm="sha256").hexdigest()


def ip_is_rate_limited(request) -> bool:
    since = timezone.now() - timezone.timedelta(seconds=ip_window_seconds())
    return PortalSignInAttempt.objects.filter(ip_address=client_ip(request), at__gte=since).count() >= ip_limit()


def note_attempt(request, kind: str) -> None:
    PortalSignInAttempt.objects.create(ip_address=client_ip(request), kind=kind)


@transaction.atomic
def issue_code(*, patient: Patient, request=None) -> tuple[PortalSignInCode, str]:
    """A new code for this patient; older unused codes stop working."""
    now = timezone.now()
    PortalSignInCode.objects.filter(patient=patient, used_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=now
    )
    code = f"{secrets.randbelow(1_000_000):06d}"
    channel = PortalSignInCode.Channel.EMAIL if patient.email else PortalSignInCode.Channel.SMS
    row = PortalSignInCode.objects.create(
        patient=patient, code_hash="-", channel=channel, expires_at=now + timezone.timedelta(seconds=CODE_TTL)
    )
    row.code_hash = _hash(row.pk, code)
    row.save(update_fields=["code_hash"])
    return row, code


@transaction.atomic
def send_code_by_email(patient: Patient, code: str) -> bool:
    """Email the code to the address on file. Passes the sharing gate first (the email provider
    receives the patient's address): nothing is sent if the policy refuses, and the disclosure row
    is rolled back if the mail server refuses."""
    disclose(
        recipient="email",
        categories={Category.CONTACT},
        purpose=Purpose.OPERATIONS,
        patient=patient,
        description="Patient portal sign-in code (email)",
    )
    send_mail(
        subject=f"Your {settings.CLINIC_NAME} sign-in code",
        message=(
            f"Your sign-in code is {code}. It works once and expires in 10 minutes.\n\n"
            f"If you did not ask for it, you can ignore this email or call us at {settings.CLINIC_PHONE}."
        ),
        from_email=None,
        recipient_list=[patient.email],
    )
    return True


def send_code_by_sms(patient: Patient, code: str) -> bool:
    """Text the code to the patient's mobile through the messaging outbox (which passes the privacy
    gate for Twilio when it sends)."""
    if not patient.mobile_phone:
        return False
    body = f"{settings.CLINIC_NAME}: your sign-in code is {code}. It expires in 10 minutes."
    return send_sign_in_code(patient, body)


def start_sign_in(*, request, date_of_birth, email: str = "", phone: str = "") -> None:
    """Look the visitor up and, if they are a patient, send a code. Same outcome shown either way."""
    note_attempt(request, "lookup")
    request.session.pop(PENDING_CODE_KEY, None)
    request.session.pop(NO_CODE_TRIES_KEY, None)
    patient = returning_patient(date_of_birth=date_of_birth, email=email, phone=phone)
    if patient is None:
        return
    row, code = issue_code(patient=patient, request=request)
    sent = False
    try:
        if row.channel == PortalSignInCode.Channel.EMAIL:
            sent = send_code_by_email(patient, code)
        else:
            sent = send_code_by_sms(patient, code)
    except (PolicyViolation, OSError, smtplib.SMTPException):
        sent = False  # the visitor sees the same page; the event below records the failure
    events.record(
        PrivacyEvent.Kind.CODE_SENT if sent else PrivacyEvent.Kind.CODE_NOT_SENT,
        patient=patient,
        request=request,
        detail=f"channel={row.channel}",
    )
    if sent:
        request.session[PENDING_CODE_KEY] = row.pk


class CodeResult:
    OK = "ok"
    WRONG = "wrong"
    LOCKED = "locked"  # too many tries, or expired/used: a new code is needed


def verify_code(*, request, code: str) -> str:
    """Check the code against the pending one of this browser session; sign in on success."""
    note_attempt(request, "code")
    pending_id = request.session.get(PENDING_CODE_KEY)
    if not pending_id:
        # Nothing was sent (no such patient): behave exactly like a wrong code, lock included.
        tries = request.session.get(NO_CODE_TRIES_KEY, 0) + 1
        request.session[NO_CODE_TRIES_KEY] = tries
        return CodeResult.LOCKED if tries >= MAX_CODE_ATTEMPTS else CodeResult.WRONG
    with transaction.atomic():
        row = PortalSignInCode.objects.select_for_update().select_related("patient").filter(pk=pending_id).first()
        now = timezone.now()
        if row is None or row.used_at or row.revoked_at or row.expires_at <= now:
            request.session.pop(PENDING_CODE_KEY, None)
            return CodeResult.LOCKED
        if not constant_time_compare(row.code_hash, _hash(row.pk, code.strip())):
            PortalSignInCode.objects.filter(pk=row.pk).update(attempts=F("attempts") + 1)
            row.refresh_from_db(fields=["attempts"])
            events.record(PrivacyEvent.Kind.CODE_FAILED, patient=row.patient, request=request)
            if row.attempts >= MAX_CODE_ATTEMPTS:
                PortalSignInCode.objects.filter(pk=row.pk).update(revoked_at=now)
                events.record(PrivacyEvent.Kind.CODE_LOCKED, patient=row.patient, request=request)
                request.session.pop(PENDING_CODE_KEY, None)
                return CodeResult.LOCKED
            return CodeResult.WRONG
        PortalSignInCode.objects.filter(pk=row.pk).update(used_at=now)
        events.record(PrivacyEvent.Kind.SIGNED_IN, patient=row.patient, request=request)
    sign_in_patient(request, row.patient)
    return CodeResult.OK


# --- the patient session -----------------------------------------------------------------------
def sign_in_patient(request, patient: Patient) -> None:
    request.session.cycle_key()  # no session fixation
    request.session.pop(PENDING_CODE_KEY, None)
    request.session[PATIENT_SESSION_KEY] = patient.pk
    request.session[LAST_SEEN_KEY] = int(time.time())


def sign_out_patient(request) -> None:
    patient_id = request.session.get(PATIENT_SESSION_KEY)
    if patient_id:
        events.record(PrivacyEvent.Kind.SIGNED_OUT, patient_id=patient_id, request=request)
    for key in (PATIENT_SESSION_KEY, LAST_SEEN_KEY, PENDING_CODE_KEY):
        request.session.pop(key, None)
    request.session.cycle_key()


def current_patient(request) -> Patient | None:
    """The signed-in patient, or None (also when the session went idle too long)."""
    patient_id = request.session.get(PATIENT_SESSION_KEY)
    if not patient_id:
        return None
    now = int(time.time())
    if now - request.session.get(LAST_SEEN_KEY, 0) > idle_timeout():
        for key in (PATIENT_SESSION_KEY, LAST_SEEN_KEY):
            request.session.pop(key, None)
        return None
    request.session[LAST_SEEN_KEY] = now
    return Patient.objects.filter(pk=patient_id).first()


def patient_required(view):
    """Portal views: `request.patient` is the signed-in patient; others go to the sign-in page."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        patient = current_patient(request)
        if patient is None:
            return redirect("privacy-portal-sign-in")
        request.patient = patient
        with clinic_time_zone():
            return view(request, *args, **kwargs)

    return wrapper
