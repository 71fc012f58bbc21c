"""`manage.py run_periodic`: the periodic-jobs process (`make run`, and production's own service).

Runs each job (settings.PERIODIC_JOBS and each app's jobs.PERIODIC_JOBS) on its interval. Safe to
run on several hosts at once: cinrella.periodic makes each job run once per interval across all of
them. Reports a heartbeat (/readyz), survives a database outage (one log line when it starts, one
when it ends, growing pauses in between) and keeps going when one job fails."""

import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection

from cinrella import periodic
from cinrella.app_hooks import collect
from cinrella.heartbeats import HeartbeatThread, OutageLog, drop_stale_connection, process_instance
from cinrella.models import Heartbeat

TICK_SECONDS = 5
MAX_PAUSE_SECONDS = 60


def configured_jobs() -> list[periodic.Job]:
    return [
        periodic.Job(command, interval)
        for command, interval in (*settings.PERIODIC_JOBS, *collect("jobs", "PERIODIC_JOBS"))
    ]


class Command(BaseCommand):
    help = "Run each periodic job on its interval (safe with several run_periodic processes)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--once", action="store_true", help="Run every job once (unless running elsewhere) and exit."
        )
        parser.add_argument(
            "--job", action="append", default=[], help="Only this job (its command, as listed); may be repeated."
        )

    def handle(self, *args, once=False, job=(), **options):
        jobs = [j for j in configured_jobs() if not job or j.command in job]
        if job and len(jobs) != len(set(job)):
            raise CommandError(f"Unknown job; the jobs are: {', '.join(j.command for j in configured_jobs())}")
        outage = OutageLog("periodic jobs")
        heartbeat = HeartbeatThread(Heartbeat.Process.PERIODIC, process_instance("periodic"), outage=outage)
        heartbeat.beat_once()
        if not once:
            heartbeat.start()
        pause = TICK_SECONDS
        try:
            while True:
                try:
                    for job in jobs:
                        drop_stale_connection()
                        periodic.run_if_due(job, self._call, force=once)
                    outage.succeeded()
                    pause = TICK_SECONDS
                except DatabaseError as exc:
                    outage.failed(exc)
                    if not connection.in_atomic_block:
                        connection.close()
                    pause = min(pause * 2, MAX_PAUSE_SECONDS)
                if once:
                    return
                time.sleep(pause)
        finally:
            heartbeat.stop()

    def _call(self, command: str) -> None:
        call_command(*command.split())
