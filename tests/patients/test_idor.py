"""Out-of-scope ids answer 404 on every patient URL: a missing patient, or a sub-record (intake
version, photo) that belongs to another patient."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from patients import services
from tests.factories import PatientFactory, UserFactory
from tests.patients.factories import IntakeVersionFactory, patient_with_photo_consent
from tests.patients.test_photos import jpeg_bytes

pytestmark = pytest.mark.django_db

PATIENT_URLS = [
    "/staff/patients/{pk}/",
    "/staff/patients/{pk}/edit/",
    "/staff/patients/{pk}/intake/",
    "/staff/patients/{pk}/intake/new/",
    "/staff/patients/{pk}/intake/v1/",
    "/staff/patients/{pk}/preferences/",
    "/staff/patients/{pk}/notes/",
    "/staff/patients/{pk}/photos/",
    "/staff/patients/{pk}/photos/1/image/",
    "/staff/patients/{pk}/access/",
    "/admin/patients/patient/{pk}/change/",
]


def test_every_patient_url_is_covered():
    from patients.urls import urlpatterns

    patient_routes = [str(p.pattern) for p in urlpatterns if "<int:pk>" in str(p.pattern)]
    assert len(patient_routes) == len(PATIENT_URLS) - 1  # + the admin change view


@pytest.mark.parametrize("url", PATIENT_URLS)
@pytest.mark.parametrize("role", ["front_desk", "provider", "manager"])
def test_unknown_patient_id_is_404(staff_client, url, role):
    client = staff_client(role)
    PatientFactory()
    response = client.get(url.format(pk=999_999))
    # Django admin answers a missing object with a redirect to its index and a message.
    assert response.status_code in ((404,) if not url.startswith("/admin/") else (302, 404))


def test_intake_version_of_another_patient_is_404(staff_client):
    client = staff_client("provider")
    mine, theirs = PatientFactory(), PatientFactory()
    IntakeVersionFactory(patient=theirs)

    assert client.get(f"/staff/patients/{mine.pk}/intake/v1/").status_code == 404
    assert client.get(f"/staff/patients/{theirs.pk}/intake/v1/").status_code == 200


def test_photo_of_another_patient_is_404(staff_client):
    client = staff_client("provider")
    mine, theirs = PatientFactory(), patient_with_photo_consent()
    photo = services.store_photo(
        patient=theirs,
        upload=SimpleUploadedFile("a.jpg", jpeg_bytes()),
        uploaded_by=UserFactory(role="provider"),
    )

    assert client.get(f"/staff/patients/{mine.pk}/photos/{photo.pk}/image/").status_code == 404
    assert client.get(f"/staff/patients/{theirs.pk}/photos/{photo.pk}/image/").status_code == 200


def test_404_pages_do_not_leak_the_other_patients_data(staff_client):
    client = staff_client("provider")
    mine, theirs = PatientFactory(), PatientFactory(first_name="Zebulon")
    IntakeVersionFactory(patient=theirs, allergies="Bee venom")

    response = client.get(f"/staff/patients/{mine.pk}/intake/v1/")

    assert response.status_code == 404
    assert "Bee venom" not in response.text and "Zebulon" not in response.text
