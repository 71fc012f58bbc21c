"""Photo uploads: consent gate, content validation, EXIF stripping, encrypted storage, gated serving."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from patients import photos
from patients.models import PatientPhoto
from privacy.models import AccessLog
from tests.factories import PatientFactory
from tests.patients.factories import patient_with_photo_consent

pytestmark = pytest.mark.django_db

GPS_IFD = 0x8825


def jpeg_bytes(size=(64, 48), with_gps=False, color=(200, 120, 90)) -> bytes:
    image = Image.new("RGB", size, color)
    exif = Image.Exif()
    if with_gps:
        exif[0x010F] = "PhoneMaker"  # Make
        exif[0x0110] = "SecretCam 9"  # Model
        exif.get_ifd(GPS_IFD).update({1: "N", 2: (32.0, 49.0, 30.0), 3: "W", 4: (117.0, 9.0, 10.0)})
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def upload(client, patient, data: bytes, name="photo.jpg", content_type="image/jpeg"):
    file = SimpleUploadedFile(name, data, content_type=content_type)
    return client.post(f"/staff/patients/{patient.pk}/photos/", {"image": file, "kind": "before", "caption": "x"})


def test_html_file_renamed_jpg_is_rejected(staff_client):
    client = staff_client("provider")
    patient = patient_with_photo_consent()

    response = upload(client, patient, b"<html><script>alert(1)</script></html>", name="evil.jpg")

    assert response.status_code == 400
    assert "not a photo we can read" in response.text
    assert not PatientPhoto.objects.exists()


def test_gif_is_rejected_even_though_pillow_reads_it(staff_client):
    client = staff_client("provider")
    patient = patient_with_photo_consent()
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, format="GIF")

    response = upload(client, patient, out.getvalue(), name="x.jpg")

    assert response.status_code == 400
    assert not PatientPhoto.objects.exists()


def test_upload_strips_exif_gps_and_device(staff_client):
    client = staff_client("provider")
    patient = patient_with_photo_consent()
    original = jpeg_bytes(with_gps=True)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)  # the fixture really has GPS

    response = upload(client, patient, original)

    assert response.status_code == 302
    photo = PatientPhoto.objects.get()
    stored = photos.read_decrypted(photo.storage_name)
    image = Image.open(io.BytesIO(stored))
    exif = image.getexif()
    assert not exif.get_ifd(GPS_IFD)
    assert 0x010F not in exif and 0x0110 not in exif
    assert b"SecretCam" not in stored and b"PhoneMaker" not in stored
    assert (photo.width, photo.height) == (64, 48)


def test_served_image_matches_the_cleaned_photo_and_is_logged(staff_client):
    client = staff_client("provider")
    patient = patient_with_photo_consent()
    upload(client, patient, jpeg_bytes(with_gps=True))
    photo = PatientPhoto.objects.get()

    response = client.get(f"/staff/patients/{patient.pk}/photos/{photo.pk}/image/")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert "no-store" in response["Cache-Control"]
    assert response.content == photos.read_decrypted(photo.storage_name)
    assert AccessLog.objects.filter(patient=patient, category="health", path__endswith="/image/").count() == 1


def test_upload_refused_without_photo_consent(staff_client):
    client = staff_client("provider")
    patient = PatientFactory()  # no signed photo consent

    response = upload(client, patient, jpeg_bytes())

    assert not PatientPhoto.objects.exists()
    assert "No photo consent is on file" in client.get(f"/staff/patients/{patient.pk}/photos/").text
    assert response.status_code == 200


def test_too_many_pixels_is_rejected(staff_client, settings):
    settings.PATIENT_PHOTO_MAX_PIXELS = 1000
    client = staff_client("provider")
    patient = patient_with_photo_consent()

    response = upload(client, patient, jpeg_bytes(size=(100, 100)))

    assert response.status_code == 400
    assert "too many pixels" in response.text
    assert not PatientPhoto.objects.exists()


def test_too_many_bytes_is_rejected(staff_client, settings):
    settings.PATIENT_PHOTO_MAX_BYTES = 200
    client = staff_client("provider")
    patient = patient_with_photo_consent()

    response = upload(client, patient, jpeg_bytes())

    assert response.status_code == 400
    assert "too large" in response.text


@pytest.mark.parametrize("role", ["front_desk", "billing"])
def test_roles_without_health_access_cannot_fetch_or_upload_photos(staff_client, role):
    provider = staff_client("provider")
    patient = patient_with_photo_consent()
    upload(provider, patient, jpeg_bytes())
    photo = PatientPhoto.objects.get()
    client = staff_client(role)

    assert client.get(f"/staff/patients/{patient.pk}/photos/{photo.pk}/image/").status_code == 404
    assert upload(client, patient, jpeg_bytes()).status_code == 404
    assert PatientPhoto.objects.count() == 1


def test_manager_sees_photos_but_cannot_upload(staff_client):
    provider = staff_client("provider")
    patient = patient_with_photo_consent()
    upload(provider, patient, jpeg_bytes())
    manager = staff_client("manager")

    page = manager.get(f"/staff/patients/{patient.pk}/photos/").text

    assert "Add a photo" not in page
    assert upload(manager, patient, jpeg_bytes()).status_code == 404
    assert PatientPhoto.objects.count() == 1
