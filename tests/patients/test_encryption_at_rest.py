"""The database holds no plaintext PHI: every PHI column is read back raw with SQL."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from consents.models import ConsentKind
from patients import photos, services
from patients.models import ChartNote, IntakeVersion, Patient, PatientPhoto, TreatmentPreferences
from tests.consents.factories import sign_consent_of_kind
from tests.factories import PatientFactory, UserFactory
from tests.patients.factories import ChartNoteFactory, IntakeVersionFactory, TreatmentPreferencesFactory
from tests.patients.test_photos import jpeg_bytes

pytestmark = pytest.mark.django_db

PLAINTEXTS = {
    Patient: {
        "first_name": "Marisol",
        "last_name": "Quintanilla",
        "email": "marisol.q@example.com",
        "mobile_phone": "+18582560289",
        "date_of_birth": "1991-07-23",
        "address_line1": "4455 Genesee Avenue",
        "address_line2": "Apartment 12B",
        "city": "Chula Vista",
        "state": "California",
        "postal_code": "91910",
        "emergency_contact_name": "Teodoro Quintanilla",
        "emergency_contact_phone": "+16195550177",
        "emergency_contact_relationship": "Grandfather",
    },
    IntakeVersion: {
        "allergies": "Penicillin anaphylaxis",
        "medications": "Spironolactone daily",
        "conditions": "Melasma diagnosis",
        "pregnancy_status": "breastfeeding",
        "prior_aesthetic_treatments": "Juvederm lips",
        "notes": "Keloid scarring history",
    },
    TreatmentPreferences: {
        "goals": "Reduce crow feet",
        "areas_of_interest": "Periorbital region",
        "comfort_notes": "Needle anxiety",
    },
    ChartNote: {"body": "Administered Dysport glabellar"},
    PatientPhoto: {"caption": "Left profile baseline"},
}


def make_everything():
    p = PLAINTEXTS[Patient]
    patient = PatientFactory(
        **{k: v for k, v in p.items() if k != "date_of_birth"},
        date_of_birth=dt.date(1991, 7, 23),
    )
    sign_consent_of_kind(patient, ConsentKind.PHOTO_CLINICAL)
    IntakeVersionFactory(patient=patient, **PLAINTEXTS[IntakeVersion])
    TreatmentPreferencesFactory(patient=patient, **PLAINTEXTS[TreatmentPreferences])
    ChartNoteFactory(patient=patient, **PLAINTEXTS[ChartNote])
    upload = SimpleUploadedFile("p.jpg", jpeg_bytes(), content_type="image/jpeg")
    photo = services.store_photo(
        patient=patient,
        upload=upload,
        uploaded_by=UserFactory(role="provider"),
        caption=PLAINTEXTS[PatientPhoto]["caption"],
    )
    patient.save()  # an update event too
    return patient, photo


def raw_values(table: str, column: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT "{column}"::text FROM "{table}"')  # noqa: S608 — names from model metadata
        return [row[0] for row in cursor.fetchall() if row[0] is not None]


def variants(value: str) -> set[str]:
    forms = {value, value.lower(), value.upper()}
    if value.startswith("+1"):
        forms |= {value[2:], value[1:]}  # 8582560289, 18582560289
    if len(value) == 10 and value[4] == "-":
        forms |= {value.replace("-", ""), value[:4]}  # 19910723, 1991
    return forms


@pytest.mark.parametrize("model", list(PLAINTEXTS), ids=lambda m: m.__name__)
def test_no_plaintext_in_phi_columns_or_their_history(model):
    make_everything()
    from django.apps import apps

    history = apps.get_model("patients", f"{model.__name__}Event")
    checked = 0
    for table_model in (model, history):
        table = table_model._meta.db_table
        for field_name, plaintext in PLAINTEXTS[model].items():
            column = table_model._meta.get_field(field_name).column
            values = raw_values(table, column)
            assert values, f"{table}.{column} has no rows to check"
            for stored in values:
                for form in variants(plaintext):
                    assert form not in stored, f"plaintext in {table}.{column}"
                assert stored.startswith("gAAAA"), f"{table}.{column} is not a Fernet token"
            checked += 1
    assert checked == 2 * len(PLAINTEXTS[model])


def test_no_plaintext_anywhere_in_a_full_row_dump():
    make_everything()
    with connection.cursor() as cursor:
        for table in (
            "patients_patient",
            "patients_intakeversion",
            "patients_chartnote",
            "patients_treatmentpreferences",
            "patients_patientphoto",
            "patients_patientevent",
        ):
            cursor.execute(f"SELECT row_to_json(t)::text FROM {table} t")  # noqa: S608
            dump = " ".join(r[0] for r in cursor.fetchall()).lower()
            for values in PLAINTEXTS.values():
                for plaintext in values.values():
                    if plaintext in {"breastfeeding"}:
                        continue
                    assert plaintext.lower() not in dump, f"{plaintext!r} in {table}"


def test_photo_file_on_disk_is_encrypted():
    _, photo = make_everything()
    stored = photos.path_for(photo.storage_name).read_bytes()
    assert not stored.startswith(b"\xff\xd8")  # not a JPEG
    assert stored.startswith(b"gAAAA")
    assert photos.read_decrypted(photo.storage_name).startswith(b"\xff\xd8")
