"""Run the periodic jobs on an interval, for local use (`make run`).

Production runs the same commands from cron or systemd timers (README)."""

import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from cinrella.app_hooks import collect


class Command(BaseCommand):
    help = "Run each periodic job (settings.PERIODIC_JOBS and each app's jobs.PERIODIC_JOBS) on its interval."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run every job once and exit.")

    def handle(self, *args, once=False, **options):
        jobs = list(settings.PERIODIC_JOBS) + collect("jobs", "PERIODIC_JOBS")
        last_run: dict[str, float] = {}
        while True:
            now = time.monotonic()
            for command, interval in jobs:
                if once or now - last_run.get(command, -interval) >= interval:
                    self._run(command)
                    last_run[command] = now
            if once:
                return
            time.sleep(5)

    def _run(self, command):
        try:
            call_command(*command.split())
        except Exception as exc:  # noqa: BLE001 — one failing job must not stop the others
            self.stderr.write(f"periodic job {command!r} failed: {exc.__class__.__name__}")
