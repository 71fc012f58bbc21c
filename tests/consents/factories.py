import base64
import datetime as dt
import io

import factory
from django.utils import timezone
from PIL import Image, ImageDraw

from appointments.models import Appointment, Location, Provider, Service
from consents.models import ConsentKind, ConsentTemplate, ConsentTemplateVersion
from patients.models import Patient
from tests.factories import UserFactory


def signature_data_url() -> str:
    """A small transparent PNG with a stroke on it, like signature_pad's toDataURL()."""
    image = Image.new("RGBA", (300, 100), (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(10, 80), (80, 20), (150, 70), (290, 30)], fill=(0, 0, 0, 255), width=3)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def blank_signature_data_url() -> str:
    buffer = io.BytesIO()
    Image.new("RGBA", (300, 100), (0, 0, 0, 0)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    first_name = "Maria"
    last_name = factory.Sequence(lambda n: f"Lopez{n}")
    email = factory.Sequence(lambda n: f"patient{n}@example.com")
    mobile_phone = factory.Sequence(lambda n: f"+1858555{n % 10000:04d}")
    date_of_birth = dt.date(1990, 4, 12)


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

    name = factory.Sequence(lambda n: f"Neuromodulator {n}")
    duration_minutes = 30


class ProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Provider

    user = factory.SubFactory(UserFactory, role="provider")
    display_name = "Paula Provider"


class AppointmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Appointment

    patient = factory.SubFactory(PatientFactory)
    location = factory.SubFactory(LocationFactory)
    service = factory.SubFactory(ServiceFactory)
    provider = factory.SubFactory(ProviderFactory)
    starts_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(hours=1))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + dt.timedelta(minutes=30))
    status = Appointment.Status.CHECKED_IN


class ConsentTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConsentTemplate

    slug = factory.Sequence(lambda n: f"consent-{n}")
    title = factory.Sequence(lambda n: f"Neuromodulator treatment consent {n}")
    kind = ConsentKind.TREATMENT
    validity_days = 365


class ConsentTemplateVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConsentTemplateVersion

    template = factory.SubFactory(ConsentTemplateFactory)
    number = 1
    body = "I understand the risks of this treatment, including bruising and swelling."
    published_at = factory.LazyFunction(timezone.now)


def sign_consent_of_kind(patient, kind, **kwargs):
    """A valid signature of a published template of `kind` (e.g. ConsentKind.PHOTO_CLINICAL)."""
    from consents import selectors, services
    from consents.models import ConsentSignature

    template = ConsentTemplateFactory(kind=kind)
    services.publish_template_version(template=template, body=f"Consent text for {kind}.")
    return services.sign_consent(
        patient=patient,
        version=selectors.current_version(template),
        typed_name=patient.full_name,
        signature_data_url=signature_data_url(),
        channel=ConsentSignature.Channel.FRONT_DESK,
        **kwargs,
    )
