"""Patient list (paginated, constant queries), create with duplicate warning, edit, intake versions."""

import datetime as dt

import pytest

from patients.models import IntakeVersion, Patient
from tests.factories import PatientFactory
from tests.patients.factories import IntakeVersionFactory

pytestmark = pytest.mark.django_db


def queries_for_list(client, django_assert_max_num_queries, limit):
    with django_assert_max_num_queries(limit) as captured:
        response = client.get("/staff/patients/")
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_patient_list_query_count_is_constant(staff_client, django_assert_max_num_queries):
    client = staff_client("front_desk")
    PatientFactory.create_batch(2)
    few = queries_for_list(client, django_assert_max_num_queries, 12)
    PatientFactory.create_batch(40)
    many = queries_for_list(client, django_assert_max_num_queries, 12)
    assert many == few


def test_patient_list_paginates_and_masks_phones(staff_client):
    client = staff_client("front_desk")
    PatientFactory.create_batch(30, mobile_phone="+18582560289")
    first = client.get("/staff/patients/").text
    second = client.get("/staff/patients/", {"page": 2}).text
    assert first.count("•••-•••-0289") == 25
    assert second.count("•••-•••-0289") == 5
    assert "Page 1 of 2" in first
    assert "(858) 256-0289" not in first


def create_data(**overrides):
    data = {
        "first_name": "Paloma",
        "last_name": "Reyes",
        "date_of_birth": "1992-05-06",
        "email": "paloma@example.com",
        "mobile_phone": "(619) 555-0142",
        "preferred_language": "es",
    }
    return {**data, **overrides}


def test_front_desk_creates_a_patient_with_normalised_phone(staff_client):
    client = staff_client("front_desk")

    response = client.post("/staff/patients/new/", create_data())

    patient = Patient.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/staff/patients/{patient.pk}/"
    assert patient.mobile_phone == "+16195550142"
    assert patient.full_name == "Paloma Reyes"


@pytest.mark.parametrize(
    "existing",
    [
        {"mobile_phone": "+16195550142", "email": "other@example.com"},  # same phone
        {"mobile_phone": "+16195559999", "email": "PALOMA@example.com"},  # same email + DOB
    ],
)
def test_duplicate_warning_until_confirmed(staff_client, existing):
    client = staff_client("front_desk")
    PatientFactory(date_of_birth=dt.date(1992, 5, 6), **existing)

    warned = client.post("/staff/patients/new/", create_data())
    assert warned.status_code == 200
    assert "Possible duplicate" in warned.text
    assert Patient.objects.count() == 1

    confirmed = client.post("/staff/patients/new/", create_data(confirm_duplicate="on"))
    assert confirmed.status_code == 302
    assert Patient.objects.count() == 2


def test_same_email_different_dob_is_not_a_duplicate(staff_client):
    client = staff_client("front_desk")
    PatientFactory(date_of_birth=dt.date(1970, 1, 1), email="paloma@example.com", mobile_phone="+16195559999")

    assert client.post("/staff/patients/new/", create_data()).status_code == 302


def test_invalid_phone_and_missing_name_give_clear_messages(staff_client):
    client = staff_client("front_desk")

    response = client.post("/staff/patients/new/", create_data(mobile_phone="12", first_name=""))

    assert response.status_code == 200
    assert "Enter a valid mobile number" in response.text
    assert "This field is required" in response.text
    assert not Patient.objects.exists()


def test_manager_edits_contact_and_search_finds_new_phone(staff_client):
    client = staff_client("manager")
    patient = PatientFactory(mobile_phone="+16195550000")
    data = create_data(mobile_phone="858.256.0289")

    assert client.post(f"/staff/patients/{patient.pk}/edit/", data).status_code == 302

    page = client.post("/staff/patients/search/", {"q": "+1 858 256 0289"}).text
    assert "Reyes, Paloma" in page


def test_intake_edit_makes_a_new_version_and_diff_shows_the_change(staff_client):
    client = staff_client("provider")
    patient = PatientFactory()
    IntakeVersionFactory(patient=patient, allergies="Lidocaine", medications="None")

    prefilled = client.get(f"/staff/patients/{patient.pk}/intake/new/").text
    assert "Lidocaine" in prefilled
    client.post(
        f"/staff/patients/{patient.pk}/intake/new/",
        {"allergies": "Lidocaine, latex", "medications": "None", "pregnancy_status": "no"},
    )

    versions = list(patient.intake_versions.order_by("version"))
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].allergies == "Lidocaine"  # the earlier version is untouched
    assert versions[1].allergies == "Lidocaine, latex"
    assert versions[1].recorded_by == client.user
    diff = client.get(f"/staff/patients/{patient.pk}/intake/v2/").text
    assert "Compared with version 1" in diff
    assert '<tr class="changed">' in diff
    assert "Lidocaine, latex" in diff


def test_front_desk_sees_intake_presence_only(staff_client):
    client = staff_client("front_desk")
    with_intake, without = PatientFactory(), PatientFactory()
    IntakeVersionFactory(patient=with_intake, allergies="Shellfish")

    page = client.get(f"/staff/patients/{with_intake.pk}/").text
    assert "Intake on file ✓" in page
    assert "Shellfish" not in page
    assert "No intake on file" in client.get(f"/staff/patients/{without.pk}/").text


def test_intake_version_numbers_are_unique_per_patient():
    from django.db import IntegrityError, transaction

    intake = IntakeVersionFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        IntakeVersion.objects.create(patient=intake.patient, version=1)


def test_preferences_saved_and_shown(staff_client):
    client = staff_client("provider")
    patient = PatientFactory()

    client.post(
        f"/staff/patients/{patient.pk}/preferences/",
        {"goals": "Brighter skin", "areas_of_interest": "", "comfort_notes": ""},
    )

    assert "Brighter skin" in client.get(f"/staff/patients/{patient.pk}/intake/").text
