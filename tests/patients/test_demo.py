import io

import pytest
from django.core.management import call_command

from patients.models import IntakeVersion, Patient, PatientPhoto

pytestmark = pytest.mark.django_db


def test_demo_patients_load_once(settings):
    settings.DEBUG = True  # seed_demo refuses to run otherwise
    call_command("seed_demo", "--quiet-credentials", stdout=io.StringIO())
    call_command("seed_demo", "--quiet-credentials", stdout=io.StringIO())

    assert Patient.objects.count() == 5
    assert IntakeVersion.objects.count() == 3
    assert PatientPhoto.objects.count() == 1
