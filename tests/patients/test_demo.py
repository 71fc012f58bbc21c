import io

import pytest
from django.core.management import call_command

from patients.demo import DEMO_PATIENTS
from patients.models import IntakeVersion, Patient, PatientPhoto
from patients.selectors import patients_with_email

pytestmark = pytest.mark.django_db


def counts():
    return Patient.objects.count(), IntakeVersion.objects.count(), PatientPhoto.objects.count()


def test_demo_patients_load_once(settings):
    settings.DEBUG = True  # seed_demo refuses to run otherwise
    call_command("seed_demo", "--quiet-credentials", stdout=io.StringIO())
    after_first = counts()
    call_command("seed_demo", "--quiet-credentials", stdout=io.StringIO())

    assert counts() == after_first  # the second run adds nothing
    for demo in DEMO_PATIENTS:
        assert patients_with_email(demo["email"]).count() == 1
    assert IntakeVersion.objects.count() >= 3
    assert PatientPhoto.objects.count() >= 1
