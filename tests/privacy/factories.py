import datetime as dt

import factory
from django.utils import timezone

from appointments.models import Appointment, Location, Provider, Service
from patients.models import Patient
from tests.factories import UserFactory


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    first_name = factory.Sequence(lambda n: f"Ana{n}")
    last_name = "Reyes"
    email = factory.Sequence(lambda n: f"ana{n}@example.com")
    mobile_phone = factory.Sequence(lambda n: f"+1619555{n % 10000:04d}")
    date_of_birth = dt.date(1988, 5, 2)
    address_line1 = "1 Harbor Dr"
    city = "San Diego"


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location
        django_get_or_create = ("name",)

    name = "Convoy Street"
    address = "3709 Convoy Street Ste 301, San Diego CA 92111"
    phone = "(858) 256-0289"


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    name = "Consultation"
    duration_minutes = 30


class ProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Provider

    user = factory.SubFactory(UserFactory, role="provider")
    display_name = "Dr. Lee"


class AppointmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Appointment

    patient = factory.SubFactory(PatientFactory)
    location = factory.SubFactory(LocationFactory)
    service = factory.SubFactory(ServiceFactory)
    provider = factory.SubFactory(ProviderFactory)
    starts_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=30))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + dt.timedelta(minutes=30))
    status = Appointment.Status.COMPLETED
