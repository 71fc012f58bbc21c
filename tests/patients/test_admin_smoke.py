import pytest

from tests.factories import PatientFactory
from tests.patients.factories import IntakeVersionFactory

pytestmark = pytest.mark.django_db


def test_superuser_admin_change_view_renders(staff_client):
    client = staff_client(None, is_superuser=True)
    patient = PatientFactory()
    IntakeVersionFactory(patient=patient)
    r = client.get(f"/admin/patients/patient/{patient.pk}/change/")
    assert r.status_code == 200
    assert "Lidocaine" in r.text
    r = client.get("/admin/patients/patient/")
    assert r.status_code == 200
