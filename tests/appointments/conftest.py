import datetime as dt

import pytest
import time_machine
from django.core.cache import cache

from tests.appointments.factories import OpeningHoursFactory, RoomFactory, RoomTypeFactory, clinic
from tests.factories import ServiceFactory

# Wednesday 2026-11-25 10:00 in San Diego.
FROZEN_NOW = dt.datetime(2026, 11, 25, 18, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def frozen_now():
    with time_machine.travel(FROZEN_NOW, tick=False):
        yield FROZEN_NOW


@pytest.fixture
def portal_clinic(db):
    """One location with opening hours, a treatment room, two services and one provider."""
    room_type = RoomTypeFactory(name="Treatment room")
    botox = ServiceFactory(
        name="Neuromodulator",
        category="Injectables",
        duration_minutes=30,
        buffer_after_minutes=15,
        room_types=[room_type],
    )
    peel = ServiceFactory(name="Chemical peel", category="Skin", duration_minutes=45)
    location, provider = clinic(services=[botox, peel], weekdays=range(6))
    for weekday in range(6):
        OpeningHoursFactory(location=location, weekday=weekday, opens=dt.time(8), closes=dt.time(19))
    room = RoomFactory(location=location, room_type=room_type, name="Room 1")
    return {"location": location, "provider": provider, "service": botox, "peel": peel, "room": room}
