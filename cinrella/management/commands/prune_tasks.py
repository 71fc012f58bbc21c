"""`manage.py prune_tasks`: delete finished task rows older than TASK_RESULTS_KEEP_DAYS (a periodic
job, cinrella/jobs.py). Uses django-tasks-db's own pruning; nothing to do with another backend."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.tasks import task_backends
from django_tasks_db.backend import DatabaseBackend


class Command(BaseCommand):
    help = "Delete finished background-task rows older than TASK_RESULTS_KEEP_DAYS."

    def handle(self, *args, **options):
        if not isinstance(task_backends["default"], DatabaseBackend):
            return
        call_command(
            "prune_db_task_results",
            queue_name="*",
            min_age_days=settings.TASK_RESULTS_KEEP_DAYS,
            verbosity=options["verbosity"],
        )
