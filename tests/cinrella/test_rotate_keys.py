"""Master-key rotation (`manage.py rotate_keys`): columns, append-only history and files move to the
newest key; the old key can then be dropped without losing anything (issue 13)."""

import datetime as dt
import io

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection

from cinrella import crypto, keycheck
from cinrella.models import KeyCanary
from patients import photos, services
from patients.models import Patient
from patients.services import create_patient
from tests.factories import UserFactory
from tests.helpers import assert_append_only
from tests.patients.factories import patient_with_photo_consent
from tests.patients.test_photos import jpeg_bytes

pytestmark = pytest.mark.django_db

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def rotate() -> str:
    out = io.StringIO()
    call_command("rotate_keys", stdout=out)
    return out.getvalue()


def store_photos(count: int):
    stored = []
    provider = UserFactory(role="provider")
    for i in range(count):
        patient = patient_with_photo_consent()
        upload = SimpleUploadedFile("p.jpg", jpeg_bytes(color=(10 * i, 90, 90)), content_type="image/jpeg")
        stored.append(services.store_photo(patient=patient, upload=upload, uploaded_by=provider, caption=f"photo {i}"))
    return stored


def test_rotation_with_photos_present_reads_every_photo_after_the_old_key_is_dropped(settings):
    # Observed: the README's rotation re-encrypted database columns only; once the old key was
    # dropped, every patient photo raised DecryptionError.
    settings.FIELD_ENCRYPTION_KEY = [OLD]
    stored = store_photos(3)
    originals = {p.storage_name: photos.read_decrypted(p.storage_name) for p in stored}

    settings.FIELD_ENCRYPTION_KEY = [NEW, OLD]
    output = rotate()
    settings.FIELD_ENCRYPTION_KEY = [NEW]  # the old key is gone

    for photo in stored:
        assert photos.read_decrypted(photo.storage_name) == originals[photo.storage_name]
        assert not photos.path_for(photo.storage_name).read_bytes().startswith(b"\xff\xd8")  # still encrypted
    assert "Patient photos files: 3 re-encrypted, 0 already under the newest key" in output


def test_an_interrupted_rotation_finishes_on_the_next_run_and_says_what_was_left(settings, monkeypatch):
    settings.FIELD_ENCRYPTION_KEY = [OLD]
    stored = store_photos(3)
    settings.FIELD_ENCRYPTION_KEY = [NEW, OLD]
    from cinrella.management.commands import rotate_keys

    real_replace, written = rotate_keys.replace_atomically, []

    def crash_after_one_file(path, data):
        if written:
            raise KeyboardInterrupt  # the operator's Ctrl-C, or the host going down
        real_replace(path, data)
        written.append(path)

    monkeypatch.setattr(rotate_keys, "replace_atomically", crash_after_one_file)
    with pytest.raises(KeyboardInterrupt):
        rotate()
    monkeypatch.setattr(rotate_keys, "replace_atomically", real_replace)
    output = rotate()
    settings.FIELD_ENCRYPTION_KEY = [NEW]

    assert "Patient photos files: 2 re-encrypted, 1 already under the newest key" in output
    assert all(photos.read_decrypted(p.storage_name).startswith(b"\xff\xd8") for p in stored)


def test_rotation_moves_columns_and_append_only_history_and_keeps_the_guard(settings):
    settings.FIELD_ENCRYPTION_KEY = [OLD]
    patient = create_patient(first_name="Omar", last_name="Haddad", date_of_birth=dt.date(1979, 8, 9))
    PatientEvent = apps.get_model("patients", "PatientEvent")
    event = PatientEvent.objects.filter(pgh_obj_id=patient.pk).earliest("pgh_id")

    settings.FIELD_ENCRYPTION_KEY = [NEW, OLD]
    output = rotate()
    settings.FIELD_ENCRYPTION_KEY = [NEW]

    assert Patient.objects.get(pk=patient.pk).first_name == "Omar"
    assert PatientEvent.objects.get(pk=event.pk).first_name == "Omar"
    with connection.cursor() as cursor:
        cursor.execute("SELECT first_name FROM patients_patient WHERE id = %s", [patient.pk])
        assert "Omar" not in cursor.fetchone()[0]
    assert_append_only(PatientEvent, event.pk)  # the guard is back after the command
    assert "patients.Patient: " in output and "re-encrypted" in output
    settings.FIELD_ENCRYPTION_KEY = [OLD]
    with pytest.raises(crypto.DecryptionError):
        Patient.objects.get(pk=patient.pk)


def test_a_finished_rotation_forgets_the_old_canary_so_the_old_key_may_be_dropped(settings):
    settings.FIELD_ENCRYPTION_KEY = [OLD]
    keycheck.verify_keys()
    store_photos(1)
    settings.FIELD_ENCRYPTION_KEY = [NEW, OLD]
    keycheck.ensure_keys()

    output = rotate()
    settings.FIELD_ENCRYPTION_KEY = [NEW]

    assert keycheck.ensure_keys().ok
    assert list(KeyCanary.objects.filter(kind="master").values_list("key_id", flat=True)) == [crypto.master_key_id(NEW)]
    assert "The older keys can now be removed" in output


def test_rotation_without_the_old_key_stops_and_keeps_the_old_canary(settings):
    settings.FIELD_ENCRYPTION_KEY = [OLD]
    keycheck.verify_keys()
    store_photos(1)
    settings.FIELD_ENCRYPTION_KEY = [NEW]  # the old key was dropped too early

    with pytest.raises(CommandError, match="the old key is still needed"):
        rotate()
    assert KeyCanary.objects.filter(key_id=crypto.master_key_id(OLD)).exists()
