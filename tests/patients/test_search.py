"""Finding a patient by phone (any format), email, DOB and name (whole or 3-letter prefix)."""

import datetime as dt

import pytest

from patients import selectors
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def maria():
    return PatientFactory(
        first_name="María José",
        last_name="Núñez-López",
        email="Maria.Nunez@Example.com",
        mobile_phone="+18582560289",
        date_of_birth=dt.date(1990, 4, 1),
    )


@pytest.fixture
def other():
    return PatientFactory(
        first_name="Jennifer",
        last_name="Marsh",
        email="jen@example.com",
        mobile_phone="+16195550123",
        date_of_birth=dt.date(1985, 1, 2),
    )


@pytest.mark.parametrize("typed", ["(858) 256-0289", "858.256.0289", "+18582560289", "858 256 0289", "1-858-256-0289"])
def test_search_by_phone_in_any_format(maria, other, typed):
    kind, qs = selectors.search_patients(typed)
    assert kind == "phone"
    assert list(qs) == [maria]


@pytest.mark.parametrize("typed", ["maria.nunez@example.com", "MARIA.NUNEZ@EXAMPLE.COM", "  Maria.Nunez@Example.com "])
def test_search_by_email_is_case_insensitive(maria, other, typed):
    kind, qs = selectors.search_patients(typed)
    assert kind == "email"
    assert list(qs) == [maria]


@pytest.mark.parametrize("typed", ["1990-04-01", "04/01/1990", "4/1/1990"])
def test_search_by_date_of_birth(maria, other, typed):
    kind, qs = selectors.search_patients(typed)
    assert kind == "dob"
    assert list(qs) == [maria]


@pytest.mark.parametrize("typed", ["Maria", "maría", "MARIA", "Nunez", "núñez", "lopez", "Maria Nunez", "jose lopez"])
def test_search_by_whole_name_accent_and_case_insensitive(maria, other, typed):
    _, qs = selectors.search_patients(typed)
    assert list(qs) == [maria]


@pytest.mark.parametrize("typed", ["nun", "NÚÑ", "lop", "mar nun"])
def test_search_by_three_letter_prefix(maria, other, typed):
    _, qs = selectors.search_patients(typed)
    assert list(qs) == [maria]


def test_shared_prefix_finds_both(maria, other):
    _, qs = selectors.search_patients("mar")  # María, Marsh
    assert set(qs) == {maria, other}


def test_two_letters_find_nothing(maria):
    _, qs = selectors.search_patients("ma")
    assert list(qs) == []


def test_search_page_posts_and_shows_name_dob_masked_phone(staff_client, maria, other):
    client = staff_client("front_desk")

    response = client.post("/staff/patients/search/", {"q": "(858) 256-0289"})

    assert response.status_code == 200
    page = response.text
    assert "Núñez-López, María José" in page
    assert "1990-04-01" in page
    assert "•••-•••-0289" in page
    results = page.split('<table class="patient-table">')[1]
    assert "256-0289" not in results.replace("•••-•••-0289", "")  # the full number is not shown
    assert "Marsh" not in page


def test_search_page_rejects_too_short_name(staff_client, maria):
    client = staff_client("front_desk")

    response = client.post("/staff/patients/search/", {"q": "ma"})

    assert response.status_code == 200
    assert "Type at least 3 letters" in response.text


def test_search_form_uses_post_so_nothing_lands_in_the_url(staff_client):
    client = staff_client("front_desk")
    page = client.get("/staff/patients/").text
    assert 'method="post" action="/staff/patients/search/"' in page


def test_search_by_prefix_through_the_page(staff_client, maria, other):
    client = staff_client("provider")
    page = client.post("/staff/patients/search/", {"q": "Nuñ"}).text
    assert "María José" in page
    assert "Jennifer" not in page


def test_name_digest_table_follows_every_kind_of_write(maria):
    from django.db import connection

    from patients.models import Patient, PatientNameDigest

    assert set(PatientNameDigest.objects.filter(patient=maria).values_list("digest", flat=True)) == set(maria.name_bidx)
    maria.last_name = "Zamora"
    maria.save()
    assert list(selectors.patients_matching_name("zam")) == [maria]
    assert list(selectors.patients_matching_name("nunez")) == []

    Patient.objects.filter(pk=maria.pk).update(name_bidx=[])  # bulk update
    assert list(selectors.patients_matching_name("zam")) == []

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM patients_patient WHERE id = %s", [maria.pk])
    assert not PatientNameDigest.objects.filter(patient_id=maria.pk).exists()


def test_name_results_are_sorted_by_name(other):
    PatientFactory(first_name="Marco", last_name="Aaronson")
    _, rows, more = selectors.search_results("mar")
    assert [r["patient"].last_name for r in rows] == ["Aaronson", "Marsh"]
    assert more is False


def test_search_caps_results_and_says_so(staff_client):
    PatientFactory.create_batch(27, first_name="Marisol")
    client = staff_client("front_desk")
    page = client.post("/staff/patients/search/", {"q": "mari"}).text
    assert page.count("Marisol") == 25
    assert "More than 25 patients match" in page
