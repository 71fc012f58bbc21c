import datetime as dt

import factory

from appointments.models import (
    Appointment,
    Closure,
    Location,
    OpeningHours,
    Provider,
    Room,
    RoomType,
    Service,
    TimeOff,
    WorkingHours,
)
from patients.models import Patient
from tests.factories import UserFactory


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    name = factory.Sequence(lambda n: f"Clinic {n}")
    address = "3709 Convoy Street Ste 301, San Diego CA 92111"
    phone = "(858) 256-0289"
    time_zone = "America/Los_Angeles"
    free_cancellation_hours = 24


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


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Service {n}")
    category = "Injectables"
    duration_minutes = 30
    price_cents = 30000

    @factory.post_generation
    def room_types(self, create, extracted, **kwargs):
        if create and extracted:
            self.room_types.set(extracted)


class ProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Provider
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory, role="provider")
    display_name = factory.Sequence(lambda n: f"Provider {n}")

    @factory.post_generation
    def services(self, create, extracted, **kwargs):
        if create and extracted:
            self.services.set(extracted)


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


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    first_name = factory.Sequence(lambda n: f"Pat{n}")
    last_name = "Example"
    email = factory.Sequence(lambda n: f"pat{n}@example.com")
    date_of_birth = dt.date(1990, 4, 2)


class AppointmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Appointment

    patient = factory.SubFactory(PatientFactory)
    location = factory.SubFactory(LocationFactory)
    service = factory.SubFactory(ServiceFactory)
    provider = factory.SubFactory(ProviderFactory)
    starts_at = dt.datetime(2026, 12, 1, 18, tzinfo=dt.UTC)
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + dt.timedelta(minutes=o.service.duration_minutes))


def clinic(*, weekdays=range(7), starts=dt.time(9), ends=dt.time(17), services=(), tz="America/Los_Angeles", **kw):
    """A location with one provider working `starts`–`ends` on `weekdays`, able to do `services`."""
    location = LocationFactory(time_zone=tz, **kw)
    provider = ProviderFactory(services=list(services))
    for weekday in weekdays:
        WorkingHoursFactory(provider=provider, location=location, weekday=weekday, starts=starts, ends=ends)
    return location, provider
