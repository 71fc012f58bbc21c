"""The access log: one row per health read, with who, whose record, category, IP, user agent and
path (no query string), written even when the request fails afterwards; superusers included."""

import pytest
from django.db import connection

from privacy.access_log import recently_viewed_by
from privacy.models import AccessLog
from tests.factories import PatientFactory
from tests.patients.factories import ChartNoteFactory, IntakeVersionFactory

pytestmark = pytest.mark.django_db

HEALTH_READS = ["intake/", "intake/v1/", "intake/new/", "preferences/", "notes/", "photos/"]


# Managers read health but do not write it: the two edit pages are 404 for them (tested elsewhere).
CASES = [(role, url) for role in ("provider", "manager") for url in HEALTH_READS]
CASES = [(r, u) for r, u in CASES if not (r == "manager" and u in ("intake/new/", "preferences/"))]


@pytest.mark.parametrize(("role", "url"), CASES)
def test_each_health_read_writes_one_access_log_row(staff_client, url, role):
    client = staff_client(role)
    patient = PatientFactory()
    IntakeVersionFactory(patient=patient)

    response = client.get(
        f"/staff/patients/{patient.pk}/{url}?tab=secret-query",
        HTTP_USER_AGENT="TestBrowser/1.0",
        REMOTE_ADDR="203.0.113.9",
    )

    assert response.status_code == 200
    row = AccessLog.objects.get(patient=patient, category="health")
    assert row.user == client.user
    assert row.username == client.user.username
    assert row.roles == role
    assert row.action == "read"
    assert row.allowed is True
    assert row.ip_address == "203.0.113.9"
    assert row.user_agent == "TestBrowser/1.0"
    assert row.path == f"/staff/patients/{patient.pk}/{url}"  # no query string
    assert "secret" not in row.path


def test_refused_health_read_is_logged_as_refused(staff_client):
    client = staff_client("front_desk")
    patient = PatientFactory()

    assert client.get(f"/staff/patients/{patient.pk}/intake/").status_code == 404

    row = AccessLog.objects.get(patient=patient, category="health")
    assert row.allowed is False


def test_superuser_is_logged_like_anyone_else(staff_client):
    client = staff_client(None, is_superuser=True)
    patient = PatientFactory()
    IntakeVersionFactory(patient=patient)

    client.get(f"/staff/patients/{patient.pk}/intake/")
    client.get(f"/admin/patients/patient/{patient.pk}/change/")

    rows = AccessLog.objects.filter(patient=patient, user=client.user)
    assert rows.filter(category="health", path__startswith="/staff/").count() == 1
    assert rows.filter(path__startswith="/admin/").values_list("category", flat=True).count() == 3
    assert all(r.is_superuser for r in rows)


@pytest.mark.parametrize("role", ["front_desk", "provider", "billing", "manager"])
def test_every_admin_change_view_is_logged(staff_client, role):
    client = staff_client(role)
    patient = PatientFactory()

    client.get(f"/admin/patients/patient/{patient.pk}/change/")

    rows = AccessLog.objects.filter(patient=patient, user=client.user, path__startswith="/admin/")
    assert rows.filter(category="identity", allowed=True).exists()
    health = rows.filter(category="health")
    assert health.exists() is (role in ("provider", "manager"))


def test_log_row_survives_an_error_later_in_the_request(staff_client):
    """Corrupt the stored ciphertext: decrypting fails after the access was logged."""
    client = staff_client("provider")
    client.raise_request_exception = False
    patient = PatientFactory()
    note = ChartNoteFactory(patient=patient)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE patients_chartnote SET body = 'gAAAAAnot-a-valid-token' WHERE id = %s", [note.pk])

    response = client.get(f"/staff/patients/{patient.pk}/notes/")

    assert response.status_code == 500
    assert AccessLog.objects.filter(patient=patient, category="health", path__endswith="/notes/").count() == 1


def test_recently_viewed_by_lists_distinct_people_newest_first(staff_client, client):
    patient = PatientFactory()
    provider = staff_client("provider")
    provider_user = provider.user
    provider.get(f"/staff/patients/{patient.pk}/")
    provider.get(f"/staff/patients/{patient.pk}/intake/")
    manager = staff_client("manager")  # the same test client, now signed in as a manager

    page = manager.get(f"/staff/patients/{patient.pk}/").text

    viewers = recently_viewed_by(patient)
    assert [v["user_id"] for v in viewers] == [manager.user.pk, provider_user.pk]
    assert "Recently viewed by" in page
    assert provider_user.username in page


def test_manager_browses_log_filtered_by_patient_and_by_staff_member(staff_client):
    a, b = PatientFactory(), PatientFactory()
    provider = staff_client("provider")
    provider_user = provider.user
    provider.get(f"/staff/patients/{a.pk}/intake/")
    provider.get(f"/staff/patients/{b.pk}/intake/")
    manager = staff_client("manager")

    by_patient = manager.get("/staff/access-log/", {"patient": a.pk}).text
    by_user = manager.get("/staff/access-log/", {"user": provider_user.pk}).text
    bad = manager.get("/staff/access-log/", {"patient": "abc"})

    assert f'href="/staff/patients/{a.pk}/"' in by_patient
    assert f'href="/staff/patients/{b.pk}/"' not in by_patient
    assert f'href="/staff/patients/{a.pk}/"' in by_user and f'href="/staff/patients/{b.pk}/"' in by_user
    assert bad.status_code == 200


def test_patient_access_history_tab_shows_who_and_what(staff_client):
    patient = PatientFactory()
    provider = staff_client("provider")
    provider_name = provider.user.username
    provider.get(f"/staff/patients/{patient.pk}/notes/")
    manager = staff_client("manager")

    page = manager.get(f"/staff/patients/{patient.pk}/access/").text

    assert provider_name in page
    assert f"/staff/patients/{patient.pk}/notes/" in page
