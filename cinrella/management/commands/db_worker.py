"""`manage.py db_worker`: django-tasks-db's worker command, running `cinrella.worker.ResilientWorker`
(heartbeat, survives database outages, takes back tasks of dead workers). Same options as upstream.

This command shadows django_tasks_db's own because `cinrella` comes before `django_tasks_db` in
INSTALLED_APPS (Django uses the first app's command of a name)."""

import os

from django.core.management.base import CommandError
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands import db_worker as upstream

from cinrella.worker import ResilientWorker


class Command(upstream.Command):
    help = "Run the database task worker (heartbeat, survives database outages, takes back abandoned tasks)"

    def handle(
        self,
        *,
        verbosity,
        queue_name,
        interval,
        batch,
        backend_name,
        startup_delay,
        reload,
        max_tasks,
        worker_id,
        exclude_queues,
        **options,
    ):
        self.configure_logging(verbosity)
        if reload and batch:
            reload = False
        queue_names = queue_name.split(",")
        excluded = exclude_queues.split(",") if exclude_queues else []
        if excluded and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = ResilientWorker(
            queue_names=queue_names,
            interval=interval,
            batch=batch,
            backend_name=backend_name,
            startup_delay=startup_delay,
            max_tasks=max_tasks,
            worker_id=worker_id,
            excluded_queue_names=excluded,
        )
        if reload:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()  # only the reloader's child runs the worker
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            worker.run()
