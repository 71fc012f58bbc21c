"""Writes to patient records. Keyword-only, one transaction each."""

import datetime as dt

from django.db import transaction

from cinrella import crypto
from patients.models import BLIND_INDEX_FIELDS, Patient


class InvalidPhone(ValueError):
    pass


def normalised_mobile(raw: str) -> str:
    """E.164 or '' for blank; raises InvalidPhone for something that is not a phone number."""
    if not raw or not raw.strip():
        return ""
    phone = crypto.normalise_phone(raw)
    if phone is None:
        raise InvalidPhone("Enter a valid mobile number, e.g. (858) 256-0289.")
    return phone


@transaction.atomic
def create_patient(
    *, first_name: str, last_name: str, date_of_birth: dt.date, email: str = "", mobile_phone: str = "", **other
) -> Patient:
    patient = Patient(
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        date_of_birth=date_of_birth,
        email=email.strip(),
        mobile_phone=normalised_mobile(mobile_phone),
        **other,
    )
    patient.full_clean(exclude=list(BLIND_INDEX_FIELDS))
    patient.save()
    return patient
