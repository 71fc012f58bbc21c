"""The managers' "Needs attention" page (issue 24 point 6): set-aside and stuck texts, failed
payments, failed tasks and jobs, processes and readiness; read-only, no PHI, managers only."""

import datetime as dt

import pytest
from cryptography.fernet import Fernet
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from cinrella.heartbeats import beat
from cinrella.models import Heartbeat, PeriodicJob
from messaging.models import Kind, OutboundMessage, Status
from messaging.services import outbox
from messaging.tasks import dispatch_due_messages
from payments.models import Payment
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

URL = "/staff/attention/"


def text(patient, key, status, reason, **fields):
    row = outbox.queue_message(
        to_phone=patient.mobile_phone,
        kind=Kind.STAFF_REPLY,
        idempotency_key=key,
        literal="Private words",
        patient=patient,
    )
    OutboundMessage.objects.filter(pk=row.pk).update(
        status=status, error_reason=reason, status_updated_at=timezone.now(), **fields
    )
    return row


@pytest.fixture
def trouble(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    patient = PatientFactory()
    unknown = text(patient, "u", Status.UNKNOWN, "Check with the patient before resending.")
    unreadable = text(patient, "q", Status.QUARANTINED, "Set aside: cannot be decrypted (FIELD_ENCRYPTION_KEYS).")
    with connection.cursor() as cursor:  # written under a key the app does not have
        wrong = Fernet(Fernet.generate_key()).encrypt(b"+16195550100").decode()
        cursor.execute("UPDATE messaging_outboundmessage SET to_phone = %s WHERE id = %s", [wrong, unreadable.pk])
    stuck = text(patient, "s", Status.SENDING, "", claimed_at=timezone.now() - dt.timedelta(hours=1))
    Payment.objects.create(
        patient=patient,
        kind=Payment.Kind.NO_SHOW_FEE,
        amount_cents=5000,
        idempotency_key="fee:1",
        status=Payment.Status.FAILED,
        failure_reason="Your card was declined.",
    )
    task = DBTaskResult.objects.get(pk=dispatch_due_messages.enqueue().id)
    DBTaskResult.objects.filter(pk=task.pk).update(
        status=TaskResultStatus.FAILED, finished_at=timezone.now(), exception_class_path="cinrella.worker.WorkerStopped"
    )
    PeriodicJob.objects.create(
        name="send_due_messages", last_outcome=PeriodicJob.Outcome.FAILED, last_error="OperationalError",
        consecutive_failures=4, last_started_at=timezone.now(), last_host="web-2",
    )  # fmt: skip
    beat(Heartbeat.Process.WORKER, "worker-a")
    return {"patient": patient, "unknown": unknown, "unreadable": unreadable, "stuck": stuck}


def test_manager_sees_what_needs_a_person_without_phi(staff_client, trouble, django_assert_max_num_queries):
    client = staff_client("manager")
    with django_assert_max_num_queries(34):  # constant: one per section and check, none per row
        response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Text messages set aside for a person (2)" in html
    assert "Check with the patient before resending." in html
    assert "cannot be decrypted" in html  # shown although its phone cannot be decrypted
    assert "Text messages stuck or overdue (1)" in html
    assert "Your card was declined." in html and "$50.00" in html
    assert "cinrella.worker.WorkerStopped" in html
    assert "Failed (OperationalError) × 4" in html and "web-2" in html
    assert "Task worker (db_worker)" in html
    assert "not ready" in html  # the stuck text and the silent periodic process fail readiness
    patient = trouble["patient"]
    for secret in (patient.mobile_phone, patient.last_name, "Private words"):
        assert secret not in html


def test_only_managers_reach_it_and_see_it_in_the_menu(staff_client):
    front_desk = staff_client("front_desk")
    assert front_desk.get(URL).status_code == 403
    assert "Needs attention" not in front_desk.get("/staff/").content.decode()
    manager = staff_client("manager")
    assert "Needs attention" in manager.get("/staff/").content.decode()
    assert reverse("operations-attention") == URL


def test_a_quiet_day_says_so(staff_client):
    html = staff_client("manager").get(URL).content.decode()
    assert "None: every interrupted send was settled automatically." in html
    assert "No periodic job has run yet" in html
