"""Policy versions (§12), cookie choice (§8), minors (§11)."""

import datetime as dt

import pytest
from django.utils import timezone

from privacy import cookies
from privacy.minors import MinorNeedsGuardianConsent, assert_booking_allowed, may_self_book, record_guardian_consent
from privacy.models import PolicyVersion
from privacy.selectors import current_policy_version
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_version_one_is_seeded_from_the_policy_text_and_served_at_privacy(client):
    version = current_policy_version()
    assert version.number == 1
    assert "Text messaging originator opt-in data and consent will not be shared" in version.text

    page = client.get("/privacy/")

    assert page.status_code == 200
    assert "Version 1" in page.text
    assert '<h2 id="s4">4. SMS and Mobile Information Privacy</h2>' in page.text
    assert "<li>Full name</li>" in page.text
    assert "top of page" not in page.text


def test_the_version_in_force_is_served_not_a_future_one(client):
    PolicyVersion.objects.create(number=2, effective_at=timezone.now() + dt.timedelta(days=10), text="Future text")
    assert current_policy_version().number == 1
    assert "Future text" not in client.get("/privacy/").text

    PolicyVersion.objects.create(number=3, effective_at=timezone.now() - dt.timedelta(minutes=1), text="New rules")
    assert current_policy_version().number == 3
    page = client.get("/privacy/").text
    assert "New rules" in page and "Earlier versions" in page


def test_no_cookie_choice_means_banner_and_no_analytics(client, settings):
    settings.PRIVACY_ANALYTICS_SCRIPT = "js/analytics.js"
    page = client.get("/privacy/").text
    assert 'class="cookie-banner"' in page
    assert "analytics.js" not in page


def test_declining_analytics_is_remembered_and_booking_still_works(client, settings):
    settings.PRIVACY_ANALYTICS_SCRIPT = "js/analytics.js"
    response = client.post("/privacy/cookies/", {"choice": "decline", "next": "/book/"})

    assert response["Location"] == "/book/"
    assert response.cookies[cookies.COOKIE_NAME].value == "essential"
    booking = client.get("/book/")
    assert booking.status_code == 200
    assert 'class="cookie-banner"' not in booking.text and "analytics.js" not in booking.text
    assert client.get("/book/account/sign-in/").status_code == 200


def test_accepting_analytics_loads_the_analytics_script_and_can_be_changed(client, settings):
    settings.PRIVACY_ANALYTICS_SCRIPT = "js/analytics.js"
    client.post("/privacy/cookies/", {"choice": "accept", "next": "/privacy/"})
    assert "analytics.js" in client.get("/privacy/").text
    assert "essential and analytics cookies" in client.get("/privacy/cookies/").text

    client.post("/privacy/cookies/", {"choice": "decline"})

    assert "analytics.js" not in client.get("/privacy/").text


def test_cookie_form_refuses_to_redirect_off_site(client):
    response = client.post("/privacy/cookies/", {"choice": "accept", "next": "https://evil.example/"})
    assert response["Location"] == "/privacy/cookies/"


def test_minor_is_refused_self_booking_and_booking_without_guardian_consent():
    today = dt.date(2026, 11, 25)
    assert not may_self_book(dt.date(2008, 11, 26), today)  # 17, birthday tomorrow
    assert may_self_book(dt.date(2008, 11, 25), today)  # 18 today
    minor = PatientFactory(date_of_birth=dt.date(2012, 1, 1))

    with pytest.raises(MinorNeedsGuardianConsent) as refused:
        assert_booking_allowed(minor)
    assert "§11" in str(refused.value)

    record_guardian_consent(
        patient=minor,
        full_name="Maria Reyes",
        relationship="parent",
        consent_text="I consent to Cinrella collecting my child's information and treating them.",
        recorded_by=UserFactory(role="front_desk"),
    )
    assert_booking_allowed(minor)  # no exception now


def test_adult_needs_no_guardian():
    assert_booking_allowed(PatientFactory(date_of_birth=dt.date(1990, 1, 1)))


def test_front_desk_records_a_guardian_consent_which_unblocks_booking(staff_client):
    minor = PatientFactory(date_of_birth=dt.date(2012, 1, 1))
    client = staff_client("front_desk")
    url = f"/staff/privacy/patients/{minor.pk}/guardian/"
    assert "no guardian consent" in client.get(url).text

    incomplete = client.post(
        url, {"full_name": "Maria Reyes", "relationship": "parent", "method": "in_person", "consent_text": "I consent."}
    )
    assert "This field is required" in incomplete.text  # identity check not confirmed
    client.post(
        url,
        {
            "full_name": "Maria Reyes",
            "relationship": "parent",
            "method": "in_person",
            "consent_text": "I consent.",
            "confirm_identity": "on",
        },
    )

    assert "guardian consent on file" in client.get(url).text
    assert_booking_allowed(minor)
    assert staff_client("billing").get(url).status_code == 403
