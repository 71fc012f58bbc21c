import base64
import io

import factory
from django.utils import timezone
from PIL import Image, ImageDraw

from consents.models import ConsentKind, ConsentTemplate, ConsentTemplateVersion


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


def verify_phone(patient, phone=None):
    """The patient proved they hold their number (a code texted and entered on the portal)."""
    from django.utils import timezone

    from cinrella import crypto
    from consents.models import PhoneVerification

    phone = crypto.normalise_phone(phone or patient.mobile_phone)
    return PhoneVerification.objects.create(
        phone=phone,
        phone_bidx=crypto.blind_index("phone", phone),
        patient=patient,
        method=PhoneVerification.Method.SMS_CODE,
        verified_at=timezone.now(),
    )
