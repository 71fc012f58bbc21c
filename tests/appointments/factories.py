"""Scheduling set-up only the appointments tests use, built on the shared factories in tests/factories.py."""

import datetime as dt

import factory

from appointments.models import Closure, OpeningHours, Room, RoomType, TimeOff, WorkingHours
from tests.factories import LocationFactory, ProviderFactory


class RoomTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoomType

    name = factory.Sequence(lambda n: f"Room type {n}")


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Room

    location = factory.SubFactory(LocationFactory)
    name = factory.Sequence(lambda n: f"Room {n}")
    room_type = factory.SubFactory(RoomTypeFactory)


class WorkingHoursFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkingHours

    provider = factory.SubFactory(ProviderFactory)
    location = factory.SubFactory(LocationFactory)
    weekday = 0
    starts = dt.time(9)
    ends = dt.time(17)


class OpeningHoursFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OpeningHours

    location = factory.SubFactory(LocationFactory)
    weekday = 0
    opens = dt.time(8)
    closes = dt.time(20)


class ClosureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Closure

    location = factory.SubFactory(LocationFactory)
    date = dt.date(2026, 12, 25)


class TimeOffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TimeOff

    provider = factory.SubFactory(ProviderFactory)
    starts_at = dt.datetime(2026, 12, 1, 17, tzinfo=dt.UTC)
    ends_at = dt.datetime(2026, 12, 1, 20, tzinfo=dt.UTC)


def clinic(*, weekdays=range(7), starts=dt.time(9), ends=dt.time(17), services=(), tz="America/Los_Angeles", **kw):
    """A location with one provider working `starts`–`ends` on `weekdays`, able to do `services`."""
    location = LocationFactory(time_zone=tz, **kw)
    provider = ProviderFactory(services=list(services))
    for weekday in weekdays:
        WorkingHoursFactory(provider=provider, location=location, weekday=weekday, starts=starts, ends=ends)
    return location, provider
