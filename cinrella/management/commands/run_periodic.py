"""Run the periodic jobs on an interval, for local use (`make run`).

Production runs the same commands from cron or systemd timers (README)."""

import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run each job in settings.PERIODIC_JOBS every its interval, until interrupted."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run every job once and exit.")

    def handle(self, *args, once=False, **options):
        last_run: dict[str, float] = {}
        while True:
            now = time.monotonic()
            for command, interval in settings.PERIODIC_JOBS:
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
