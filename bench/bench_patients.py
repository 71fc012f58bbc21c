"""Patient search at 100,000 patients: phone lookup and name-prefix lookup, median and p95.

Target (issue #3): p95 < 20 ms per lookup on a 2-core machine with the embedded PostgreSQL.

Data is built in its own database (`cinrella_bench`) with COPY. Encrypting 100k rows through the
ORM takes minutes, so rows are encrypted here with Fernet directly (the same key and token format
the encrypted fields use) and blind indexes use the same HMAC as cinrella.crypto; a sample is
cross-checked against the real functions before measuring. Each lookup is timed end to end the
way the staff search page runs it: normalise, HMAC, query, fetch and decrypt up to 50 rows.
"""

import datetime as dt
import hashlib
import hmac
import os
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "cinrella.settings"

N_PATIENTS = int(os.environ.get("BENCH_PATIENTS", "100000"))
N_LOOKUPS = int(os.environ.get("BENCH_LOOKUPS", "400"))
SEED = 20261125


def _bench_database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        from cinrella.embedded_db import database_url

        return database_url("cinrella_bench")
    import psycopg

    parts = urlsplit(url)
    with psycopg.connect(url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'cinrella_bench'").fetchone():
            conn.execute('CREATE DATABASE "cinrella_bench"')
    return urlunsplit(parts._replace(path="/cinrella_bench"))


os.environ["DATABASE_URL"] = _bench_database_url()

import django  # noqa: E402

django.setup()

from cryptography.fernet import Fernet  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from cinrella import crypto  # noqa: E402
from patients import selectors  # noqa: E402
from patients.models import Patient  # noqa: E402

SYLLABLES = [
    "ma",
    "ri",
    "lo",
    "pe",
    "san",
    "chez",
    "gar",
    "cia",
    "ngu",
    "yen",
    "tran",
    "kim",
    "lee",
    "ro",
    "dri",
    "guez",
    "mar",
    "tin",
    "her",
    "nan",
    "dez",
    "lo",
    "pez",
    "gon",
    "za",
    "les",
    "wil",
    "son",
    "an",
    "der",
    "tho",
    "mas",
    "ja",
    "ckson",
    "whi",
    "te",
    "har",
    "ris",
    "cla",
    "rk",
    "le",
    "wis",
]
FIRST_NAMES = [
    "María",
    "José",
    "Jennifer",
    "Linh",
    "Aisha",
    "Olivia",
    "Sofía",
    "Emma",
    "Ava",
    "Mia",
    "Isabella",
    "Camila",
    "Valentina",
    "Chloe",
    "Grace",
    "Hannah",
    "Zoe",
    "Lucía",
    "Elena",
    "Ana",
    "Daniela",
    "Thu",
    "Mai",
    "Hoa",
    "Yuki",
    "Mei",
    "Priya",
    "Fatima",
    "Noor",
    "Leila",
    "Sarah",
    "Rachel",
    "Emily",
    "Madison",
    "Abigail",
    "Ella",
    "Scarlett",
    "Victoria",
    "Aria",
    "Lily",
    "Nora",
    "Riley",
    "Layla",
    "Penelope",
    "Stella",
    "Aurora",
    "Hazel",
    "Violet",
    "Claire",
    "Lucy",
    "Michael",
    "David",
]


class FastRows:
    """Row builder with the same ciphertext format and blind indexes as the model fields."""

    def __init__(self):
        key = settings.FIELD_ENCRYPTION_KEY
        self.fernet = Fernet(key[0] if isinstance(key, list | tuple) else key)
        self.hmac_base = hmac.new(settings.BLIND_INDEX_KEY.encode("utf-8"), digestmod=hashlib.sha256)
        self.empty = self.fernet.encrypt(b"").decode()
        self._name_cache: dict[str, list[str]] = {}

    def enc(self, value: str) -> str:
        return self.fernet.encrypt(value.encode("utf-8")).decode() if value else self.empty

    def bidx(self, kind: str, normalised: str) -> str:
        h = self.hmac_base.copy()
        h.update(f"{kind}:{normalised}".encode())
        return h.hexdigest()

    def name_digests(self, *names: str) -> list[str]:
        digests: set[str] = set()
        for name in names:
            cached = self._name_cache.get(name)
            if cached is None:
                cached = crypto.name_prefix_digests(name)
                self._name_cache[name] = cached
            digests.update(cached)
        return sorted(digests)


def make_people(n: int):
    rng = random.Random(SEED)  # noqa: S311 — reproducible fake data
    last_names = sorted(
        {"".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize() for _ in range(3000)}
    )
    start = dt.date(1940, 1, 1)
    for i in range(n):
        first = rng.choice(FIRST_NAMES)
        last = rng.choice(last_names)
        phone = f"+1858{2000000 + i:07d}"  # unique, valid San Diego numbers
        email = f"{first.lower()}.{last.lower()}.{i}@example.com"
        dob = start + dt.timedelta(days=rng.randint(0, 60 * 365))
        yield first, last, phone, email, dob


COLUMNS = [
    "first_name",
    "last_name",
    "email",
    "mobile_phone",
    "date_of_birth",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "emergency_contact_name",
    "emergency_contact_phone",
    "emergency_contact_relationship",
    "preferred_language",
    "phone_bidx",
    "email_bidx",
    "dob_bidx",
    "name_bidx",
    "created_at",
    "updated_at",
]


def build(n: int) -> None:
    fast = FastRows()
    now = dt.datetime.now(dt.UTC)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE patients_patient, patients_patientnamedigest RESTART IDENTITY CASCADE")
        # Bench data only: skip the write-history triggers while loading (superuser session).
        cursor.execute("SET session_replication_role = replica")
        raw = cursor.cursor
        with raw.copy(f"COPY patients_patient ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for first, last, phone, email, dob in make_people(n):
                copy.write_row(
                    [
                        fast.enc(first),
                        fast.enc(last),
                        fast.enc(email),
                        fast.enc(phone),
                        fast.enc(dob.isoformat()),
                        fast.empty,
                        fast.empty,
                        fast.empty,
                        fast.empty,
                        fast.empty,
                        fast.empty,
                        fast.empty,
                        fast.empty,
                        "en",
                        fast.bidx("phone", phone),
                        fast.bidx("email", email),
                        fast.bidx("dob", dob.isoformat()),
                        fast.name_digests(first, last),
                        now,
                        now,
                    ]
                )
        cursor.execute("SET session_replication_role = DEFAULT")
        # What the skipped sync trigger would have written (same SQL as migration 0004's backfill).
        cursor.execute(
            "INSERT INTO patients_patientnamedigest (patient_id, digest) "
            "SELECT p.id, d FROM patients_patient p, unnest(p.name_bidx) AS d GROUP BY p.id, d"
        )
        # As autovacuum would soon do on a live system: statistics, visibility map, GIN pending list.
        cursor.execute("VACUUM ANALYZE patients_patient")
        cursor.execute("VACUUM ANALYZE patients_patientnamedigest")
    print(f"built {n:,} patients in {time.perf_counter() - started:.1f} s")


def cross_check() -> None:
    """The fast rows must be exactly what the model would have written."""
    sample = Patient.objects.order_by("?")[:3]
    for p in sample:
        stored = (p.phone_bidx, p.email_bidx, p.dob_bidx, sorted(p.name_bidx))
        p.refresh_blind_indexes()
        if stored != (p.phone_bidx, p.email_bidx, p.dob_bidx, sorted(p.name_bidx)):
            raise SystemExit("bench rows do not match the model's blind indexes")


def measure(label: str, queries: list[str], run) -> None:
    timings = []
    found = 0
    for q in queries[:20]:  # warm-up
        run(q)
    for q in queries:
        t0 = time.perf_counter()
        rows = run(q)
        timings.append((time.perf_counter() - t0) * 1000)
        found += len(rows)
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    verdict = "OK" if p95 < 20 else "SLOW"
    print(
        f"{label}: median {statistics.median(timings):.2f} ms  p95 {p95:.2f} ms  "
        f"(n={len(timings)}, avg rows {found / len(timings):.1f})  target p95 < 20 ms: {verdict}"
    )


def search(text: str):
    """What the search page does: find, fetch at most 25 (+1) rows, decrypt what a row shows."""
    _, rows, _ = selectors.search_results(text)
    return [(r["patient"].full_name, r["patient"].date_of_birth, r["masked_phone"]) for r in rows]


def main() -> None:
    call_command("migrate", verbosity=0)
    if Patient.objects.count() != N_PATIENTS:
        build(N_PATIENTS)
    else:
        print(f"reusing {N_PATIENTS:,} patients already in cinrella_bench")
    cross_check()
    rng = random.Random(SEED + 1)  # noqa: S311
    people = list(make_people(N_PATIENTS))
    picks = [rng.choice(people) for _ in range(N_LOOKUPS)]
    phones = [f"({p[2][2:5]}) {p[2][5:8]}-{p[2][8:]}" for p in picks]
    prefixes = [crypto.name_tokens(p[1])[0][:3] for p in picks]
    full_names = [f"{p[0]} {p[1]}" for p in picks]
    if not search(phones[0]):
        raise SystemExit("a known phone was not found")

    load1, load5, _ = os.getloadavg()
    print(f"lookups per measure: {N_LOOKUPS}; machine load average {load1:.1f} (1 min), {load5:.1f} (5 min)")
    measure("search by phone (formatted)", phones, search)
    measure("search by last-name 3-letter prefix (first 25 rows)", prefixes, search)
    measure("search by first + last name", full_names, search)


if __name__ == "__main__":
    main()
