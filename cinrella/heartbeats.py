"""Heartbeats of the background processes, and the readiness checks that read them.

The task worker (`db_worker`) and the periodic-jobs process (`run_periodic`) each run a
`HeartbeatThread`: every HEARTBEAT_INTERVAL_SECONDS it upserts the process's `Heartbeat` row from
its own database connection, so a long task or job does not silence it. `/readyz` fails when no
process of a kind has reported within HEALTH_WORKER_MAX_SILENCE_SECONDS /
HEALTH_PERIODIC_MAX_SILENCE_SECONDS (0 turns a check off). A database outage makes a beat fail:
that is logged once per outage and the thread keeps trying."""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

from cinrella import health
from cinrella.models import Heartbeat

logger = logging.getLogger("cinrella.heartbeats")

# Rows of processes gone this long are deleted by the next beat of any process.
FORGET_AFTER = dt.timedelta(days=1)


def drop_stale_connection() -> None:
    """Before a process's next round: close this thread's connection if it broke or expired, as
    Django does between requests (a long-running process has no requests). Never inside a
    transaction (a test's, or a caller's)."""
    if not connection.in_atomic_block:
        close_old_connections()


def process_instance(prefix: str) -> str:
    return f"{prefix}:{socket.gethostname()}:{os.getpid()}"[:64]


def beat(process: str, instance: str, *, started_at=None) -> None:
    """Upsert this process's row (one statement) and forget rows of processes long gone."""
    now = timezone.now()
    Heartbeat.objects.bulk_create(
        [
            Heartbeat(
                process=process,
                instance=instance[:64],
                hostname=socket.gethostname()[:255],
                pid=os.getpid(),
                started_at=started_at or now,
                last_seen_at=now,
            )
        ],
        update_conflicts=True,
        unique_fields=["instance"],
        update_fields=["last_seen_at", "hostname", "pid"],
    )
    Heartbeat.objects.filter(last_seen_at__lt=now - FORGET_AFTER).delete()


class OutageLog:
    """Logs the first failure of an outage and the recovery, not every failed attempt in between."""

    def __init__(self, what: str, log: logging.Logger = logger):
        self.what = what
        self.log = log
        self.down_since: dt.datetime | None = None

    def failed(self, exc: BaseException) -> None:
        if self.down_since is None:
            self.down_since = timezone.now()
            self.log.error("%s: database unreachable (%s); retrying with backoff", self.what, type(exc).__name__)

    def succeeded(self) -> None:
        if self.down_since is not None:
            seconds = (timezone.now() - self.down_since).total_seconds()
            self.log.warning("%s: database reachable again after %.0f s", self.what, seconds)
            self.down_since = None

    @property
    def down(self) -> bool:
        return self.down_since is not None


class HeartbeatThread(threading.Thread):
    """Writes the heartbeat every `interval` seconds until stopped; `also` runs after each beat
    (the worker takes back tasks of dead workers there). Own connection: Django's are per thread."""

    def __init__(
        self,
        process: str,
        instance: str,
        *,
        interval: float | None = None,
        also: Callable | None = None,
        outage: OutageLog | None = None,
    ):
        super().__init__(name=f"heartbeat-{process}", daemon=True)
        self.process = process
        self.instance = instance
        self.interval = interval if interval is not None else settings.HEARTBEAT_INTERVAL_SECONDS
        self.also = also
        self.started_at = timezone.now()
        self.stopping = threading.Event()
        # Shared with the process's main loop, so one outage is one log line, not one per thread.
        self.outage = outage or OutageLog(f"{process} heartbeat")

    def beat_once(self) -> bool:
        try:
            drop_stale_connection()
            beat(self.process, self.instance, started_at=self.started_at)
            if self.also is not None:
                self.also()
        except DatabaseError as exc:
            self.outage.failed(exc)
            if not connection.in_atomic_block:
                connection.close()
            return False
        self.outage.succeeded()
        return True

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                self.beat_once()
                self.stopping.wait(self.interval)
        finally:
            connection.close()

    def stop(self) -> None:
        """Stop beating. The row stays and ages out: a quick restart does not fail /readyz."""
        self.stopping.set()
        if self.is_alive():
            self.join(timeout=self.interval + 5)


def _silence(process: str, max_silence: int, label: str) -> str | None:
    if max_silence <= 0:
        return None
    latest = (
        Heartbeat.objects.filter(process=process).order_by("-last_seen_at").values_list("last_seen_at", flat=True)
    ).first()
    if latest is None:
        return f"no {label} has reported since the database was created (is it running?)"
    silent_for = (timezone.now() - latest).total_seconds()
    if silent_for > max_silence:
        return f"no {label} has reported for {int(silent_for)} s (limit {max_silence} s)"
    return None


def _tasks_need_a_worker() -> bool:
    """Only the database task backend has a separate worker process (tests run tasks inline)."""
    from django.tasks import task_backends
    from django_tasks_db.backend import DatabaseBackend

    return isinstance(task_backends["default"], DatabaseBackend)


@health.register("worker")
def worker_reported() -> str | None:
    if not _tasks_need_a_worker():
        return None
    return _silence(Heartbeat.Process.WORKER, settings.HEALTH_WORKER_MAX_SILENCE_SECONDS, "task worker (db_worker)")


@health.register("periodic")
def periodic_reported() -> str | None:
    return _silence(
        Heartbeat.Process.PERIODIC, settings.HEALTH_PERIODIC_MAX_SILENCE_SECONDS, "periodic-jobs process (run_periodic)"
    )
