"""Blind-index probes (cinrella.keycheck): does BLIND_INDEX_KEY reproduce the stored digests?"""

from cinrella import crypto


def newest_date_of_birth() -> bool | None:
    from patients.models import Patient

    patient = Patient.objects.exclude(dob_bidx="").only("date_of_birth", "dob_bidx").order_by("-pk").first()
    if patient is None:
        return None
    return crypto.blind_index("dob", patient.date_of_birth.isoformat()) == patient.dob_bidx


BLIND_INDEX_PROBES = [("patients_patient.dob_bidx", newest_date_of_birth)]


def photo_files():
    """Patient photos"""
    from patients import photos
    from patients.models import PatientPhoto

    for storage_name in PatientPhoto.objects.order_by("pk").values_list("storage_name", flat=True).iterator():
        yield photos.path_for(storage_name)


ENCRYPTED_FILES = [photo_files]
