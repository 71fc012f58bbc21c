"""The portal on a phone-sized Chromium: cookie choice without JavaScript, code sign-in, download."""

import re

import pytest
from django.core import mail

from tests.factories import PatientFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def camila(transactional_db):
    # Created before the browser starts: Playwright's sync API runs an event loop, and Django
    # refuses ORM calls from a thread with a running loop.
    return PatientFactory(first_name="Camila", email="camila@example.com")


@pytest.fixture
def phone_page(camila, live_server, chromium):
    context = chromium.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False)
    return context.new_page()


def test_phone_visitor_declines_analytics_signs_in_with_a_code_and_downloads_records(live_server, camila, phone_page):
    patient, page = camila, phone_page

    page.goto(f"{live_server.url}/book/account/sign-in/")
    assert page.locator(".cookie-banner").is_visible()
    page.locator(".cookie-banner button[value=decline]").click()
    assert page.locator(".cookie-banner").count() == 0
    assert page.url.endswith("/book/account/sign-in/")

    page.fill("input[name=contact]", "camila@example.com")
    page.fill("input[name=date_of_birth]", patient.date_of_birth.isoformat())
    page.get_by_role("button", name="Send me a code").click()
    assert "If we found you" in page.content()
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    page.fill("input[name=code]", code)
    page.get_by_role("button", name="Sign in").click()

    assert page.get_by_role("heading", name="Hello Camila").is_visible()
    # nothing overflows the phone's width
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.goto(f"{live_server.url}/book/account/records/")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download ZIP").click()
    assert download.value.suggested_filename == "cinrella-records.zip"
