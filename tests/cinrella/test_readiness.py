"""/readyz tells the truth (issues 13 and 24): the database, the background processes' heartbeats,
the outbox draining, and whatever other checks apps register in cinrella.health."""

import datetime as dt

import pytest
from django.db import DatabaseError
from django.utils import timezone

from cinrella import health
from cinrella.heartbeats import beat
from cinrella.models import Heartbeat
from messaging.models import Kind
from messaging.services import outbox
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

DB_BACKEND = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def processes_reporting():
    beat(Heartbeat.Process.WORKER, "worker-1")
    beat(Heartbeat.Process.PERIODIC, "periodic:host:1")


def age(instance: str, seconds: int) -> None:
    Heartbeat.objects.filter(instance=instance).update(last_seen_at=timezone.now() - dt.timedelta(seconds=seconds))


def test_ready_when_database_processes_and_outbox_are_healthy(client, settings, processes_reporting):
    settings.TASKS = DB_BACKEND
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {key: body[key] for key in ("database", "worker", "periodic", "outbox")} == dict.fromkeys(
        ("database", "worker", "periodic", "outbox"), "ok"
    )


def test_observed_readyz_200_with_no_worker_and_no_periodic_process_now_fails(client, settings):
    # Issue 13: every round failed for five minutes and /readyz answered 200. With nothing
    # reporting at all, it is not ready, and says which process is missing.
    settings.TASKS = DB_BACKEND
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert "db_worker" in body["worker"]
    assert "run_periodic" in body["periodic"]


def test_a_silent_worker_fails_readiness_with_how_long(client, settings, processes_reporting):
    settings.TASKS = DB_BACKEND
    settings.HEALTH_WORKER_MAX_SILENCE_SECONDS = 60
    age("worker-1", 200)
    body = client.get("/readyz").json()
    assert body["worker"].startswith("no task worker (db_worker) has reported for 2")
    assert body["periodic"] == "ok"


def test_one_live_worker_among_dead_ones_is_enough(client, settings, processes_reporting):
    settings.TASKS = DB_BACKEND
    beat(Heartbeat.Process.WORKER, "worker-2")
    age("worker-1", 10_000)
    assert client.get("/readyz").status_code == 200


def test_a_silent_periodic_process_fails_readiness(client, processes_reporting):
    age("periodic:host:1", 120)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "run_periodic" in response.json()["periodic"]


def test_worker_check_is_off_when_tasks_run_inline(client, processes_reporting):
    # The test settings run tasks in-process (ImmediateBackend): there is no worker to wait for.
    Heartbeat.objects.filter(process=Heartbeat.Process.WORKER).delete()
    assert client.get("/readyz").json()["worker"] == "ok"


def overdue_message(minutes_due: int):
    patient = PatientFactory()
    row = outbox.queue_message(
        to_phone=patient.mobile_phone, kind=Kind.STAFF_REPLY, idempotency_key="late", literal="Hello", patient=patient
    )
    row.next_attempt_at = timezone.now() - dt.timedelta(minutes=minutes_due)
    row.save(update_fields=["next_attempt_at"])
    return row


def test_outbox_overdue_beyond_the_threshold_fails_readiness_without_phi(client, settings, processes_reporting):
    settings.HEALTH_OUTBOX_OVERDUE_SECONDS = 300
    row = overdue_message(minutes_due=12)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["outbox"].startswith("the oldest due text message has waited 12 min")
    assert row.to_phone not in response.text
    assert "Hello" not in response.text


def test_outbox_due_within_the_threshold_or_waiting_on_purpose_is_fine(client, settings, processes_reporting):
    settings.HEALTH_OUTBOX_OVERDUE_SECONDS = 300
    overdue_message(minutes_due=2)
    assert client.get("/readyz").json()["outbox"] == "ok"


def test_a_message_stuck_sending_past_reconciliation_fails_readiness(client, settings, processes_reporting):
    row = overdue_message(minutes_due=0)
    row.status = "sending"
    row.claimed_at = timezone.now() - dt.timedelta(seconds=settings.SMS_SENDING_TIMEOUT_SECONDS + 400)
    row.save(update_fields=["status", "claimed_at"])
    body = client.get("/readyz").json()
    assert "'sending'" in body["outbox"]


def test_a_registered_check_is_run_and_a_broken_one_fails_readiness_instead_of_500(client, processes_reporting):
    calls = []

    @health.register("canary")
    def canary():
        calls.append(1)
        return "FIELD_ENCRYPTION_KEYS does not match the data"

    @health.register("broken")
    def broken():
        raise ValueError("bug")

    @health.register("db-broken")
    def db_broken():
        raise DatabaseError("relation does not exist")

    try:
        response = client.get("/readyz")
    finally:
        for name in ("canary", "broken", "db-broken"):
            health.unregister(name)
    assert calls == [1]
    assert response.status_code == 503
    body = response.json()
    assert body["canary"] == "FIELD_ENCRYPTION_KEYS does not match the data"
    assert body["broken"] == "the check itself failed (see the server log)"
    assert body["db-broken"] == "the check could not read the database"
    assert body["database"] == "ok"
    assert body["periodic"] == "ok"  # a failing check does not spoil the ones after it


def test_readyz_is_a_handful_of_queries(client, processes_reporting, django_assert_max_num_queries):
    with django_assert_max_num_queries(16):
        assert client.get("/readyz").status_code == 200
