"""Booking on a phone-sized screen in Debian's Chromium, driven by Playwright."""

import datetime as dt
from pathlib import Path

import pytest
from django.db import connections

from appointments.models import Appointment, BookingRequest
from tests.appointments.factories import OpeningHoursFactory, RoomFactory, RoomTypeFactory, clinic
from tests.factories import ServiceFactory

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def browser_page():
    from playwright.sync_api import sync_playwright

    # DJANGO_ALLOW_ASYNC_UNSAFE is set for the whole suite (pyproject, [tool.pytest_env]):
    # Playwright's sync API runs an event loop in this thread; the ORM calls in the test are fine.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
        yield context.new_page()
        browser.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_patient_books_on_a_phone(live_server, browser_page):
    room_type = RoomTypeFactory(name="Treatment room")
    service = ServiceFactory(name="Neuromodulator", category="Injectables", duration_minutes=30, room_types=[room_type])
    location, _ = clinic(services=[service], starts=dt.time(8), ends=dt.time(20))
    for weekday in range(7):
        OpeningHoursFactory(location=location, weekday=weekday, opens=dt.time(8), closes=dt.time(20))
    RoomFactory(location=location, room_type=room_type)
    page = browser_page
    ARTIFACTS.mkdir(exist_ok=True)

    page.goto(f"{live_server.url}/book/")
    page.get_by_role("link", name="Neuromodulator").click()
    page.get_by_role("link", name="Anyone available").click()
    page.wait_for_selector(".time-button")
    assert "Times are shown in the clinic's time zone" in page.content()
    page.screenshot(path=str(ARTIFACTS / "portal-times-phone.png"), full_page=True)
    page.locator(".time-button").first.click()
    page.get_by_label("First name").fill("Dana")
    page.get_by_label("Last name").fill("Rivera")
    page.get_by_label("Email").fill("dana@example.com")
    page.get_by_label("Mobile phone (optional)").fill("(619) 555-0134")
    page.get_by_label("Date of birth").fill("1991-06-15")
    page.get_by_role("button", name="Continue").click()
    boxes = page.locator("input[type=checkbox]")
    assert boxes.count() == 3 and not any(boxes.nth(i).is_checked() for i in range(3))
    page.locator("input[name=sms_transactional]").check()
    page.locator("input[name=privacy_acknowledged]").check()
    page.screenshot(path=str(ARTIFACTS / "portal-consents-phone.png"), full_page=True)
    page.get_by_role("button", name="Book appointment").click()
    page.wait_for_selector("text=You're booked!")

    page.screenshot(path=str(ARTIFACTS / "portal-booked-phone.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling
    try:
        appointment = Appointment.objects.get()
        assert appointment.source == "portal" and appointment.patient.first_name == "Dana"
        assert BookingRequest.objects.get(appointment=appointment).sms_transactional
    finally:
        # Playwright's sync API runs this body in its own context, where Django opened a separate
        # connection; close it here or it outlives the test and blocks dropping the test database.
        connections.close_all()
    assert (ARTIFACTS / "portal-booked-phone.png").stat().st_size > 10_000
