"""`make bench`: runs every bench/bench_*.py in turn; each prints its own figures.

Each benchmark runs in its own process against a freshly created database `cinrella_bench` (on
the embedded server, or on DATABASE_URL's server), so they never touch development data or each
other's. `make bench ARGS=patients` runs only the benchmarks whose file name contains "patients"."""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_DB = "cinrella_bench"


def admin_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url:
        return urlunsplit(urlsplit(url)._replace(path="/postgres"))
    from cinrella.embedded_db import database_url

    # Starting (or joining) the embedded server here keeps it up for every benchmark process.
    return database_url("postgres")


def fresh_bench_database(admin: str) -> None:
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')


def main() -> int:
    scripts = sorted((ROOT / "bench").glob("bench_*.py"))
    selected = [s for s in scripts if not sys.argv[1:] or any(a in s.name for a in sys.argv[1:])]
    if not selected:
        print("no benchmarks match")
        return 1
    admin = admin_url()
    failed = []
    for script in selected:
        print(f"\n## {script.stem}", flush=True)
        fresh_bench_database(admin)
        env = dict(os.environ, DATABASE_URL=urlunsplit(urlsplit(admin)._replace(path=f"/{BENCH_DB}")))
        if subprocess.run([sys.executable, "-u", str(script)], cwd=ROOT, env=env).returncode != 0:
            failed.append(script.stem)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
