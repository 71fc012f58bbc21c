"""Privacy demo data for `seed_demo`: a demo patient who can sign in to the portal with a code
(the email is printed by the console email backend), one open correction request in the staff
queue, and a few disclosures in their accounting. Idempotent."""

import datetime as dt

DEMO_EMAIL = "privacy.demo@example.com"
DEMO_DOB = dt.date(1990, 4, 12)


def load(stdout):
    from compliance.services import create_rights_request
    from patients.selectors import returning_patient
    from patients.services import create_patient
    from privacy.gate import disclose
    from privacy.models import RightsRequest
    from privacy.policy import Category, Purpose

    patient = returning_patient(date_of_birth=DEMO_DOB, email=DEMO_EMAIL)
    if patient is None:
        patient = create_patient(
            first_name="Priya",
            last_name="Demo",
            date_of_birth=DEMO_DOB,
            email=DEMO_EMAIL,
            mobile_phone="(619) 555-0190",
            city="San Diego",
            state="CA",
        )
        disclose(
            recipient="twilio",
            categories={Category.CONTACT},
            purpose=Purpose.SCHEDULING,
            patient=patient,
            description="Appointment reminder (demo)",
        )
        disclose(
            recipient="stripe",
            categories={Category.IDENTITY, Category.CONTACT, Category.PAYMENT},
            purpose=Purpose.PAYMENT,
            patient=patient,
            description="Deposit for a consultation (demo)",
        )
    if not RightsRequest.objects.filter(patient=patient).exists():
        create_rights_request(
            patient=patient,
            kind=RightsRequest.Kind.CORRECTION,
            field_name="last_name",
            requested_value="Demo-Sharma",
            note="I married last year.",
        )
    stdout.write(
        f"Privacy demo: portal sign-in at /book/account/sign-in/ with {DEMO_EMAIL} and {DEMO_DOB.isoformat()} "
        "(the code is printed by the console email backend)."
    )
