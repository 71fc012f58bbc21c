"""Finding patients through blind indexes: no plaintext leaves PostgreSQL, none is stored."""

import datetime as dt

from django.db.models import QuerySet

from cinrella import crypto
from patients.models import Patient


def _phone_digest(raw: str) -> str | None:
    phone = crypto.normalise_phone(raw)
    return crypto.blind_index("phone", phone) if phone else None


def _dob_digest(value: dt.date) -> str:
    return crypto.blind_index("dob", value.isoformat())


def _email_digest(raw: str) -> str:
    return crypto.blind_index("email", crypto.normalise_email(raw))


def patients_with_phone(raw_phone: str) -> QuerySet[Patient]:
    digest = _phone_digest(raw_phone)
    return Patient.objects.filter(phone_bidx=digest) if digest else Patient.objects.none()


def patients_with_email(raw_email: str) -> QuerySet[Patient]:
    return Patient.objects.filter(email_bidx=_email_digest(raw_email))


def patients_born_on(date_of_birth: dt.date) -> QuerySet[Patient]:
    return Patient.objects.filter(dob_bidx=_dob_digest(date_of_birth))


def patients_matching_name(text: str) -> QuerySet[Patient]:
    """Every word typed (whole, or a prefix of at least 3 letters) must match a name word."""
    tokens = [t for t in crypto.name_tokens(text) if len(t) >= crypto.NAME_PREFIX_MIN]
    if not tokens:
        return Patient.objects.none()
    digests = [crypto.blind_index("name", t) for t in tokens]
    return Patient.objects.filter(name_bidx__contains=digests)


def returning_patient(*, date_of_birth: dt.date, email: str = "", phone: str = "") -> Patient | None:
    """The patient a portal visitor is, matched by email+DOB or phone+DOB (never by one key alone)."""
    dob = _dob_digest(date_of_birth)
    if email:
        match = Patient.objects.filter(dob_bidx=dob, email_bidx=_email_digest(email)).order_by("pk").first()
        if match:
            return match
    digest = _phone_digest(phone) if phone else None
    if digest:
        return Patient.objects.filter(dob_bidx=dob, phone_bidx=digest).order_by("pk").first()
    return None


def patient_has_photo_consent(patient: Patient) -> bool:
    """The single gate for photo uploads (§2B "with consent"). Until the consents app provides
    the signed photo consent record, it reads the patient's stand-in flag; the consents app
    replaces this function's body and nothing else needs to change."""
    return bool(patient.photo_consent_on_file)
