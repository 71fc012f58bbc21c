"""Every patient page renders for the roles that may open it."""

import pytest

from tests.factories import PatientFactory
from tests.patients.factories import ChartNoteFactory, IntakeVersionFactory

pytestmark = pytest.mark.django_db


def test_provider_opens_every_health_tab(staff_client):
    client = staff_client("provider")
    patient = PatientFactory()
    IntakeVersionFactory(patient=patient)
    ChartNoteFactory(patient=patient)
    for url in ["", "intake/", "intake/new/", "intake/v1/", "preferences/", "notes/", "photos/"]:
        response = client.get(f"/staff/patients/{patient.pk}/{url}")
        assert response.status_code == 200, url


def test_manager_opens_list_search_access_pages(staff_client):
    client = staff_client("manager")
    patient = PatientFactory()
    for url in [
        "/staff/patients/",
        "/staff/patients/search/",
        f"/staff/patients/{patient.pk}/access/",
        "/staff/access-log/",
        f"/staff/patients/{patient.pk}/edit/",
        "/staff/patients/new/",
    ]:
        assert client.get(url).status_code == 200, url
