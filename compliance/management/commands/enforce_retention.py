from django.core.management.base import BaseCommand

from compliance import retention


class Command(BaseCommand):
    help = "Purge or de-identify what outlived its retention period (policy §9). --dry-run lists only."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="List what would be done; change nothing.")

    def handle(self, *args, dry_run=False, **options):
        run = retention.enforce(dry_run=dry_run)
        verb = "would" if dry_run else "did"
        self.stdout.write(f"Retention run #{run.pk}{' (dry run)' if dry_run else ''}:")
        for record_type, outcome in run.report.items():
            self.stdout.write(
                f"  {record_type}: {verb} act on {outcome['count']} — {outcome['description']}"
                f"; skipped on legal hold: {outcome['skipped_on_legal_hold']}"
            )
            if dry_run and outcome["ids"]:
                self.stdout.write(f"    ids: {', '.join(str(i) for i in outcome['ids'][:50])}")
            for note in outcome["notes"]:
                self.stdout.write(f"    {note}")
