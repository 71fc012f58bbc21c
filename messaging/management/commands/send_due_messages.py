"""`manage.py send_due_messages`: one worker round (run by `run_periodic` every 15 s)."""

from django.core.management.base import BaseCommand

from messaging.dispatch import run_once


class Command(BaseCommand):
    help = "Send due SMS from the outbox (consent, quiet hours and privacy gate applied at send time)."

    def add_arguments(self, parser):
        parser.add_argument("--max", type=int, default=None, help="Stop after this many messages.")

    def handle(self, *args, max=None, **options):  # noqa: A002 — argparse dest
        result = run_once(max_messages=max)
        settled = result.reconciled + result.requeued + result.unknown + result.quarantined
        if options["verbosity"] >= 1 and (result.total() or settled):
            self.stdout.write(
                f"sent {result.sent}, suppressed {result.suppressed}, failed {result.failed}, "
                f"retrying {result.retried}, held (quiet hours) {result.held}, cancelled {result.cancelled}, "
                f"interrupted sends: found at the provider {result.reconciled}, queued again {result.requeued}, "
                f"unknown {result.unknown}; set aside {result.quarantined}"
            )
