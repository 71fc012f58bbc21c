"""Payments benchmark: the day's takings report over a busy history, and the webhook endpoint's
hot paths (signature check + once-only bookkeeping) — no Stripe calls are timed.

Builds its data in the `cinrella_bench` database with bulk inserts; prints median and p95."""

import datetime as dt
import json
import logging
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["DJANGO_SETTINGS_MODULE"] = "cinrella.settings"
if not os.environ.get("DATABASE_URL"):
    from cinrella.embedded_db import database_url

    os.environ["DATABASE_URL"] = database_url("cinrella_bench")

import django  # noqa: E402

django.setup()

import stripe  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange  # noqa: E402
from django.test import Client  # noqa: E402

from appointments.models import Appointment, Location, Provider, Service  # noqa: E402
from patients.models import Patient  # noqa: E402
from payments import selectors  # noqa: E402
from payments.models import Payment, ProcessedStripeEvent  # noqa: E402

LOCATION = "Bench payments location"
DAYS = 120
PER_DAY = 150


def report(name, samples):
    samples = sorted(samples)
    p95 = samples[int(len(samples) * 0.95) - 1]
    print(f"{name}: median {statistics.median(samples) * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms (n={len(samples)})")


def build():
    location = Location.objects.filter(name=LOCATION).first()
    if location and Payment.objects.filter(appointment__location=location).count() >= DAYS * PER_DAY:
        return location
    location = location or Location.objects.create(name=LOCATION, address="x", phone="+18582560289")
    service = Service.objects.create(name="Bench service", duration_minutes=30, price_cents=20000, deposit_cents=5000)
    user = User.objects.create(username=f"bench-provider-{time.time_ns()}")
    provider = Provider.objects.create(user=user, display_name="Bench")
    patient = Patient(first_name="Bench", last_name="Patient", date_of_birth=dt.date(1990, 1, 1))
    patient.refresh_blind_indexes()
    patient.save()
    start = dt.datetime(2026, 1, 1, 16, tzinfo=dt.UTC)
    appointments = []
    for i in range(DAYS * PER_DAY):
        starts = start + dt.timedelta(minutes=30 * i)  # back to back: no overlap
        ends = starts + dt.timedelta(minutes=30)
        appointments.append(
            Appointment(
                patient=patient,
                location=location,
                service=service,
                provider=provider,
                starts_at=starts,
                ends_at=ends,
                blocked_range=DateTimeTZRange(starts, ends, "[)"),
                status=Appointment.Status.COMPLETED,
            )
        )
    Appointment.objects.bulk_create(appointments, batch_size=2000)
    kinds = [Payment.Kind.DEPOSIT, Payment.Kind.BALANCE]
    payments = [
        Payment(
            appointment=a,
            patient=patient,
            kind=kinds[n % 2],
            amount_cents=5000 if n % 2 == 0 else 15000,
            status=Payment.Status.SUCCEEDED,
            succeeded_at=a.starts_at,
            idempotency_key=f"bench:{a.pk}:{n}",
            payment_intent_id=f"pi_bench_{a.pk}_{n}",
        )
        for n, a in enumerate(appointments)
    ]
    Payment.objects.bulk_create(payments, batch_size=2000)
    return location


def bench_takings(location):
    samples = []
    days = [dt.date(2026, 1, 1) + dt.timedelta(days=d) for d in range(0, DAYS, 3)]
    for _ in range(5):
        for day in days:
            t0 = time.perf_counter()
            (row,) = selectors.takings_for_day(day, [location])
            samples.append(time.perf_counter() - t0)
    report(f"takings report, one location, {DAYS * PER_DAY} payments in history", samples)


def signed(event):
    payload = json.dumps(event)
    ts = int(time.time())
    sig = stripe.WebhookSignature._compute_signature(f"{ts}.{payload}", settings.STRIPE_WEBHOOK_SECRET)
    return payload.encode(), f"t={ts},v1={sig}"


def _post(client, body, header, expected):
    response = client.post("/webhooks/stripe/", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)
    if response.status_code != expected:
        raise RuntimeError(f"webhook answered {response.status_code}, expected {expected}")


def bench_webhook():
    logging.getLogger("django.request").setLevel(logging.ERROR)  # the forged ones log a warning each
    settings.STRIPE_WEBHOOK_SECRET = "whsec_bench"  # noqa: S105 — throwaway value for this process
    settings.STRIPE_SECRET_KEY = "sk_test_bench"  # noqa: S105 — not called: these events need no Stripe read
    client = Client()
    run = time.time_ns()
    new, dup, forged = [], [], []
    for i in range(400):
        obj = {"id": f"cus_bench_{i}", "object": "customer"}
        body, header = signed({"id": f"evt_bench_{run}_{i}", "type": "customer.updated", "data": {"object": obj}})
        t0 = time.perf_counter()
        _post(client, body, header, 200)
        new.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        _post(client, body, header, 200)
        dup.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        _post(client, body, header[:-4] + "0000", 400)
        forged.append(time.perf_counter() - t0)
    report("webhook, new event recorded once", new)
    report("webhook, duplicate event (no effect)", dup)
    report("webhook, forged signature refused", forged)
    ProcessedStripeEvent.objects.filter(event_id__startswith=f"evt_bench_{run}_").delete()


if __name__ == "__main__":
    call_command("migrate", verbosity=0)
    t0 = time.perf_counter()
    location = build()
    print(f"data ready in {time.perf_counter() - t0:.1f} s")
    bench_takings(location)
    bench_webhook()
