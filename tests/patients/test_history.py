"""Write history by database triggers (bulk .update() and raw SQL included), with the acting user;
history and access log are append-only in PostgreSQL itself."""

import pytest
from django.apps import apps
from django.db import DatabaseError, connection, transaction

from patients.models import ChartNote, IntakeVersion, Patient
from privacy.access_log import log_access
from privacy.models import AccessLog
from tests.factories import PatientFactory
from tests.helpers import assert_append_only
from tests.patients.factories import ChartNoteFactory, IntakeVersionFactory, patient_with_photo_consent

pytestmark = pytest.mark.django_db

PatientEvent = apps.get_model("patients", "PatientEvent")
EVENT_MODELS = [
    apps.get_model("patients", name)
    for name in (
        "PatientEvent",
        "IntakeVersionEvent",
        "TreatmentPreferencesEvent",
        "ChartNoteEvent",
        "PatientPhotoEvent",
    )
]


def test_bulk_update_is_captured():
    patients = [PatientFactory(), PatientFactory()]

    Patient.objects.filter(pk__in=[p.pk for p in patients]).update(preferred_language="es")

    for p in patients:
        labels = list(
            PatientEvent.objects.filter(pgh_obj_id=p.pk)
            .order_by("pgh_id")
            .values_list("pgh_label", "preferred_language")
        )
        assert labels == [("insert", "en"), ("update", "es")]


def test_raw_sql_update_and_delete_are_captured():
    note = ChartNoteFactory()
    event_model = apps.get_model("patients", "ChartNoteEvent")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE patients_chartnote SET created_at = now() WHERE id = %s", [note.pk])
        cursor.execute("DELETE FROM patients_chartnote WHERE id = %s", [note.pk])

    labels = list(event_model.objects.filter(pgh_obj_id=note.pk).order_by("pgh_id").values_list("pgh_label", flat=True))
    assert labels == ["insert", "update", "delete"]
    assert not ChartNote.objects.filter(pk=note.pk).exists()


def test_history_keeps_the_old_encrypted_value_readable():
    intake = IntakeVersionFactory(allergies="Latex")
    IntakeVersion.objects.filter(pk=intake.pk).update(allergies="None")  # a bulk update bypassing versions
    event_model = apps.get_model("patients", "IntakeVersionEvent")

    events = list(event_model.objects.filter(pgh_obj_id=intake.pk).order_by("pgh_id"))

    assert [e.allergies for e in events] == ["Latex", "None"]


def test_edit_through_the_staff_page_records_the_acting_user_and_path(staff_client):
    client = staff_client("front_desk")
    patient = PatientFactory(first_name="Ana")
    data = {
        "first_name": "Anabel",
        "last_name": patient.last_name,
        "date_of_birth": patient.date_of_birth.isoformat(),
        "email": patient.email,
        "mobile_phone": patient.mobile_phone,
        "preferred_language": "en",
    }

    response = client.post(f"/staff/patients/{patient.pk}/edit/", data)

    assert response.status_code == 302
    event = PatientEvent.objects.filter(pgh_obj_id=patient.pk, pgh_label="update").latest("pgh_id")
    assert event.first_name == "Anabel"
    assert event.pgh_context.metadata["user"] == client.user.pk
    assert event.pgh_context.metadata["url"] == f"/staff/patients/{patient.pk}/edit/"


def test_write_history_is_shown_to_managers(staff_client):
    patient = PatientFactory()
    Patient.objects.filter(pk=patient.pk).update(preferred_language="es")
    manager = staff_client("manager")

    page = manager.get(f"/staff/patients/{patient.pk}/access/").text

    assert "insert" in page and "update" in page
    assert "system / shell" in page


@pytest.mark.parametrize("event_model", EVENT_MODELS, ids=lambda m: m.__name__)
def test_history_tables_reject_update_and_delete(event_model):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from patients import services
    from tests.factories import UserFactory
    from tests.patients.factories import TreatmentPreferencesFactory
    from tests.patients.test_photos import jpeg_bytes

    patient = patient_with_photo_consent()
    IntakeVersionFactory(patient=patient)
    TreatmentPreferencesFactory(patient=patient)
    ChartNoteFactory(patient=patient)
    services.store_photo(
        patient=patient, upload=SimpleUploadedFile("a.jpg", jpeg_bytes()), uploaded_by=UserFactory(role="provider")
    )
    event = event_model.objects.latest("pgh_id")

    assert_append_only(event_model, event.pk)


def test_access_log_rejects_update_and_delete(rf):
    patient = PatientFactory()
    row = log_access(rf.get("/x"), patient, "health", "read")

    assert_append_only(AccessLog, row.pk)


def test_history_context_cannot_be_deleted_or_rewritten(staff_client):
    from pghistory.models import Context

    client = staff_client("front_desk")
    patient = PatientFactory()
    client.post(
        f"/staff/patients/{patient.pk}/edit/",
        {"first_name": "X", "last_name": "Y", "date_of_birth": "1988-03-14", "preferred_language": "en"},
    )
    context = Context.objects.get(metadata__user=client.user.pk)

    with pytest.raises(DatabaseError), transaction.atomic():
        Context.objects.filter(pk=context.pk).update(metadata={"user": 1})
    with pytest.raises(DatabaseError), transaction.atomic():
        Context.objects.filter(pk=context.pk).delete()
    Context.objects.filter(pk=context.pk).update(metadata={**context.metadata, "extra": "ok"})  # may grow
    assert Context.objects.get(pk=context.pk).metadata["user"] == client.user.pk
