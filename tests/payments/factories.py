import datetime as dt

import factory
from django.utils import timezone

from appointments.models import Appointment, Location, Provider, Service
from patients.models import Patient
from tests.factories import UserFactory


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    first_name = "Ana"
    last_name = factory.Sequence(lambda n: f"Reyes{n}")
    email = factory.Sequence(lambda n: f"ana{n}@example.com")
    mobile_phone = "+16195550142"
    date_of_birth = dt.date(1988, 5, 2)


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    name = factory.Sequence(lambda n: f"Convoy {n}")
    address = "3709 Convoy Street Ste 301, San Diego CA 92111"
    phone = "+18582560289"
    time_zone = "America/Los_Angeles"
    free_cancellation_hours = 24
    late_cancellation_fee_cents = 5000
    no_show_fee_cents = 7500


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    name = factory.Sequence(lambda n: f"Hydrafacial {n}")
    duration_minutes = 60
    price_cents = 20000
    deposit_cents = 5000
    currency = "usd"


class ProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Provider

    user = factory.SubFactory(UserFactory, role="provider")
    display_name = factory.Sequence(lambda n: f"Dr. Provider {n}")


class AppointmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Appointment

    patient = factory.SubFactory(PatientFactory)
    location = factory.SubFactory(LocationFactory)
    service = factory.SubFactory(ServiceFactory)
    provider = factory.SubFactory(ProviderFactory)
    starts_at = factory.Sequence(lambda n: timezone.now() + dt.timedelta(days=3, hours=n * 2))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + dt.timedelta(minutes=60))
