"""Demo consent templates (short, realistic texts), a couple of signatures and the demo patients'
SMS opt-ins. Idempotent."""

import base64
import io

from django.contrib.auth.models import User
from PIL import Image, ImageDraw

from consents import selectors, services
from consents.models import ConsentKind, ConsentSignature, ConsentTemplate, SmsPurpose

# slug, title, kind, validity in days (None = no expiry), service-name words it is required for, text
DEMO_TEMPLATES = [
    (
        "neuromodulator",
        "Neuromodulator (botulinum toxin) treatment consent",
        ConsentKind.TREATMENT,
        365,
        ["botox", "neuromodulator", "dysport", "xeomin"],
        "I request treatment with a botulinum toxin product (e.g. Botox, Dysport, Xeomin) to relax "
        "selected facial muscles.\n\nExpected results appear in 3 to 14 days and usually last 3 to 4 "
        "months. Possible side effects include bruising, swelling, headache, temporary eyelid or brow "
        "drooping, asymmetry and, rarely, allergic reaction. I have told my provider if I am pregnant or "
        "breastfeeding, or have a neuromuscular disorder.\n\nI have had the chance to ask questions and "
        "understand that results are not guaranteed. I consent to the treatment.",
    ),
    (
        "dermal-filler",
        "Dermal filler treatment consent",
        ConsentKind.TREATMENT,
        365,
        ["filler", "juvederm", "restylane"],
        "I request injection of a hyaluronic-acid dermal filler.\n\nCommon effects are swelling, "
        "redness, tenderness and bruising for a few days. Rare but serious risks include infection, "
        "lumps, and blockage of a blood vessel, which can cause skin damage or, very rarely, vision "
        "loss. I will contact the clinic at once if I notice unusual pain, blanching or vision changes."
        "\n\nI consent to the treatment and to the use of hyaluronidase to dissolve the filler if needed.",
    ),
    (
        "chemical-peel",
        "Chemical peel consent",
        ConsentKind.TREATMENT,
        365,
        ["peel"],
        "I request a chemical peel. Stinging and warmth during the peel, then redness, dryness and "
        "peeling for up to 7 days are expected. Risks include prolonged redness, pigment changes, "
        "cold-sore flare-ups and, rarely, scarring.\n\nI have stopped retinoids for the time my provider "
        "advised and will use sunscreen daily. I consent to the treatment.",
    ),
    (
        "laser",
        "Laser and light treatment consent",
        ConsentKind.TREATMENT,
        365,
        ["laser", "ipl"],
        "I request laser or intense pulsed light treatment. Expected effects are redness, swelling "
        "and a sunburn-like feeling. Risks include blistering, burns, pigment changes and eye injury "
        "(protective eyewear is required).\n\nI have told my provider about recent tanning, photosensitising "
        "medication and history of keloids. I consent to the treatment.",
    ),
    (
        "photo-clinical",
        "Photography consent — clinical record only",
        ConsentKind.PHOTO_CLINICAL,
        None,
        [],
        "I allow Cinrella Med Spa to take before, during and after photographs of the treated area for my "
        "medical record only. They are stored encrypted, seen only by my care team, and never used for "
        "marketing without my separate written consent. I may withdraw this consent at any time.",
    ),
    (
        "photo-marketing",
        "Photography consent — marketing use",
        ConsentKind.PHOTO_MARKETING,
        None,
        [],
        "I allow Cinrella Med Spa to use my before-and-after photographs on its website, social media and "
        "printed materials. My name will not be shown; my face may be partly visible. I receive no payment. "
        "This consent is optional and not a condition of treatment. I may revoke it at any time; the clinic "
        "will stop new uses immediately.",
    ),
    (
        "hipaa-notice",
        "Acknowledgement of the Notice of Privacy Practices (HIPAA)",
        ConsentKind.HIPAA_NOTICE,
        None,
        [],
        "I acknowledge that I have received or been offered Cinrella Med Spa's Notice of Privacy Practices, "
        "which explains how my health information may be used and disclosed and my rights regarding it.",
    ),
    (
        "financial-policy",
        "Financial and cancellation policy",
        ConsentKind.FINANCIAL_POLICY,
        365,
        [],
        "Payment is due at the time of service. Appointments cancelled or rescheduled less than 24 hours "
        "before the start, and missed appointments, may be charged the fee shown when booking. Deposits "
        "are applied to the visit. Cosmetic treatments are not covered by insurance.",
    ),
]


# The text-message boxes demo patients ticked on the booking form: (mobile number, purposes).
# Aisha Rahman (+18585550130) never opted in, so her texts show as suppressed, with the reason.
DEMO_SMS_CHOICES = [
    ("+16195550101", {SmsPurpose.TRANSACTIONAL, SmsPurpose.MARKETING}),  # María José Núñez
    ("+18585550110", {SmsPurpose.TRANSACTIONAL, SmsPurpose.MARKETING}),  # Jennifer Marsh
    ("+16195550120", {SmsPurpose.TRANSACTIONAL}),  # Linh Tran
]


def _demo_signature_data_url() -> str:
    image = Image.new("RGBA", (480, 160), (0, 0, 0, 0))
    ImageDraw.Draw(image).line(
        [(20, 120), (70, 40), (110, 110), (160, 50), (210, 115), (300, 60), (440, 90)], fill=(20, 24, 40, 255), width=4
    )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def load(stdout) -> None:
    from appointments.models import Service
    from patients.models import Patient

    manager = User.objects.filter(username="manager").first()
    templates = {}
    for slug, title, kind, validity, service_words, text in DEMO_TEMPLATES:
        template, _ = ConsentTemplate.objects.get_or_create(
            slug=slug, defaults={"title": title, "kind": kind, "validity_days": validity}
        )
        if selectors.current_version(template) is None:
            services.publish_template_version(template=template, body=text, user=manager)
        for service in Service.objects.all():
            if any(word in service.name.lower() for word in service_words):
                template.required_for_services.add(service)
        templates[slug] = template

    # Two demo patients have signed: the first the HIPAA and financial forms, the second also
    # both photo consents. Skipped when no demo patient exists yet.
    for patient, slugs in zip(
        Patient.objects.order_by("pk")[:2],
        [["hipaa-notice", "financial-policy"], ["hipaa-notice", "photo-clinical", "photo-marketing"]],
        strict=False,
    ):
        for slug in slugs:
            template = templates[slug]
            if ConsentSignature.objects.filter(patient=patient, template_version__template=template).exists():
                continue
            services.sign_consent(
                patient=patient,
                version=selectors.current_version(template),
                typed_name=patient.full_name,
                signature_data_url=_demo_signature_data_url(),
                channel=ConsentSignature.Channel.FRONT_DESK,
            )
        if "photo-clinical" in slugs:
            from patients.demo import add_demo_photo

            add_demo_photo(patient)  # photos only with the clinical photo consent signed (§2B)
    stdout.write(f"consents: {len(templates)} consent templates, demo signatures for up to 2 patients\n")
    load_sms_opt_ins(stdout)


def load_sms_opt_ins(stdout) -> None:
    """Without any opt-in every demo confirmation and reminder would be suppressed, and a new user
    would see nothing sent. Recorded as the booking portal records them (exact disclosure text and
    version), which also queues the one double opt-in confirmation per phone, as a real sign-up
    does. A phone with any ledger event already is left alone."""
    from django.utils import timezone

    from cinrella import crypto
    from consents.models import PhoneVerification
    from patients.selectors import patients_with_phone

    recorded = 0
    for phone, purposes in DEMO_SMS_CHOICES:
        if selectors.sms_consent_history(phone).exists():
            continue
        patient = patients_with_phone(phone).order_by("-updated_at").first()
        if patient is not None:
            # The demo patients proved their numbers on the portal (a code texted and entered), so
            # their form's boxes opt them in; any other number would get a "Reply YES" request first.
            PhoneVerification.objects.create(
                phone=phone,
                phone_bidx=crypto.blind_index("phone", phone),
                patient=patient,
                method=PhoneVerification.Method.SMS_CODE,
                verified_at=timezone.now(),
            )
        services.record_portal_sms_choices(
            phone=phone,
            transactional=SmsPurpose.TRANSACTIONAL in purposes,
            marketing=SmsPurpose.MARKETING in purposes,
            request=None,
            patient=patient,
        )
        recorded += 1
    stdout.write(f"consents: SMS opt-ins recorded for {recorded} demo phones\n")
