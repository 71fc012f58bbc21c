"""One factory per model shared across apps. App-only factories (rooms and hours, consent templates,
intake versions…) live in their app's tests/<app>/factories.py and build on these.

Defaults are deliberately plain; a test that depends on a value (a name it looks for, a deposit, a
status) passes it explicitly."""

import datetime as dt
from functools import cache

import factory
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from appointments.models import Appointment, Location, Provider, Service
from cinrella.roles import Role
from patients.models import Patient

DEFAULT_PASSWORD = "correct-horse-battery-staple-42"


@cache
def _default_password_hash(hashers: tuple[str, ...]) -> str:
    """DEFAULT_PASSWORD hashed once per hasher configuration with the configured (production) hasher,
    Argon2. Hashing it again for every user cost ~0.3–0.7 s a user; the hash and every sign-in's
    check are exactly what set_password would give."""
    return make_password(DEFAULT_PASSWORD)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    first_name = "Sam"
    last_name = factory.Sequence(lambda n: f"Staff{n}")
    is_staff = True

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        # UserFactory(password="...") hashes that password as before; the default one is hashed once.
        if extracted is not None:
            self.set_password(extracted)
        else:
            self.password = _default_password_hash(tuple(settings.PASSWORD_HASHERS))

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            # get_or_create: transactional tests flush the groups the migration created.
            self.groups.add(Group.objects.get_or_create(name=Role(extracted).value)[0])
        if create:
            self.save()


class TOTPDeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TOTPDevice

    user = factory.SubFactory(UserFactory)
    name = "Phone"
    confirmed = True


class PatientFactory(factory.django.DjangoModelFactory):
    """An adult with an email (portal sign-in codes) and a mobile (texts), nothing more."""

    class Meta:
        model = Patient

    first_name = "Ana"
    last_name = factory.Sequence(lambda n: f"Reyes{n}")
    email = factory.Sequence(lambda n: f"patient{n}@example.com")
    # A distinct San Diego number each (quiet hours go by area code), from 555-1000 up: never one
    # of the 555-01xx numbers that tests spell out.
    mobile_phone = factory.Sequence(lambda n: f"+1619555{1000 + n % 9000:04d}")
    date_of_birth = dt.date(1988, 5, 2)


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    name = factory.Sequence(lambda n: f"Clinic {n}")
    address = "3709 Convoy Street Ste 301, San Diego CA 92111"
    phone = "(858) 256-0289"
    time_zone = "America/Los_Angeles"
    free_cancellation_hours = 24


class ServiceFactory(factory.django.DjangoModelFactory):
    """No deposit: a deposit sends portal bookings to the payment step."""

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


class AppointmentFactory(factory.django.DjangoModelFactory):
    """Booked, three days from now (so reminders are still ahead), for the service's duration."""

    class Meta:
        model = Appointment

    patient = factory.SubFactory(PatientFactory)
    location = factory.SubFactory(LocationFactory)
    service = factory.SubFactory(ServiceFactory)
    provider = factory.SubFactory(ProviderFactory)
    starts_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=3))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + dt.timedelta(minutes=o.service.duration_minutes))
