"""Periodic jobs that stay correct with more than one `run_periodic` process (issue 24 point 8).

Each job has a `PeriodicJob` row. To run a job, a process
1. locks the job's row (SELECT … FOR UPDATE SKIP LOCKED: a process deciding about the same job
   right now makes the other skip it),
2. checks the job is due (last started on any host at least its interval ago),
3. takes a PostgreSQL session advisory lock for the job, held while the job runs (a job that
   outlives its interval is not started again elsewhere), and records the start,
then runs it and records how it ended (the exception class only: never PHI). A second host
therefore never runs a job twice at once nor more often than its interval: reminders and
retention run once. Session advisory locks need a session-mode connection: behind PgBouncer,
use session pooling for the periodic process."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from cinrella.models import PeriodicJob

logger = logging.getLogger("cinrella.periodic")

# First key of the two-int advisory lock space: "periodic jobs" (other users pick other numbers).
ADVISORY_NAMESPACE = 0x6A6F62  # "job"


@dataclass(frozen=True)
class Job:
    command: str
    interval: int


def _try_lock(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))", [ADVISORY_NAMESPACE, name])
        return bool(cursor.fetchone()[0])


def _unlock(name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", [ADVISORY_NAMESPACE, name])


def claim(job: Job, *, force: bool = False) -> bool:
    """Take the job for this process if it is due and nobody runs it; True when taken (the advisory
    lock is then held by this session until `finish`)."""
    now = timezone.now()
    PeriodicJob.objects.bulk_create([PeriodicJob(name=job.command)], ignore_conflicts=True)
    with transaction.atomic():
        row = PeriodicJob.objects.select_for_update(skip_locked=True).filter(name=job.command).first()
        if row is None:
            return False  # another process is deciding about this job right now
        if not force and row.last_started_at and (now - row.last_started_at).total_seconds() < job.interval:
            return False
        if not _try_lock(job.command):
            return False  # still running elsewhere
        row.last_started_at = now
        row.last_outcome = PeriodicJob.Outcome.RUNNING
        row.last_host = socket.gethostname()[:255]
        row.save(update_fields=["last_started_at", "last_outcome", "last_host"])
    return True


def finish(job: Job, error: BaseException | None) -> None:
    try:
        row = PeriodicJob.objects.get(name=job.command)
        row.last_finished_at = timezone.now()
        if error is None:
            row.last_outcome, row.last_error, row.consecutive_failures = PeriodicJob.Outcome.SUCCEEDED, "", 0
        else:
            row.last_outcome = PeriodicJob.Outcome.FAILED
            row.last_error = type(error).__name__[:300]
            row.consecutive_failures += 1
        row.save(update_fields=["last_finished_at", "last_outcome", "last_error", "consecutive_failures"])
    finally:
        _unlock(job.command)


def run_if_due(job: Job, run: Callable[[str], None], *, force: bool = False) -> bool:
    """Run `run(job.command)` when this process may; returns whether it ran. A failing job is
    recorded and logged (class only), never raised: one job must not stop the others."""
    if not claim(job, force=force):
        return False
    error = None
    try:
        run(job.command)
    except Exception as exc:  # noqa: BLE001 — recorded on the job's row, the loop goes on
        error = exc
        logger.error("periodic job %r failed: %s", job.command, type(exc).__name__)
    finish(job, error)
    return True
