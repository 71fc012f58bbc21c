import datetime as dt

import factory
from django.utils import timezone

from appointments.models import Appointment, Location, Provider, Service
from consents.models import SmsConsentEvent, SmsPurpose
from consents.services import record_sms_consent_event
from patients.models import Patient
from tests.factories import UserFactory


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    name = factory.Sequence(lambda n: f"La Jolla {n}")
    address = "1 Prospect St, La Jolla, CA"
    phone = "(858) 256-0289"
    time_zone = "America/Los_Angeles"


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    name = factory.Sequence(lambda n: f"Botox {n}")
    duration_minutes = 60


class ProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Provider

    user = factory.SubFactory(UserFactory, role="provider")
    display_name = factory.Sequence(lambda n: f"Dr. Provider {n}")


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    first_name = "Ana"
    last_name = factory.Sequence(lambda n: f"Reyes{n}")
    date_of_birth = dt.date(1988, 5, 2)
    mobile_phone = factory.Sequence(lambda n: f"+1619555{1000 + n:04d}")


class AppointmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Appointment

    patient = factory.SubFactory(PatientFactory)
    location = factory.SubFactory(LocationFactory)
    service = factory.SubFactory(ServiceFactory)
    provider = factory.SubFactory(ProviderFactory)
    starts_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=3))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + dt.timedelta(hours=1))


def opt_in(phone, purpose=SmsPurpose.TRANSACTIONAL, **kwargs):
    return record_sms_consent_event(
        phone=phone,
        purpose=purpose,
        action=SmsConsentEvent.Action.OPT_IN,
        source=SmsConsentEvent.Source.PORTAL_FORM,
        disclosure_text="I agree to receive texts. Message frequency varies. Reply STOP to opt out, HELP for help.",
        **kwargs,
    )


def opt_out(phone, purpose=SmsPurpose.TRANSACTIONAL, **kwargs):
    return record_sms_consent_event(
        phone=phone,
        purpose=purpose,
        action=SmsConsentEvent.Action.OPT_OUT,
        source=SmsConsentEvent.Source.PORTAL_PREFERENCES,
        **kwargs,
    )
