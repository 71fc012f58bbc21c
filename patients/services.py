"""Writes to patient records. Keyword-only, one transaction each.

Write history needs no code here: PostgreSQL triggers (pghistory) record every insert, update and
delete with the acting user and request taken from the request context."""

import datetime as dt

from django.db import transaction
from django.db.models import Max

from cinrella import crypto
from patients import photos
from patients.models import (
    BLIND_INDEX_FIELDS,
    ChartNote,
    IntakeVersion,
    Patient,
    PatientPhoto,
    TreatmentPreferences,
)


class InvalidPhone(ValueError):
    pass


class PhotoConsentMissing(PermissionError):
    """No photo consent on file: photos may not be taken or stored (§2B)."""


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


@transaction.atomic
def update_patient(*, patient: Patient, changes: dict) -> Patient:
    """Apply identity/contact changes (already checked against the caller's rights)."""
    for field, value in changes.items():
        if field == "mobile_phone":
            value = normalised_mobile(value)
        elif isinstance(value, str):
            value = value.strip()
        setattr(patient, field, value)
    patient.full_clean(exclude=list(BLIND_INDEX_FIELDS))
    patient.save()
    return patient


@transaction.atomic
def record_intake(*, patient: Patient, answers: dict, recorded_by=None, source=IntakeVersion.Source.STAFF):
    """A new intake version: the previous ones stay as they were."""
    # Lock the patient row so two simultaneous submissions get consecutive numbers.
    Patient.objects.select_for_update().filter(pk=patient.pk).values_list("pk", flat=True).get()
    latest = IntakeVersion.objects.filter(patient=patient).aggregate(n=Max("version"))["n"] or 0
    content = {f: answers.get(f, "") for f in IntakeVersion.CONTENT_FIELDS}
    if not content["pregnancy_status"]:
        content["pregnancy_status"] = IntakeVersion.Pregnancy.UNSURE
    version = IntakeVersion(patient=patient, version=latest + 1, source=source, recorded_by=recorded_by, **content)
    version.full_clean()
    version.save()
    return version


@transaction.atomic
def save_treatment_preferences(*, patient: Patient, values: dict, updated_by) -> TreatmentPreferences:
    prefs, _ = TreatmentPreferences.objects.select_for_update().get_or_create(
        patient=patient, defaults={"updated_by": updated_by}
    )
    for field in ("goals", "areas_of_interest", "comfort_notes"):
        setattr(prefs, field, values.get(field, ""))
    prefs.updated_by = updated_by
    prefs.save()
    return prefs


@transaction.atomic
def add_chart_note(*, patient: Patient, author, body: str) -> ChartNote:
    return ChartNote.objects.create(patient=patient, author=author, body=body.strip())


def store_photo(*, patient: Patient, upload, uploaded_by, kind=PatientPhoto.Kind.BEFORE, caption: str = ""):
    """Validate, strip, encrypt and record a photo. Raises PhotoConsentMissing or PhotoRejected."""
    from patients.selectors import patient_has_photo_consent

    if not patient_has_photo_consent(patient):
        raise PhotoConsentMissing("No photo consent is on file for this patient.")
    clean = photos.clean_image(upload)
    photo = PatientPhoto(
        patient=patient,
        kind=kind,
        caption=caption.strip(),
        width=clean.width,
        height=clean.height,
        byte_size=len(clean.data),
        uploaded_by=uploaded_by,
    )
    path = photos.write_encrypted(photo.storage_name, clean.data)
    try:
        with transaction.atomic():
            photo.save()
    except Exception:
        path.unlink(missing_ok=True)  # no orphan file when the row could not be written
        raise
    return photo
