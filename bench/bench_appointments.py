"""Scheduling benchmarks (issue #4).

1. Availability through the portal's time view (`/book/<service>/any/`, 14 days of slots) with 20
   providers, 6 rooms and 100,000 existing appointments: median and p95 per request
   (target p95 < 50 ms), plus the query count per request.
2. Staff day view with 150 appointments: query count and render time (median, p95).

Data lives in the `cinrella_bench` database: appointments are bulk-inserted (the exclusion
constraints and history triggers still run), and removed again at the end so the database stays
usable for the other benchmarks.
"""

import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "cinrella.settings"

N_APPOINTMENTS = int(os.environ.get("BENCH_APPOINTMENTS", "100000"))
N_PROVIDERS = 20
N_ROOMS = 6
N_REQUESTS = int(os.environ.get("BENCH_AVAILABILITY_REQUESTS", "60"))
DAY_VIEW_APPOINTMENTS = 150


def _bench_database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        from cinrella.embedded_db import database_url

        return database_url("cinrella_bench")
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'cinrella_bench'").fetchone():
            conn.execute('CREATE DATABASE "cinrella_bench"')
    return urlunsplit(urlsplit(url)._replace(path="/cinrella_bench"))


os.environ["DATABASE_URL"] = _bench_database_url()

import django  # noqa: E402
import production_settings  # noqa: E402 — sets the environment before Django reads it

django.setup()

from zoneinfo import ZoneInfo  # noqa: E402

import pgtrigger  # noqa: E402
from django.contrib.auth.models import Group, User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_otp import DEVICE_ID_SESSION_KEY  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

from appointments.availability import local_instant  # noqa: E402
from appointments.models import (  # noqa: E402
    Appointment,
    Location,
    OpeningHours,
    Provider,
    Room,
    RoomType,
    Service,
    WorkingHours,
)
from patients.models import Patient  # noqa: E402

LOCATION_NAME = "Bench clinic"
SLOTS_PER_DAY = 10
SLOT_MINUTES = 45  # 30-minute visit + 15-minute buffer after, back to back


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def report(label, samples_ms, cpu_ms=None):
    line = f"{label}: median {statistics.median(samples_ms):.1f} ms, p95 {percentile(samples_ms, 95):.1f} ms"
    if cpu_ms:
        # This process's CPU only: on a shared, loaded machine wall time includes waiting for a core.
        line += f"; python CPU median {statistics.median(cpu_ms):.1f} ms"
    print(f"{line} (n={len(samples_ms)})")


def timed(fn, n):
    wall, cpu = [], []
    for _ in range(n):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        cpu.append((time.process_time() - c0) * 1000)
        wall.append((time.perf_counter() - w0) * 1000)
    return wall, cpu


def clean():
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE appointments_bookingrequest, appointments_appointmentevent, appointments_appointment CASCADE"
        )
    Location.objects.filter(name=LOCATION_NAME).delete()  # cascades hours, rooms, closures


def insert(rows):
    # Synthetic rows: no history events for them (the audit trigger is the app's, not the bench's).
    with pgtrigger.ignore("appointments.Appointment:insert_insert"):
        Appointment.objects.bulk_create(rows, batch_size=5000)


def build():
    clean()
    location = Location.objects.create(
        name=LOCATION_NAME, address="1 Bench Way", phone="(858) 256-0289", time_zone="America/Los_Angeles"
    )
    tz = ZoneInfo(location.time_zone)
    OpeningHours.objects.bulk_create(
        OpeningHours(location=location, weekday=d, opens=dt.time(8), closes=dt.time(19)) for d in range(7)
    )
    room_type, _ = RoomType.objects.get_or_create(name="Bench treatment room")
    rooms = Room.objects.bulk_create(
        Room(location=location, name=f"Bench room {i}", room_type=room_type) for i in range(N_ROOMS)
    )
    service, _ = Service.objects.update_or_create(
        name="Bench neuromodulator", defaults={"duration_minutes": 30, "buffer_after_minutes": 15}
    )
    service.room_types.set([room_type])
    group = Group.objects.get(name="provider")
    users = []
    for i in range(N_PROVIDERS):
        user, _ = User.objects.get_or_create(username=f"bench-provider-{i}", defaults={"is_staff": True})
        user.groups.add(group)
        users.append(user)
    Provider.objects.filter(user__in=users).delete()
    providers = Provider.objects.bulk_create(
        Provider(user=u, display_name=f"Bench provider {i}") for i, u in enumerate(users)
    )
    for provider in providers:
        provider.services.add(service)
    WorkingHours.objects.bulk_create(
        WorkingHours(provider=p, location=location, weekday=d, starts=dt.time(9), ends=dt.time(17))
        for p in providers
        for d in range(7)
    )
    patient_ids = list(Patient.objects.values_list("pk", flat=True)[:500])
    if len(patient_ids) < 500:
        made = Patient.objects.bulk_create(
            Patient(first_name=f"Bench{i}", last_name="Patient", date_of_birth=dt.date(1980, 1, 1 + i % 28))
            for i in range(500 - len(patient_ids))
        )
        patient_ids += [p.pk for p in made]

    # 10 slots of 45 minutes per provider-day (09:00–16:30). Rooms go to the first 6 providers only,
    # so no room is ever double-booked. Days run from a year back to the booking window and beyond;
    # inside the next 14 days every other slot is taken so the engine has real gaps to find.
    today = timezone.now().astimezone(tz).date()
    per_day = N_PROVIDERS * SLOTS_PER_DAY
    n_days = -(-N_APPOINTMENTS // per_day) + 14
    first_day = today - dt.timedelta(days=n_days - 28)
    dense_day = today + dt.timedelta(days=20)  # the staff day view's day: exactly 150 appointments
    rows, made = [], 0
    day = first_day
    while made < N_APPOINTMENTS:
        in_window = today <= day < today + dt.timedelta(days=14)
        for index, provider in enumerate(providers):
            for slot in range(SLOTS_PER_DAY):
                if in_window and (slot + index) % 2:
                    continue
                if day == dense_day and slot >= (8 if index < 10 else 7):
                    continue
                starts = local_instant(day, dt.time(9), tz) + dt.timedelta(minutes=SLOT_MINUTES * slot)
                ends = starts + dt.timedelta(minutes=30)
                rows.append(
                    Appointment(
                        patient_id=patient_ids[made % len(patient_ids)],
                        location=location,
                        service=service,
                        provider=provider,
                        room=rooms[index] if index < N_ROOMS else None,
                        starts_at=starts,
                        ends_at=ends,
                        blocked_range=DateTimeTZRange(starts, ends + dt.timedelta(minutes=15), "[)"),
                        status=Appointment.Status.BOOKED,
                    )
                )
                made += 1
                if made >= N_APPOINTMENTS:
                    break
            if made >= N_APPOINTMENTS:
                break
        if len(rows) >= 10_000:
            insert(rows)
            rows = []
        day += dt.timedelta(days=1)
    insert(rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE appointments_appointment")
    return location, service, dense_day


class QueryCounter:
    """Counts SQL statements run on the default connection (request_started resets queries_log)."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def count_queries(fn) -> int:
    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        fn()
    return counter.count


def reuse():
    """BENCH_REUSE=1: measure the data a previous BENCH_KEEP=1 run left (for profiling)."""
    location = Location.objects.get(name=LOCATION_NAME)
    today = timezone.now().astimezone(ZoneInfo(location.time_zone)).date()
    return location, Service.objects.get(name="Bench neuromodulator"), today + dt.timedelta(days=20)


def staff_client():
    user, _ = User.objects.get_or_create(username="bench-frontdesk", defaults={"is_staff": True})
    user.groups.add(Group.objects.get(name="front_desk"))
    device, _ = TOTPDevice.objects.get_or_create(user=user, name="bench", defaults={"confirmed": True})
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def main():
    call_command("migrate", verbosity=0)
    production_settings.prepare_static_files()
    print(production_settings.describe_settings())
    setup_test_environment()
    started = time.perf_counter()
    location, service, dense_day = reuse() if os.environ.get("BENCH_REUSE") else build()
    total = Appointment.objects.filter(location=location).count()
    print(
        f"built {total} appointments, {N_PROVIDERS} providers, {N_ROOMS} rooms in {time.perf_counter() - started:.1f} s"
    )
    try:
        client = Client()
        url = f"/book/{service.pk}/any/"
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"availability view answered {response.status_code}")
        slots = response.content.count(b'class="time-button"')
        availability_queries = count_queries(lambda: client.get(url))
        samples, cpu = timed(lambda: client.get(url), N_REQUESTS)
        label = f"availability view, 14 days, any of {N_PROVIDERS} providers ({slots} times on the first day)"
        report(label, samples, cpu)
        print(f"availability view: {availability_queries} queries per request (target p95 < 50 ms)")
        provider = Provider.objects.filter(display_name="Bench provider 7").first()
        samples, cpu = timed(lambda: client.get(f"/book/{service.pk}/{provider.pk}/"), N_REQUESTS)
        report("availability view, 14 days, one provider", samples, cpu)

        staff = staff_client()
        day_url = f"/staff/calendar/?date={dense_day.isoformat()}&location={location.pk}"
        page = staff.get(day_url)
        if page.status_code != 200:
            raise SystemExit(f"staff day view answered {page.status_code}")
        shown = page.content.count(b'class="appt-card')
        day_queries = count_queries(lambda: staff.get(day_url))
        samples, cpu = timed(lambda: staff.get(day_url), 20)
        report(f"staff day view, {shown} appointments", samples, cpu)
        print(f"staff day view: {day_queries} queries per request")
    finally:
        if not os.environ.get("BENCH_KEEP"):
            clean()


if __name__ == "__main__":
    main()
