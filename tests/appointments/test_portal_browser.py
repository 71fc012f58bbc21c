"""Booking on a phone-sized screen in Debian's Chromium, driven by Playwright."""

import datetime as dt
from pathlib import Path

import pytest
from django.db import connections
from django.utils import timezone

from appointments.models import Appointment, BookingRequest
from appointments.views.portal import manage_token
from tests.appointments.factories import (
    OpeningHoursFactory,
    RoomFactory,
    RoomTypeFactory,
    WorkingHoursFactory,
    clinic,
)
from tests.factories import AppointmentFactory, ProviderFactory, ServiceFactory

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def browser_page(live_server, chromium):
    context = chromium.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    return context.new_page()


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


def _open_all_week(location, room_type, room_name):
    for weekday in range(7):
        OpeningHoursFactory(location=location, weekday=weekday, opens=dt.time(8), closes=dt.time(20))
    return RoomFactory(location=location, room_type=room_type, name=room_name)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_patient_chooses_a_location_and_reschedules_with_anyone_on_a_phone(live_server, browser_page):
    room_type = RoomTypeFactory(name="Treatment room")
    service = ServiceFactory(name="Neuromodulator", category="Injectables", duration_minutes=30, room_types=[room_type])
    hours = {"services": [service], "starts": dt.time(8), "ends": dt.time(20)}
    san_diego, paula = clinic(name="San Diego – Convoy", **hours)
    manhattan, _ = clinic(
        name="Manhattan", address="10 Hudson Yards, New York NY 10001", tz="America/New_York", **hours
    )
    room = _open_all_week(san_diego, room_type, "Room 1")
    _open_all_week(manhattan, room_type, "Room A")
    nora = ProviderFactory(services=[service], display_name="Nora Nurse, RN")
    for weekday in range(7):
        WorkingHoursFactory(provider=nora, location=san_diego, weekday=weekday, starts=dt.time(8), ends=dt.time(20))
    starts_at = (timezone.now() + dt.timedelta(days=3)).replace(hour=18, minute=0, second=0, microsecond=0)
    visit = AppointmentFactory(location=san_diego, service=service, provider=paula, room=room, starts_at=starts_at)
    page = browser_page
    ARTIFACTS.mkdir(exist_ok=True)

    page.goto(f"{live_server.url}/book/")
    page.get_by_role("link", name="Neuromodulator").click()
    page.wait_for_selector("text=Where would you like to come?")
    assert "New York time (E" in page.content() and "10 Hudson Yards" in page.content()
    page.screenshot(path=str(ARTIFACTS / "portal-location-phone.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.get_by_role("link", name="Manhattan").click()
    page.get_by_role("link", name="Anyone available").click()
    page.wait_for_selector(".time-button")
    assert "New York time (E" in page.content()

    page.goto(f"{live_server.url}/book/manage/{manage_token(visit)}/reschedule/")
    page.get_by_role("link", name="Anyone available").click()
    page.wait_for_selector(".time-button")
    page.screenshot(path=str(ARTIFACTS / "portal-reschedule-phone.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.locator(".time-button").first.click()
    page.wait_for_selector("text=Appointment moved")
    try:
        visit.refresh_from_db()
        assert visit.starts_at != starts_at and visit.location == san_diego
    finally:
        connections.close_all()
