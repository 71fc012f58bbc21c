"""The staff day view in Debian's Chromium: the time grid, and moving a visit by drag and drop."""

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from appointments.models import Appointment
from tests.appointments.factories import OpeningHoursFactory, WorkingHoursFactory, clinic
from tests.conftest import sign_in_verified
from tests.factories import AppointmentFactory, ProviderFactory, ServiceFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
DESKTOP = {"width": 1280, "height": 1000}
PX_PER_MINUTE = 1.6  # static/js/calendar.js


@pytest.fixture
def staff_page(live_server, chromium):
    context = chromium.new_context(viewport=DESKTOP)
    client = sign_in_verified(Client(), UserFactory(role="front_desk"))
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": django_settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
    page = context.new_page()
    page.errors = []
    page.on("console", lambda message: message.type == "error" and page.errors.append(message.text))
    return page


def a_day_with_two_providers():
    """Tomorrow (local), opening 8:00–19:00, two providers; Dr. Vega has a peel at 10:00."""
    peel = ServiceFactory(name="Chemical peel", duration_minutes=45)
    location, vega = clinic(services=[peel], starts=dt.time(8), ends=dt.time(19))
    vega.display_name = "Dr. Vega"
    vega.save()
    other = ProviderFactory(services=[peel], display_name="Dr. Other")
    for weekday in range(7):
        OpeningHoursFactory(location=location, weekday=weekday, opens=dt.time(8), closes=dt.time(19))
        WorkingHoursFactory(provider=other, location=location, weekday=weekday, starts=dt.time(8), ends=dt.time(19))
    local_tz = ZoneInfo(location.time_zone)
    day = (timezone.now().astimezone(local_tz) + dt.timedelta(days=1)).date()
    starts = dt.datetime.combine(day, dt.time(10), tzinfo=local_tz)
    appointment = AppointmentFactory(location=location, service=peel, provider=vega, starts_at=starts)
    return location, day, appointment, other


def test_front_desk_drags_a_visit_to_another_provider_and_time(live_server, staff_page):
    location, day, appointment, other = a_day_with_two_providers()
    page = staff_page
    page.goto(f"{live_server.url}/staff/calendar/?date={day.isoformat()}&location={location.pk}")
    page.wait_for_selector(".calendar-columns.timed")
    card = page.locator(f'.appt-card[data-move-url="/staff/appointments/{appointment.pk}/move/"]')
    target = page.locator(f'.cal-column[data-drop="{other.pk}"] .cal-body')

    # The grid starts at 8:00: 14:30 is 390 minutes down the column.
    card_box = card.bounding_box()
    assert card_box["height"] == pytest.approx(45 * PX_PER_MINUTE, abs=1)
    page.screenshot(path=str(_artifact("staff_day_grid_before_drag")), full_page=True)
    card.drag_to(target, source_position={"x": 20, "y": 4}, target_position={"x": 40, "y": 390 * PX_PER_MINUTE + 4})
    page.wait_for_selector("ul.messages", timeout=10_000)

    appointment.refresh_from_db()
    local = appointment.starts_at.astimezone(ZoneInfo(location.time_zone))
    assert appointment.provider == other and local.time() == dt.time(14, 30)
    assert f"Moved appointment #{appointment.pk} to 2:30 PM with Dr. Other." in page.content()
    page.screenshot(path=str(_artifact("staff_day_grid_after_drag")), full_page=True)
    assert page.errors == []  # no CSP violation, no script error

    # Double-clicking a free time opens the booking form for that provider and time.
    page.locator(f'.cal-column[data-drop="{other.pk}"] .cal-body').dblclick(position={"x": 40, "y": 60 * PX_PER_MINUTE})
    page.wait_for_url("**/staff/appointments/new/**")
    assert f"provider={other.pk}" in page.url and f"date={day.isoformat()}" in page.url and "time=09:00" in page.url
    assert page.locator("#id_time").input_value() == "09:00"


def test_a_drop_on_a_taken_time_says_why_and_moves_nothing(live_server, staff_page):
    location, day, appointment, other = a_day_with_two_providers()
    tz = ZoneInfo(location.time_zone)
    blocker = AppointmentFactory(
        location=location,
        service=appointment.service,
        provider=other,
        starts_at=dt.datetime.combine(day, dt.time(12), tzinfo=tz),
    )
    page = staff_page
    page.goto(f"{live_server.url}/staff/calendar/?date={day.isoformat()}&location={location.pk}")
    page.wait_for_selector(".calendar-columns.timed")
    card = page.locator(f'.appt-card[data-move-url="/staff/appointments/{appointment.pk}/move/"]')
    target = page.locator(f'.cal-column[data-drop="{other.pk}"] .cal-body')

    card.drag_to(target, source_position={"x": 20, "y": 4}, target_position={"x": 40, "y": 250 * PX_PER_MINUTE + 4})
    status = page.locator("[data-move-status]")
    expect(status).to_contain_text("That time overlaps", timeout=10_000)

    assert blocker.patient.full_name in status.inner_text()
    assert Appointment.objects.get(pk=appointment.pk).starts_at == appointment.starts_at
    page.screenshot(path=str(_artifact("staff_day_grid_conflict")), full_page=True)


def _artifact(name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / f"{name}.png"
