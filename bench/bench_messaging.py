"""Messaging benchmarks (`make bench`), in their own database `cinrella_bench`.

1. Worker dispatch throughput: 10,000 due outbox rows, every phone opted in, a zero-latency SMS
   backend; the full send-time path runs (claim with SKIP LOCKED, consent batch lookup, quiet
   hours, privacy gate + Disclosure row, mark sending, send, record). Target ≥ 300 messages/s.
2. Inbound webhook latency with 100,000 patients: signed POSTs through the whole Django stack
   (middleware, RequestValidator, blind-index lookup, ledger, conversation), form-urlencoded with
   the parameters Twilio sends, as Twilio posts them, signed for the public URL. Target p95 < 25 ms.

Both run with the production settings (`bench/production_settings.py`: DJANGO_DEBUG=false,
connections kept, bench-only secrets); `BENCH_DEBUG=1` measures the development settings.
"""

import datetime as dt
import os
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "cinrella.settings"
os.environ["SMS_BACKEND"] = "messaging.backends.LocmemBackend"
if not os.environ.get("DATABASE_URL"):
    from cinrella.embedded_db import database_url

    os.environ["DATABASE_URL"] = database_url("cinrella_bench")
elif "cinrella_bench" not in os.environ["DATABASE_URL"]:
    base, _, _ = os.environ["DATABASE_URL"].rpartition("/")
    os.environ["DATABASE_URL"] = f"{base}/cinrella_bench"

import django  # noqa: E402
import production_settings  # noqa: E402 — sets the environment before Django reads it

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from cinrella import crypto  # noqa: E402
from consents.models import SmsConsentEvent  # noqa: E402
from messaging.backends import BaseBackend, SendResult  # noqa: E402
from messaging.dispatch import run_once  # noqa: E402
from messaging.models import Kind, OutboundMessage  # noqa: E402
from messaging.views.webhooks import webhook_auth_token  # noqa: E402

DISPATCH_ROWS = 10_000
PATIENTS = 100_000
WEBHOOK_REQUESTS = 400
FORM_URLENCODED = "application/x-www-form-urlencoded"  # how Twilio posts webhooks


class ZeroLatencyBackend(BaseBackend):
    def __init__(self):
        self.count = 0

    def send(self, *, to, body, reference):
        self.count += 1
        return SendResult(sid=f"SMbench{reference:0>27}")


def phone_for(i: int) -> str:
    # San Diego area codes, valid NANP numbers: 619-2xx-xxxx … (unique per i)
    return f"+1619{2000000 + i:07d}"


def reset():
    tables = [
        "messaging_outboundmessage",
        "messaging_inboundmessage",
        "messaging_conversation",
        "consents_smsconsentevent",
        "privacy_disclosure",
        "appointments_appointment",
        "patients_patient",
        "patients_patientnamedigest",  # trigger-maintained, no foreign key: CASCADE does not reach it
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")


def seed_consents(phones, purpose="transactional"):
    now = timezone.now() - dt.timedelta(days=30)
    events = [
        SmsConsentEvent(
            phone=p,
            phone_bidx=crypto.blind_index("phone", p),
            purpose=purpose,
            action="opt_in",
            source="portal_form",
            disclosure_text="bench",
            occurred_at=now,
        )
        for p in phones
    ]
    SmsConsentEvent.objects.bulk_create(events, batch_size=2000)


def bench_dispatch():
    reset()
    phones = [phone_for(i) for i in range(DISPATCH_ROWS)]
    seed_consents(phones)
    # A moment inside everyone's sending window: noon in San Diego, today.
    from zoneinfo import ZoneInfo

    local_noon = timezone.now().astimezone(ZoneInfo("America/Los_Angeles")).replace(hour=12, minute=0, second=0)
    now = local_noon.astimezone(dt.UTC)
    due = now - dt.timedelta(minutes=1)
    rows = [
        OutboundMessage(
            idempotency_key=f"bench:{i}",
            purpose="transactional",
            kind=Kind.REMINDER,
            to_phone=p,
            to_bidx=crypto.blind_index("phone", p),
            body="Cinrella Med Spa: Reminder: your appointment is Tue Mar 3 at 2:30 PM. Reply STOP to opt out.",
            due_at=due,
            next_attempt_at=due,
        )
        for i, p in enumerate(phones)
    ]
    OutboundMessage.objects.bulk_create(rows, batch_size=2000)
    backend = ZeroLatencyBackend()
    started = time.perf_counter()
    result = run_once(backend=backend, now=now)
    elapsed = time.perf_counter() - started
    sent = OutboundMessage.objects.filter(status="sent").count()
    if not sent == DISPATCH_ROWS == backend.count == result.sent:
        raise RuntimeError(f"dispatch bench: {sent} rows sent, {backend.count} backend calls, {result}")
    rate = DISPATCH_ROWS / elapsed
    print(f"dispatch: {DISPATCH_ROWS} due rows sent in {elapsed:.2f} s → {rate:.0f} messages/s (target ≥ 300/s)")
    return rate


def seed_patients():
    reset()
    token = crypto.encrypt_bytes
    constant = {
        name: token(value.encode()).decode()
        for name, value in {
            "first_name": "Ana",
            "last_name": "Bench",
            "email": "",
            "date_of_birth": "1988-05-02",
            "blank": "",
        }.items()
    }
    name_bidx = crypto.name_prefix_digests("Ana", "Bench")
    dob_bidx = crypto.blind_index("dob", "1988-05-02")
    now = timezone.now()
    columns = [
        "first_name", "last_name", "email", "mobile_phone", "date_of_birth", "address_line1", "address_line2",
        "city", "state", "postal_code", "emergency_contact_name", "emergency_contact_phone",
        "emergency_contact_relationship", "preferred_language", "phone_bidx", "email_bidx", "dob_bidx", "name_bidx",
        "created_at", "updated_at",
    ]  # fmt: skip
    blank = constant["blank"]
    with connection.cursor() as cursor, cursor.copy(f"COPY patients_patient ({', '.join(columns)}) FROM STDIN") as copy:
        for i in range(PATIENTS):
            phone = phone_for(i)
            copy.write_row(
                [
                    constant["first_name"], constant["last_name"], constant["email"],
                    token(phone.encode()).decode(), constant["date_of_birth"],
                    blank, blank, blank, blank, blank, blank, blank, blank,
                    "en", crypto.blind_index("phone", phone), "", dob_bidx, name_bidx, now, now,
                ]
            )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE patients_patient")
    seed_consents([phone_for(i) for i in range(0, PATIENTS, 10)])


def bench_webhook():
    seed_patients()
    client = Client()
    path = reverse("messaging-twilio-inbound")
    # Signed for the public URL Twilio would call (PUBLIC_BASE_URL), as the view checks it.
    url = (settings.PUBLIC_BASE_URL.rstrip("/") or "http://testserver") + path
    validator = RequestValidator(webhook_auth_token())
    bodies = ["Running 5 minutes late", "Thanks!", "HELP", "STOP", "Can I move to Friday?", "please stop texting me"]
    rng = random.Random(7)  # noqa: S311 — reproducible test data, not security
    timings, by_text = [], {}
    for n in range(WEBHOOK_REQUESTS + 20):
        sid = f"SMbench{n:027d}"
        # What Twilio posts for an inbound SMS: every parameter is signed, form-urlencoded.
        params = {
            "ToCountry": "US",
            "ToState": "CA",
            "SmsMessageSid": sid,
            "NumMedia": "0",
            "ToCity": "SAN DIEGO",
            "FromZip": "92101",
            "SmsSid": sid,
            "FromState": "CA",
            "SmsStatus": "received",
            "FromCity": "SAN DIEGO",
            "Body": rng.choice(bodies),
            "FromCountry": "US",
            "To": "+18582560289",
            "MessagingServiceSid": "MG" + "0" * 32,
            "ToZip": "92121",
            "NumSegments": "1",
            "MessageSid": sid,
            "AccountSid": "AC" + "0" * 32,
            "From": phone_for(rng.randrange(PATIENTS)),
            "ApiVersion": "2010-04-01",
        }
        signature = validator.compute_signature(url, params)
        started = time.perf_counter()
        response = client.post(
            path, urlencode(params), content_type=FORM_URLENCODED, headers={"X-Twilio-Signature": signature}
        )
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"webhook answered {response.status_code}")
        if n >= 20:  # warm-up excluded
            timings.append(elapsed * 1000)
            by_text.setdefault(params["Body"], []).append(elapsed * 1000)
    p95 = _p95(timings)
    print(
        f"inbound webhook at {PATIENTS:,} patients: median {statistics.median(timings):.1f} ms, "
        f"p95 {p95:.1f} ms over {len(timings)} signed requests (target p95 < 25 ms)"
    )
    for text, samples in by_text.items():
        print(f"  {text!r}: median {statistics.median(samples):.1f} ms, p95 {_p95(samples):.1f} ms (n={len(samples)})")
    return p95


def _p95(samples):
    ordered = sorted(samples)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)]


def machine_context():
    """Round-trip and load figures, to read the results against (both benches are bound by them)."""
    with connection.cursor() as cursor:
        timings = []
        for _ in range(50):
            started = time.perf_counter()
            cursor.execute("SELECT 1")
            cursor.fetchone()
            timings.append((time.perf_counter() - started) * 1000)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"context: database round trip median {statistics.median(timings):.2f} ms, "
        f"load average {load:.1f} on {os.cpu_count()} CPUs"
    )


def main():
    call_command("migrate", verbosity=0)
    production_settings.prepare_static_files()
    print(production_settings.describe_settings())
    machine_context()
    bench_dispatch()
    bench_webhook()
    reset()


if __name__ == "__main__":
    main()
