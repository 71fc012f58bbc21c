"""Demo patients for `manage.py seed_demo` (idempotent: a patient is recognised by email + DOB)."""

import datetime as dt
import io

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

from patients import selectors, services

DEMO_PATIENTS = [
    {
        "first_name": "María José",
        "last_name": "Núñez",
        "email": "maria.nunez@demo.cinrella.invalid",
        "mobile_phone": "+16195550101",
        "date_of_birth": dt.date(1988, 4, 12),
        "address_line1": "4455 Genesee Ave",
        "city": "San Diego",
        "state": "CA",
        "postal_code": "92117",
        "emergency_contact_name": "Luis Núñez",
        "emergency_contact_phone": "+16195550102",
        "emergency_contact_relationship": "Husband",
        "preferred_language": "es",
    },
    {
        "first_name": "Jennifer",
        "last_name": "Marsh",
        "email": "jen.marsh@demo.cinrella.invalid",
        "mobile_phone": "+18585550110",
        "date_of_birth": dt.date(1979, 11, 3),
        "city": "La Jolla",
        "state": "CA",
        "postal_code": "92037",
    },
    {
        "first_name": "Linh",
        "last_name": "Tran",
        "email": "linh.tran@demo.cinrella.invalid",
        "mobile_phone": "+16195550120",
        "date_of_birth": dt.date(1995, 2, 27),
        "preferred_language": "vi",
    },
    {
        "first_name": "Aisha",
        "last_name": "Rahman",
        "email": "aisha.rahman@demo.cinrella.invalid",
        "mobile_phone": "+18585550130",
        "date_of_birth": dt.date(1991, 8, 19),
    },
    {
        "first_name": "Olivia",
        "last_name": "Bennett",
        "email": "olivia.bennett@demo.cinrella.invalid",
        "mobile_phone": "",
        "date_of_birth": dt.date(1968, 6, 1),
    },
]

INTAKES = {
    "maria.nunez@demo.cinrella.invalid": [
        {
            "allergies": "Lidocaine",
            "medications": "None",
            "conditions": "Mild rosacea",
            "pregnancy_status": "no",
            "prior_aesthetic_treatments": "Botox forehead (2024)",
            "notes": "",
        },
        {
            "allergies": "Lidocaine, latex",
            "medications": "Spironolactone 50 mg",
            "conditions": "Mild rosacea",
            "pregnancy_status": "no",
            "prior_aesthetic_treatments": "Botox forehead (2024), HydraFacial",
            "notes": "Bruises easily",
        },
    ],
    "jen.marsh@demo.cinrella.invalid": [
        {
            "allergies": "None known",
            "medications": "Levothyroxine",
            "conditions": "Hypothyroidism",
            "pregnancy_status": "not_applicable",
            "prior_aesthetic_treatments": "None",
            "notes": "",
        },
    ],
}


def _demo_photo() -> SimpleUploadedFile:
    image = Image.new("RGB", (480, 360), (236, 224, 240))
    draw = ImageDraw.Draw(image)
    draw.ellipse((150, 60, 330, 300), fill=(222, 184, 160))
    draw.text((12, 12), "Demo photo", fill=(90, 60, 110))
    out = io.BytesIO()
    image.save(out, format="JPEG")
    return SimpleUploadedFile("demo.jpg", out.getvalue(), content_type="image/jpeg")


def load(stdout) -> None:
    users = get_user_model().objects
    provider = users.filter(username="provider").first()
    created = 0
    for data in DEMO_PATIENTS:
        existing = selectors.returning_patient(date_of_birth=data["date_of_birth"], email=data["email"])
        patient = existing or services.create_patient(**data)
        created += existing is None
        if existing is not None:
            continue
        for answers in INTAKES.get(data["email"], []):
            services.record_intake(patient=patient, answers=answers, recorded_by=provider)
        if provider and data["email"].startswith("maria"):
            services.save_treatment_preferences(
                patient=patient,
                values={
                    "goals": "Soften forehead lines",
                    "areas_of_interest": "Forehead, crow's feet",
                    "comfort_notes": "Numbing cream; afternoon visits",
                },
                updated_by=provider,
            )
            services.add_chart_note(
                patient=patient,
                author=provider,
                body="Consult: forehead and crow's feet. Lidocaine allergy noted; use ice only.",
            )
    stdout.write(f"patients: {created} demo patients added ({len(DEMO_PATIENTS) - created} already there)")


def add_demo_photo(patient) -> None:
    """A baseline photo for a demo patient who has signed the photo consent (consents demo)."""
    provider = get_user_model().objects.filter(username="provider").first()
    if provider and not patient.photos.exists():
        services.store_photo(patient=patient, upload=_demo_photo(), uploaded_by=provider, caption="Baseline")
