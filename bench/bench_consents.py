"""SMS consent state lookups on a large ledger: `sms_opted_in(phone, purpose)` must stay one index
probe (DESIGN.md §5 "cheap to query, no scan of the whole ledger"), plus `missing_consents`.

Builds (once; the ledger is append-only, so a rerun reuses it) 150,000 ledger events over 30,000
phones in the `cinrella_bench` database, then times lookups of random phones."""

import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

os.environ["DJANGO_SETTINGS_MODULE"] = "cinrella.settings"
if not os.environ.get("DATABASE_URL"):
    from cinrella.embedded_db import database_url

    os.environ["DATABASE_URL"] = database_url("cinrella_bench")
else:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(os.environ["DATABASE_URL"])
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path="/cinrella_bench"))

import django  # noqa: E402

django.setup()

import datetime as dt  # noqa: E402

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

PHONES = 30_000
EVENTS_PER_PHONE = 5
ITERATIONS = 2_000


def phone(n: int) -> str:
    return f"+1858{2000000 + n:07d}"


def build():
    from cinrella import crypto
    from consents.models import SmsConsentEvent

    if SmsConsentEvent.objects.count() >= PHONES * EVENTS_PER_PHONE:
        return
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    batch = []
    for n in range(PHONES):
        number = phone(n)
        digest = crypto.blind_index("phone", number)
        for k in range(EVENTS_PER_PHONE):
            batch.append(
                SmsConsentEvent(
                    phone=number,
                    phone_bidx=digest,
                    purpose="transactional" if k % 2 == 0 else "marketing",
                    action="opt_in" if k < 3 else "opt_out",
                    source="portal_form",
                    disclosure_text="bench",
                    disclosure_version="bench",
                    occurred_at=start + dt.timedelta(minutes=n * 10 + k),
                )
            )
        if len(batch) >= 20_000:
            SmsConsentEvent.objects.bulk_create(batch)
            batch = []
    SmsConsentEvent.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE consents_smsconsentevent")


def timed(label, fn, iterations=ITERATIONS):
    samples = []
    for _ in range(iterations):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    p95 = samples[int(len(samples) * 0.95) - 1]
    print(f"{label}: median {statistics.median(samples):.3f} ms, p95 {p95:.3f} ms over {iterations} runs")


def main():
    call_command("migrate", verbosity=0)
    t0 = time.perf_counter()
    build()
    print(f"ledger ready ({PHONES * EVENTS_PER_PHONE} events) in {time.perf_counter() - t0:.1f} s")

    from consents.models import SmsConsentEvent
    from consents.selectors import latest_sms_consent, phone_digest, sms_opted_in

    rng = random.Random(7)  # noqa: S311 — picks benchmark phones, not secrets
    timed(
        "sms_opted_in(random phone, transactional)", lambda: sms_opted_in(phone(rng.randrange(PHONES)), "transactional")
    )
    timed(
        "latest_sms_consent(random phone, marketing)",
        lambda: latest_sms_consent(phone(rng.randrange(PHONES)), "marketing"),
    )

    query = (
        SmsConsentEvent.objects.filter(
            phone_bidx=phone_digest(phone(123)), purpose="transactional", action__in=["opt_in", "opt_out"]
        )
        .order_by("-occurred_at", "-id")
        .values("id")[:1]
    )
    plan = query.explain()
    print("plan:", " | ".join(line.strip() for line in plan.splitlines()))
    if "Seq Scan" in plan:
        print("WARNING: the current-state lookup scans the ledger")


main()
