"""`manage.py send_due_messages`: one worker round (cron/systemd timer, or `make run` every 15 s)."""

from django.core.management.base import BaseCommand

from messaging.dispatch import run_once


class Command(BaseCommand):
    help = "Send due SMS from the outbox (consent, quiet hours and privacy gate applied at send time)."

    def add_arguments(self, parser):
        parser.add_argument("--max", type=int, default=None, help="Stop after this many messages.")

    def handle(self, *args, max=None, **options):  # noqa: A002 — argparse dest
        result = run_once(max_messages=max)
        if options["verbosity"] >= 1 and (result.total() or result.reconciled or result.unknown):
            self.stdout.write(
                f"sent {result.sent}, suppressed {result.suppressed}, failed {result.failed}, "
                f"retrying {result.retried}, held (quiet hours) {result.held}, cancelled {result.cancelled}, "
                f"reconciled {result.reconciled}, unknown {result.unknown}"
            )
