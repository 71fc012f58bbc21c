"""Signed, expiring links for the patient portal (django.core.signing).

The token carries only record ids (no name, phone or email), is signed with SECRET_KEY under its
own salt, and expires: CONSENT_LINK_MAX_AGE_DAYS (default 7) for signing links,
SMS_PREFERENCES_LINK_MAX_AGE_DAYS (default 30) for the SMS preferences page."""

from django.conf import settings
from django.core import signing
from django.http import Http404
from django.urls import reverse

from appointments.models import Appointment
from patients.models import Patient

SIGNING_SALT = "consents.portal-signing"
PREFERENCES_SALT = "consents.sms-preferences"


def _max_age(setting: str, default_days: int) -> int:
    return int(getattr(settings, setting, default_days)) * 24 * 3600


def signing_token(patient, appointment=None) -> str:
    return signing.dumps({"p": patient.pk, "a": appointment.pk if appointment else None}, salt=SIGNING_SALT)


def signing_url(patient, appointment=None) -> str:
    """Path of the patient's consent-signing page; messaging or staff send it (prefix the site URL)."""
    return reverse("consents-portal-list", args=[signing_token(patient, appointment)])


def read_signing_token(token: str) -> tuple[Patient, Appointment | None]:
    """The patient (and appointment) a signing link is for; 404 when forged or expired."""
    try:
        data = signing.loads(token, salt=SIGNING_SALT, max_age=_max_age("CONSENT_LINK_MAX_AGE_DAYS", 7))
    except signing.BadSignature as exc:
        raise Http404("This link is not valid or has expired.") from exc
    patient = Patient.objects.filter(pk=data.get("p")).first()
    if patient is None:
        raise Http404("This link is not valid or has expired.")
    appointment = None
    if data.get("a"):
        appointment = Appointment.objects.select_related("service").filter(pk=data["a"], patient=patient).first()
    return patient, appointment


def preferences_token(patient) -> str:
    return signing.dumps({"p": patient.pk}, salt=PREFERENCES_SALT)


def preferences_url(patient) -> str:
    return reverse("consents-sms-preferences", args=[preferences_token(patient)])


def read_preferences_token(token: str) -> Patient:
    try:
        data = signing.loads(token, salt=PREFERENCES_SALT, max_age=_max_age("SMS_PREFERENCES_LINK_MAX_AGE_DAYS", 30))
    except signing.BadSignature as exc:
        raise Http404("This link is not valid or has expired.") from exc
    patient = Patient.objects.filter(pk=data.get("p")).first()
    if patient is None:
        raise Http404("This link is not valid or has expired.")
    return patient
