"""The task worker, made to survive what production does to it (issue 13 point 5).

django-tasks-db's `Worker` runs one loop: claim a READY task (SELECT … FOR UPDATE SKIP LOCKED),
mark it RUNNING with the worker's id, run it, mark it SUCCESSFUL/FAILED. On its own it exits at
the first database error, and a task whose worker died stays RUNNING forever. `ResilientWorker`
keeps that loop and adds:

- a heartbeat (cinrella.heartbeats): the worker's `Heartbeat` row, instance = worker id, written
  every HEARTBEAT_INTERVAL_SECONDS from its own thread and connection;
- survival of a database outage: the loop is restarted after a database error, once the database
  answers again (probes with exponential backoff up to 30 s), with one log line when the outage
  starts and one when it ends; a task cut short by the outage is taken back like a dead worker's;
- task leases: after each beat, RUNNING tasks whose worker has not reported for
  TASK_LEASE_SECONDS are run again (up to TASK_MAX_ATTEMPTS runs) or marked failed with the reason
  (`take_back_abandoned_tasks`). Tasks must therefore be safe to run twice; ours are (the outbox
  sends each message once whatever runs it).

Finished task rows are deleted after TASK_RESULTS_KEEP_DAYS by the `prune_tasks` periodic job."""

from __future__ import annotations

import datetime as dt
import logging
import time

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from cinrella.heartbeats import HeartbeatThread, OutageLog
from cinrella.models import Heartbeat

logger = logging.getLogger("cinrella.worker")

MAX_BACKOFF_SECONDS = 30
WORKER_DIED = "cinrella.worker.WorkerStopped"


def _abandoned_reason(task: DBTaskResult, now) -> str:
    return (
        f"The worker running this task stopped (no heartbeat for more than {settings.TASK_LEASE_SECONDS} s; "
        f"taken back at {now:%Y-%m-%d %H:%M:%S} UTC after {len(task.worker_ids)} run(s)). "
        "It was not run again: it has reached TASK_MAX_ATTEMPTS."
    )


def take_back_abandoned_tasks(*, now=None, also_worker: str | None = None) -> tuple[int, int]:
    """RUNNING tasks whose worker is gone (no heartbeat within the lease) become READY again, or
    FAILED once they have been claimed TASK_MAX_ATTEMPTS times. `also_worker`: a live worker's own
    id, for tasks it knows it is not running any more (a database error cut them short).
    Returns (requeued, failed). Safe to run from several processes at once."""
    now = now or timezone.now()
    lease_start = now - dt.timedelta(seconds=settings.TASK_LEASE_SECONDS)
    live = set(
        Heartbeat.objects.filter(process=Heartbeat.Process.WORKER, last_seen_at__gte=lease_start).values_list(
            "instance", flat=True
        )
    )
    live.discard(also_worker)
    requeued = failed = 0
    with transaction.atomic():
        running = DBTaskResult.objects.running().select_for_update(skip_locked=True)
        if also_worker is None:
            # A task just claimed has a lease's grace before its worker's heartbeat must cover it.
            running = running.filter(started_at__lt=lease_start)
        for task in running:
            last_worker = task.worker_ids[-1] if task.worker_ids else None
            if last_worker in live or (also_worker is not None and last_worker != also_worker):
                continue
            if len(task.worker_ids) < settings.TASK_MAX_ATTEMPTS:
                task.status = TaskResultStatus.READY
                task.save(update_fields=["status"])
                requeued += 1
            else:
                task.status = TaskResultStatus.FAILED
                task.finished_at = now
                task.exception_class_path = WORKER_DIED
                task.traceback = _abandoned_reason(task, now)
                task.save(update_fields=["status", "finished_at", "exception_class_path", "traceback"])
                failed += 1
    if requeued or failed:
        logger.warning("took back abandoned tasks: %d to run again, %d failed", requeued, failed)
    return requeued, failed


class ResilientWorker(Worker):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.outage = OutageLog("task worker", logger)
        self.heartbeat = HeartbeatThread(
            Heartbeat.Process.WORKER, self.worker_id, also=take_back_abandoned_tasks, outage=self.outage
        )

    def run(self) -> None:
        self.heartbeat.beat_once()  # report before the first claim, not one interval later
        self.heartbeat.start()
        recovering = False
        try:
            while self.running:
                try:
                    if recovering:
                        # Whatever this worker was running when the database went away was cut short.
                        take_back_abandoned_tasks(also_worker=self.worker_id)
                    super().run()
                    return  # --batch, --max-tasks, or a graceful shutdown
                except DatabaseError as exc:
                    self.outage.failed(exc)
                self.startup_delay = False
                self._wait_for_database()
                recovering = True
        finally:
            self.heartbeat.stop()

    def _wait_for_database(self) -> None:
        delay = 1.0
        while self.running:
            connection.close()
            time.sleep(delay)
            try:
                close_old_connections()
                with connection.cursor() as cursor:
                    cursor.execute("SELECT 1")
            except DatabaseError:
                delay = min(delay * 2, MAX_BACKOFF_SECONDS)
                continue
            self.outage.succeeded()
            return
