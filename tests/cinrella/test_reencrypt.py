import datetime as dt

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from cinrella import crypto
from patients.models import Patient
from patients.services import create_patient

pytestmark = pytest.mark.django_db


def test_reencrypt_command_moves_rows_to_the_new_key(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = [old]
    patient = create_patient(first_name="Lena", last_name="Park", date_of_birth=dt.date(1991, 2, 3))

    settings.FIELD_ENCRYPTION_KEY = [new, old]
    call_command("reencrypt_phi", stdout=open("/dev/null", "w"))  # noqa: SIM115

    settings.FIELD_ENCRYPTION_KEY = [new]  # old key retired: every row still reads
    assert Patient.objects.get(pk=patient.pk).first_name == "Lena"
    with connection.cursor() as cursor:
        cursor.execute("SELECT first_name FROM patients_patient WHERE id = %s", [patient.pk])
        stored = cursor.fetchone()[0]
    assert "Lena" not in stored
    with pytest.raises(crypto.DecryptionError):
        settings.FIELD_ENCRYPTION_KEY = [old]
        Patient.objects.get(pk=patient.pk)


def test_reencrypt_also_rotates_append_only_history_and_keeps_the_guard(settings):
    from django.apps import apps

    from tests.helpers import assert_append_only

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = [old]
    patient = create_patient(first_name="Omar", last_name="Haddad", date_of_birth=dt.date(1979, 8, 9))
    PatientEvent = apps.get_model("patients", "PatientEvent")
    event = PatientEvent.objects.filter(pgh_obj_id=patient.pk).earliest("pgh_id")

    settings.FIELD_ENCRYPTION_KEY = [new, old]
    call_command("reencrypt_phi", stdout=open("/dev/null", "w"))  # noqa: SIM115
    settings.FIELD_ENCRYPTION_KEY = [new]

    assert PatientEvent.objects.get(pk=event.pk).first_name == "Omar"
    assert_append_only(PatientEvent, event.pk)  # the guard is back after the command
