"""Privacy benchmarks: the sharing gate, the accounting of disclosures, the retention dry run.

Builds its data in the `cinrella_bench` database (bulk inserts), then prints median and p95."""

import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "cinrella.settings"
if not os.environ.get("DATABASE_URL"):
    from cinrella.embedded_db import database_url

    os.environ["DATABASE_URL"] = database_url("cinrella_bench")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

PATIENTS = 3_000
DISCLOSURES_PER_PATIENT = 15
APPOINTMENTS = 6_000


def timed(label, fn, iterations):
    samples = []
    for _ in range(iterations):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
    print(f"{label}: median {statistics.median(samples):.2f} ms, p95 {p95:.2f} ms ({iterations} runs)")


def build():
    from django.contrib.auth.models import User

    from appointments.models import Appointment, Location, Provider, Service
    from patients.models import Patient
    from privacy.models import Disclosure, Recipient

    if Patient.objects.count() >= PATIENTS:
        return
    print(
        f"building {PATIENTS} patients, {APPOINTMENTS} appointments, {PATIENTS * DISCLOSURES_PER_PATIENT} disclosures…"
    )
    now = timezone.now()
    patients = []
    for i in range(PATIENTS):
        p = Patient(
            first_name=f"Bench{i}",
            last_name="Patient",
            email=f"bench{i}@example.com",
            mobile_phone=f"+1619555{i % 10000:04d}",
            date_of_birth=dt.date(1950 + i % 60, 1 + i % 12, 1 + i % 28),
        )
        p.refresh_blind_indexes()
        patients.append(p)
    patients = Patient.objects.bulk_create(patients, batch_size=1000)
    location = Location.objects.get_or_create(name="Bench", defaults={"address": "x", "phone": "x"})[0]
    service = Service.objects.create(name="Bench service", duration_minutes=30)
    user = User.objects.create(username=f"bench-provider-{now.timestamp()}")
    provider = Provider.objects.create(user=user, display_name="Bench")
    appointments = []
    for i in range(APPOINTMENTS):
        starts = now - dt.timedelta(hours=2 * i + 1)  # one provider, never overlapping, spread over ~2 years
        a = Appointment(
            patient=patients[i % PATIENTS],
            location=location,
            service=service,
            provider=provider,
            starts_at=starts,
            ends_at=starts + dt.timedelta(minutes=30),
            status="completed",
        )
        a.blocked_range = a.compute_blocked_range()
        appointments.append(a)
    Appointment.objects.bulk_create(appointments, batch_size=2000)
    recipients = list(Recipient.objects.filter(key__in=["twilio", "stripe", "email"]))
    rows = [
        Disclosure(
            recipient=recipients[j % len(recipients)],
            categories=["contact"],
            purpose="scheduling",
            patient=patient,
            description="bench",
        )
        for patient in patients
        for j in range(DISCLOSURES_PER_PATIENT)
    ]
    Disclosure.objects.bulk_create(rows, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def main():
    call_command("migrate", verbosity=0)
    start = time.perf_counter()
    build()
    print(f"data ready in {time.perf_counter() - start:.1f} s")
    from compliance import retention
    from patients.models import Patient
    from privacy.gate import disclose
    from privacy.policy import Category, Purpose
    from privacy.selectors import disclosures_of

    patient, other = Patient.objects.order_by("pk")[:2]
    timed(
        "gate: disclose() allowed + row written",
        lambda: disclose(
            recipient="twilio",
            categories={Category.CONTACT},
            purpose=Purpose.SCHEDULING,
            patient=patient,
            description="bench",
        ),
        500,
    )
    timed("accounting of disclosures: one patient, 6 years", lambda: list(disclosures_of(other)), 300)
    timed("enforce_retention --dry-run (whole database)", lambda: retention.enforce(dry_run=True), 5)


main()
