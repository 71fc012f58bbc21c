"""The patient page in a real browser (Debian's Chromium through Playwright): what a provider and
front desk see, and that the CSP lets the page work without inline script or style."""

import os
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from consents.models import ConsentKind
from tests.conftest import sign_in_verified
from tests.consents.factories import sign_consent_of_kind
from tests.factories import PatientFactory, UserFactory
from tests.patients.factories import ChartNoteFactory, IntakeVersionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = os.environ.get("CINRELLA_SCREENSHOTS")  # a folder: keep screenshots for review


@pytest.fixture
def browser(live_server, chromium):
    # After live_server: Chromium closes before the server stops.
    return chromium


def page_as(browser, live_server, client, role):
    user = UserFactory(role=role, first_name=role.replace("_", " ").title(), last_name="Tester")
    sign_in_verified(client, user)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies(
        [
            {
                "name": django_settings.SESSION_COOKIE_NAME,
                "value": client.cookies["sessionid"].value,
                "url": live_server.url,
            }
        ]
    )
    page = context.new_page()
    errors = []

    def on_console(message):
        # Failed loads are checked by URL below (Chromium asks for /favicon.ico on its own).
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    def on_response(response):
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            errors.append(f"{response.status} {response.url}")

    page.on("console", on_console)
    page.on("response", on_response)
    return page, errors


def shot(page, name):
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


@pytest.fixture
def role_groups():
    """A transactional test starts from a flushed database: the role groups that a data
    migration made may be gone."""
    from django.contrib.auth.models import Group

    from cinrella.roles import Role

    for role in Role:
        Group.objects.get_or_create(name=role.value)


@pytest.fixture
def record(role_groups):
    patient = PatientFactory(
        first_name="María José", last_name="Núñez", email="maria@example.com", mobile_phone="+18582560289"
    )
    IntakeVersionFactory(patient=patient, allergies="Lidocaine")
    IntakeVersionFactory(patient=patient, allergies="Lidocaine, latex")
    ChartNoteFactory(patient=patient)
    return patient


def test_provider_sees_health_tabs_and_version_diff(browser, live_server, client, record):
    page, errors = page_as(browser, live_server, client, "provider")
    page.goto(f"{live_server.url}/staff/patients/{record.pk}/")
    assert page.get_by_role("heading", name="María José Núñez").is_visible()
    assert page.get_by_text("Intake on file ✓").is_visible()
    shot(page, "patient-provider")

    page.get_by_role("link", name="Medical history").first.click()
    assert page.get_by_text("Lidocaine, latex").first.is_visible()
    page.get_by_role("link", name="View & compare").click()
    assert page.get_by_text("Compared with version 1").is_visible()
    assert page.locator("tr.changed").count() >= 1
    shot(page, "intake-diff-provider")
    assert errors == []


def test_front_desk_sees_presence_only(browser, live_server, client, record):
    page, errors = page_as(browser, live_server, client, "front_desk")
    page.goto(f"{live_server.url}/staff/patients/{record.pk}/")
    assert page.get_by_text("Intake on file ✓").is_visible()
    assert page.get_by_role("link", name="Medical history").count() == 0
    assert page.get_by_text("Lidocaine").count() == 0
    assert page.get_by_text("(858) 256-0289").is_visible()
    shot(page, "patient-front-desk")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Patients").click()
    page.get_by_label("Find a patient").fill("858.256.0289")
    page.get_by_role("button", name="Search").click()
    assert "/staff/patients/search/" in page.url and "858" not in page.url  # POST: nothing in the URL
    assert page.get_by_text("•••-•••-0289").is_visible()
    shot(page, "search-front-desk")
    assert errors == []


def test_provider_photo_and_manager_access_history(browser, live_server, client, record):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from patients import services
    from tests.patients.test_photos import jpeg_bytes

    sign_consent_of_kind(record, ConsentKind.PHOTO_CLINICAL)
    provider = UserFactory(role="provider")
    services.store_photo(
        patient=record, upload=SimpleUploadedFile("a.jpg", jpeg_bytes(size=(320, 240))), uploaded_by=provider
    )
    page, errors = page_as(browser, live_server, client, "provider")
    page.goto(f"{live_server.url}/staff/patients/{record.pk}/photos/")
    image = page.locator(".photo img").first
    image.wait_for()
    assert page.evaluate("img => img.naturalWidth", image.element_handle()) == 320  # served and decoded
    shot(page, "photos-provider")

    manager_page, manager_errors = page_as(browser, live_server, client, "manager")
    manager_page.goto(f"{live_server.url}/staff/patients/{record.pk}/")
    assert manager_page.get_by_text("Recently viewed by").is_visible()
    manager_page.get_by_role("link", name="Access history").click()
    assert manager_page.get_by_role("heading", name="Who opened this record").is_visible()
    assert manager_page.locator("table.access-rows tbody tr").count() >= 2
    shot(manager_page, "access-history-manager")
    assert errors == [] and manager_errors == []
