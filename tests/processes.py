"""Running the real background processes (`manage.py db_worker`, `run_periodic`) against the test
database, for tests that need a second process: outages, crashes, two hosts."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def database_url_for(application_name: str) -> str:
    """The URL of the database this test uses, tagged with an application_name so a test can find
    (and terminate) that process's connections in pg_stat_activity."""
    s = connection.settings_dict
    host = s["HOST"] or s["OPTIONS"].get("host", "")
    port = s["PORT"] or s["OPTIONS"].get("port", "")
    query = f"host={quote(str(host), safe='/')}" + (f"&port={port}" if port else "")
    password = quote(s["PASSWORD"] or "", safe="")
    return f"postgresql://{quote(s['USER'])}:{password}@/{s['NAME']}?{query}&application_name={application_name}"


def start_manage(args: list[str], *, application_name: str, log: Path, env: dict | None = None) -> subprocess.Popen:
    environment = {
        **os.environ,
        "DATABASE_URL": database_url_for(application_name),
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "HEARTBEAT_INTERVAL_SECONDS": "1",
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    handle = log.open("w")
    return subprocess.Popen(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, stdout=handle, stderr=subprocess.STDOUT
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for(condition, *, timeout: float = 30, message: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {message}")


def terminate_backends(application_name: str) -> int:
    """pg_terminate_backend every connection of that application (not this test's own)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = %s AND pid <> pg_backend_pid()",
            [application_name],
        )
        return cursor.fetchone()[0]


def allow_connections(allowed: bool) -> None:
    """Make the test database refuse (or accept again) new connections: an outage as the
    application sees it, while this test's own connection stays open. (PostgreSQL refuses this
    from a connection to the database itself: it is said from the maintenance database.)"""
    import psycopg

    name = connection.settings_dict["NAME"]
    params = {**connection.get_connection_params(), "dbname": "postgres"}
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS {"true" if allowed else "false"}')
