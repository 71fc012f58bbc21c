"""The task worker survives a database outage, tasks of dead workers are taken back, finished task
rows are pruned (issue 13 point 5)."""

import datetime as dt
import time

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from cinrella.heartbeats import beat
from cinrella.models import Heartbeat
from cinrella.worker import WORKER_DIED, take_back_abandoned_tasks
from messaging.models import Kind, OutboundMessage, Status
from messaging.services import outbox
from messaging.tasks import dispatch_due_messages
from tests import processes
from tests.factories import PatientFactory

DB_BACKEND = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def db_tasks(settings):
    settings.TASKS = DB_BACKEND


def running_task(worker_id: str, *, started_seconds_ago: int, claims: int = 1) -> DBTaskResult:
    result = dispatch_due_messages.enqueue()
    row = DBTaskResult.objects.get(pk=result.id)
    row.status = TaskResultStatus.RUNNING
    row.started_at = timezone.now() - dt.timedelta(seconds=started_seconds_ago)
    row.worker_ids = [f"earlier-{n}" for n in range(claims - 1)] + [worker_id]
    row.save()
    return row


@pytest.mark.django_db
def test_task_of_a_worker_that_stopped_reporting_runs_again(db_tasks, settings):
    # Issue 13: "tasks killed mid-run stay 'running' forever".
    settings.TASK_LEASE_SECONDS = 60
    beat(Heartbeat.Process.WORKER, "dead-worker")
    Heartbeat.objects.update(last_seen_at=timezone.now() - dt.timedelta(minutes=5))
    task = running_task("dead-worker", started_seconds_ago=300)

    assert take_back_abandoned_tasks() == (1, 0)

    task.refresh_from_db()
    assert task.status == TaskResultStatus.READY
    assert DBTaskResult.objects.ready().filter(pk=task.pk).exists()


@pytest.mark.django_db
def test_task_taken_back_too_often_is_marked_failed_with_the_reason(db_tasks, settings):
    settings.TASK_MAX_ATTEMPTS = 3
    task = running_task("gone", started_seconds_ago=300, claims=3)  # no heartbeat row at all

    assert take_back_abandoned_tasks() == (0, 1)

    task.refresh_from_db()
    assert task.status == TaskResultStatus.FAILED
    assert task.exception_class_path == WORKER_DIED
    assert "stopped (no heartbeat" in task.traceback
    assert task.finished_at is not None


@pytest.mark.django_db
def test_tasks_of_live_workers_and_just_claimed_tasks_are_left_alone(db_tasks):
    beat(Heartbeat.Process.WORKER, "alive")
    alive = running_task("alive", started_seconds_ago=3600)
    just_claimed = running_task("not-reported-yet", started_seconds_ago=1)

    assert take_back_abandoned_tasks() == (0, 0)

    for task in (alive, just_claimed):
        task.refresh_from_db()
        assert task.status == TaskResultStatus.RUNNING


@pytest.mark.django_db
def test_a_live_worker_takes_back_its_own_task_cut_short_by_an_outage(db_tasks):
    beat(Heartbeat.Process.WORKER, "me")
    mine = running_task("me", started_seconds_ago=1)
    other = running_task("other-live", started_seconds_ago=1)
    beat(Heartbeat.Process.WORKER, "other-live")

    assert take_back_abandoned_tasks(also_worker="me") == (1, 0)

    mine.refresh_from_db()
    other.refresh_from_db()
    assert mine.status == TaskResultStatus.READY
    assert other.status == TaskResultStatus.RUNNING


@pytest.mark.django_db
def test_finished_task_rows_are_pruned_after_the_configured_days(db_tasks, settings):
    # Issue 13: "finished task rows are never pruned".
    settings.TASK_RESULTS_KEEP_DAYS = 7
    old, recent, waiting = (DBTaskResult.objects.get(pk=dispatch_due_messages.enqueue().id) for _ in range(3))
    DBTaskResult.objects.filter(pk__in=[old.pk, recent.pk]).update(status=TaskResultStatus.SUCCESSFUL)
    DBTaskResult.objects.filter(pk=old.pk).update(finished_at=timezone.now() - dt.timedelta(days=8))
    DBTaskResult.objects.filter(pk=recent.pk).update(finished_at=timezone.now() - dt.timedelta(days=6))

    call_command("prune_tasks", verbosity=0)

    assert set(DBTaskResult.objects.values_list("pk", flat=True)) == {recent.pk, waiting.pk}


def test_prune_tasks_is_a_periodic_job():
    from cinrella.management.commands.run_periodic import configured_jobs

    assert "prune_tasks" in {job.command for job in configured_jobs()}


def queue_help_reply(key: str) -> OutboundMessage:
    # A HELP answer: no consent or quiet hours to wait for, whatever the real clock says.
    patient = PatientFactory()
    return outbox.queue_message(
        to_phone=patient.mobile_phone, kind=Kind.HELP_REPLY, idempotency_key=key, literal="Help text", patient=patient
    )


def is_sent(row) -> bool:
    return OutboundMessage.objects.filter(pk=row.pk, status=Status.SENT).exists()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_worker_survives_a_database_outage_logs_it_once_and_runs_tasks_after(db_tasks, tmp_path):
    # Issue 13: "The task worker exits on a database outage".
    log = tmp_path / "worker.log"
    worker = processes.start_manage(
        ["db_worker", "--no-reload", "--interval", "0.2", "--no-startup-delay", "--worker-id", "outage-test"],
        application_name="cinrella-test-worker",
        log=log,
    )
    try:
        processes.wait_for(lambda: Heartbeat.objects.filter(instance="outage-test").exists(), message="first beat")
        before = queue_help_reply("before-outage")
        dispatch_due_messages.enqueue()
        processes.wait_for(lambda: is_sent(before), message="a task run before the outage")

        processes.allow_connections(False)
        try:
            assert processes.terminate_backends("cinrella-test-worker") >= 1
            processes.wait_for(lambda: "database unreachable" in log.read_text(), timeout=15, message="outage log")
            time.sleep(3)  # the outage lasts: the worker keeps probing with backoff
            assert worker.poll() is None, log.read_text()
        finally:
            processes.allow_connections(True)

        after = queue_help_reply("after-outage")
        dispatch_due_messages.enqueue()
        processes.wait_for(lambda: is_sent(after), timeout=45, message="a task run after the outage")
        assert worker.poll() is None
    finally:
        processes.allow_connections(True)
        processes.stop(worker)
    text = log.read_text()
    assert text.count("database unreachable") == 1, text
    assert text.count("database reachable again") == 1, text
