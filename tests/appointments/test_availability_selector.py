"""Loading availability inputs from PostgreSQL: constant query count, other time zones."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from appointments.models import Appointment
from appointments.selectors import available_slots
from tests.appointments.factories import (
    ClosureFactory,
    RoomFactory,
    RoomTypeFactory,
    TimeOffFactory,
    WorkingHoursFactory,
    clinic,
)
from tests.factories import AppointmentFactory, ProviderFactory, ServiceFactory

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 11, 30)
PAST = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def count_queries(fn):
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_range_providers_or_appointments():
    room_type = RoomTypeFactory()
    service = ServiceFactory(room_types=[room_type])
    location, provider = clinic(services=[service])
    RoomFactory(location=location, room_type=room_type)

    def search(days):
        return available_slots(
            service=service,
            location=location,
            start_date=MONDAY,
            end_date=MONDAY + dt.timedelta(days=days - 1),
            not_before=PAST,
        )

    small = count_queries(lambda: search(1))
    for _ in range(4):
        other = ProviderFactory(services=[service])
        for weekday in range(7):
            WorkingHoursFactory(provider=other, location=location, weekday=weekday)
        TimeOffFactory(provider=other)
    for hour in range(10):
        AppointmentFactory(
            location=location,
            service=service,
            provider=provider,
            starts_at=dt.datetime(2026, 12, 1, 17 + hour % 6, tzinfo=dt.UTC) + dt.timedelta(days=hour),
        )
    ClosureFactory(location=location, date=MONDAY + dt.timedelta(days=3))
    large = count_queries(lambda: search(28))

    assert small == large
    assert large <= 8


def test_existing_appointments_time_off_and_closures_come_from_the_database():
    service = ServiceFactory(duration_minutes=60, buffer_after_minutes=15)
    location, provider = clinic(services=[service])
    # 10:00–11:00 local on Monday (PST = UTC-8), held until 11:15.
    AppointmentFactory(
        location=location, service=service, provider=provider, starts_at=dt.datetime(2026, 11, 30, 18, tzinfo=dt.UTC)
    )
    AppointmentFactory(
        location=location,
        service=service,
        provider=provider,
        status=Appointment.Status.CANCELLED,
        starts_at=dt.datetime(2026, 11, 30, 21, tzinfo=dt.UTC),
    )
    TimeOffFactory(
        provider=provider,
        starts_at=dt.datetime(2026, 11, 30, 23, tzinfo=dt.UTC),
        ends_at=dt.datetime(2026, 12, 1, 2, tzinfo=dt.UTC),
    )
    ClosureFactory(location=location, date=MONDAY + dt.timedelta(days=1))

    slots = available_slots(
        service=service,
        location=location,
        start_date=MONDAY,
        end_date=MONDAY + dt.timedelta(days=1),
        provider_id=provider.pk,
        not_before=PAST,
    )

    local = [s.starts_at.astimezone(dt.timezone(dt.timedelta(hours=-8))).strftime("%H:%M") for s in slots]
    assert local[0] == "11:15"  # 09:00 + 60 min + 15 min buffer would run into the 10:00 visit
    assert "13:00" in local  # the cancelled visit does not block
    assert "13:45" in local and "14:00" not in local  # time off from 15:00 (held range ends 15:00)
    assert {s.starts_at.date() for s in slots} <= {MONDAY, MONDAY + dt.timedelta(days=1)}
    assert all(s.starts_at < dt.datetime(2026, 12, 1, 8, tzinfo=dt.UTC) for s in slots)  # closed Tuesday


def test_only_providers_who_do_the_service_and_work_at_the_location_are_offered():
    service = ServiceFactory()
    location, provider = clinic(services=[service])
    clinic(services=[service])  # works elsewhere
    _, not_trained = clinic(services=[])
    WorkingHoursFactory(provider=not_trained, location=location)

    slots = available_slots(service=service, location=location, start_date=MONDAY, end_date=MONDAY, not_before=PAST)

    assert {s.provider_id for s in slots} == {provider.pk}


@override_settings(TIME_ZONE="Pacific/Auckland")
def test_server_time_zone_does_not_matter():
    service = ServiceFactory()
    location, _ = clinic(services=[service], tz="America/New_York")

    slots = available_slots(service=service, location=location, start_date=MONDAY, end_date=MONDAY, not_before=PAST)

    assert slots[0].starts_at == dt.datetime(2026, 11, 30, 14, 0, tzinfo=dt.UTC)  # 09:00 EST


def test_rooms_of_the_right_type_at_the_location_are_required():
    laser = RoomTypeFactory(name="Laser suite")
    service = ServiceFactory(room_types=[laser])
    location, provider = clinic(services=[service])
    RoomFactory(room_type=laser)  # another location's room
    RoomFactory(location=location)  # wrong type

    assert (
        available_slots(service=service, location=location, start_date=MONDAY, end_date=MONDAY, not_before=PAST) == []
    )

    room = RoomFactory(location=location, room_type=laser)
    other_service = ServiceFactory()
    provider.services.add(other_service)
    _, other_provider = clinic(services=[other_service])
    WorkingHoursFactory(provider=other_provider, location=location, weekday=0)
    AppointmentFactory(
        location=location,
        service=other_service,
        provider=other_provider,
        room=room,
        starts_at=dt.datetime(2026, 11, 30, 17, tzinfo=dt.UTC),
    )

    slots = available_slots(service=service, location=location, start_date=MONDAY, end_date=MONDAY, not_before=PAST)
    assert slots and {s.room_id for s in slots} == {room.pk}
    assert slots[0].starts_at == dt.datetime(2026, 11, 30, 17, 30, tzinfo=dt.UTC)  # room busy 09:00–09:30
