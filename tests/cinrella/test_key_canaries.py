"""Key canaries (issue 13): a process whose keys do not match the data refuses to start.

The first tests reproduce what was observed on a production-shaped install, with real child
processes started the way web, worker and periodic processes start; they failed before the check
existed. The rest pin the rules of cinrella.keycheck directly."""

import datetime as dt

import pytest
import time_machine
from cryptography.fernet import Fernet

from cinrella import keycheck
from cinrella.models import KeyCanary
from messaging import backends, dispatch
from messaging.models import Kind, OutboundMessage, Status
from messaging.services import appointment_messages, inbound, outbox
from patients.models import Patient
from tests.factories import AppointmentFactory, PatientFactory
from tests.helpers import run_manage
from tests.messaging.factories import opt_in

WRONG_MASTER = Fernet.generate_key().decode()
CREATE_PATIENT = (
    "import datetime; from patients.services import create_patient; "
    "create_patient(first_name='Walk', last_name='In', date_of_birth=datetime.date(1990, 1, 2))"
)


@pytest.mark.django_db(transaction=True)
def test_wrong_but_valid_master_key_refuses_to_start_instead_of_writing_rows_nobody_can_read(staff_client):
    # Observed: with a wrong (valid) FIELD_ENCRYPTION_KEYS the app started, stored a new patient
    # under that key, and after the right key was back the staff patient list answered 500.
    PatientFactory(first_name="Ana")

    child = run_manage("shell", "-c", CREATE_PATIENT, env={"FIELD_ENCRYPTION_KEYS": WRONG_MASTER})

    assert staff_client("front_desk").get("/staff/patients/").status_code == 200
    assert Patient.objects.count() == 1  # nothing was written under the wrong key
    assert child.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS cannot decrypt the data already in this database" in child.stderr
    assert "Traceback" not in child.stderr


@pytest.mark.django_db(transaction=True)
def test_stop_received_while_the_blind_index_key_was_wrong_still_blocks_the_next_reminder():
    # Observed: a STOP received while BLIND_INDEX_KEY was wrong was filed under a digest nobody looks
    # up; once the key was fixed, a reminder went to the number that had opted out (TCPA exposure).
    noon_pacific = dt.datetime(2026, 6, 10, 19, 0, tzinfo=dt.UTC)
    with time_machine.travel(noon_pacific, tick=True):
        appointment = AppointmentFactory(starts_at=noon_pacific + dt.timedelta(hours=5))
        phone = appointment.patient.mobile_phone
        opt_in(phone)
    receive_stop = (
        "from messaging.services.inbound import receive_inbound; "
        f"receive_inbound(message_sid='SMstopwrongkey', from_phone='{phone}', to_phone='+18582560289', body='STOP')"
    )

    child = run_manage("shell", "-c", receive_stop, env={"BLIND_INDEX_KEY": "a-wrong-blind-index-key"})
    with time_machine.travel(noon_pacific + dt.timedelta(minutes=5), tick=True):
        # The process that refused to start never answered Twilio; the STOP is delivered again
        # (Twilio's retry, or its own opt-out record) to a process with the right key.
        inbound.receive_inbound(message_sid="SMstopwrongkey", from_phone=phone, to_phone="+18582560289", body="STOP")
        outbox.queue_message(
            to_phone=phone,
            kind=Kind.REMINDER,
            idempotency_key="appt:wrong-key:reminder",
            context=appointment_messages.appointment_context(appointment),
            patient=appointment.patient,
            appointment=appointment,
        )
        backends.outbox.clear()
        dispatch.run_once()

    assert [m.to for m in backends.outbox if "unsubscribed" not in m.body] == []
    reminder = OutboundMessage.objects.get(kind=Kind.REMINDER)
    assert (reminder.status, reminder.error_reason) == (Status.SUPPRESSED, "Opted out of transactional texts.")
    assert child.returncode != 0
    assert "BLIND_INDEX_KEY does not reproduce the digests already stored" in child.stderr


@pytest.mark.django_db(transaction=True)
def test_web_worker_and_periodic_processes_refuse_to_start_with_a_wrong_key():
    PatientFactory()
    wrong = {"FIELD_ENCRYPTION_KEYS": WRONG_MASTER}

    web = run_manage("shell", "-c", "import cinrella.wsgi", env=wrong)  # what gunicorn imports
    worker = run_manage(
        "db_worker", "--batch", "--no-startup-delay", env={**wrong, "TASKS_BACKEND": "django_tasks_db.DatabaseBackend"}
    )
    periodic = run_manage("run_periodic", "--once", env=wrong)

    for process in (web, worker):
        assert process.returncode != 0
        assert "FIELD_ENCRYPTION_KEYS" in process.stderr
    # run_periodic keeps going when one job fails, but every job refused and said why.
    assert "KeyMismatch" in periodic.stderr or "FIELD_ENCRYPTION_KEYS" in periodic.stderr


# --- the rules ----------------------------------------------------------------------------------

pytestmark_db = pytest.mark.django_db


@pytestmark_db
def test_before_migrate_creates_the_canary_table_the_check_steps_aside(monkeypatch, settings):
    # `migrate` on an empty database connects before any table exists: nothing to prove yet.
    monkeypatch.setattr(keycheck, "CANARY_TABLE", "cinrella_table_not_created_yet")
    settings.FIELD_ENCRYPTION_KEY = [WRONG_MASTER]

    report = keycheck.ensure_keys()

    assert report.skipped and report.ok and not KeyCanary.objects.exists()


@pytestmark_db
def test_first_start_on_an_empty_database_records_a_canary_per_key_and_never_the_key(settings):
    report = keycheck.verify_keys()

    assert report.ok and len(report.recorded) == 2
    master = KeyCanary.objects.get(kind="master")
    blind = KeyCanary.objects.get(kind="blind_index")
    assert Fernet(settings.FIELD_ENCRYPTION_KEY[0]).decrypt(master.token.encode()) == keycheck.CANARY_PLAINTEXT
    for row in (master, blind):
        assert settings.FIELD_ENCRYPTION_KEY[0] not in row.key_id + row.token
        assert settings.BLIND_INDEX_KEY not in row.key_id + row.token
    assert keycheck.verify_keys().recorded == []  # the next start only checks


@pytestmark_db
def test_a_replaced_master_key_is_refused_with_the_variable_named(settings):
    keycheck.verify_keys()
    settings.FIELD_ENCRYPTION_KEY = [WRONG_MASTER]

    with pytest.raises(keycheck.KeyMismatch, match="FIELD_ENCRYPTION_KEYS does not hold the master key"):
        keycheck.ensure_keys()
    assert KeyCanary.objects.filter(kind="master").count() == 1  # nothing recorded for the wrong key


@pytestmark_db
def test_a_new_key_put_first_for_rotation_is_accepted_but_the_old_one_cannot_be_dropped_yet(settings):
    old = settings.FIELD_ENCRYPTION_KEY[0]
    keycheck.verify_keys()
    new = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = [new, old]

    assert keycheck.ensure_keys().recorded == [f"master key {keycheck.crypto.master_key_id(new)[:12]}"]
    settings.FIELD_ENCRYPTION_KEY = [new]
    with pytest.raises(keycheck.KeyMismatch, match="rotate_keys"):
        keycheck.ensure_keys()


@pytestmark_db
def test_a_wrong_blind_index_key_is_refused(settings):
    keycheck.verify_keys()
    settings.BLIND_INDEX_KEY = "another-blind-index-key"

    report = keycheck.verify_keys()

    assert not report.ok
    assert report.problems[0].startswith("BLIND_INDEX_KEY is not the key")


@pytestmark_db
def test_data_written_before_canaries_existed_is_probed_with_the_configured_keys(settings):
    PatientFactory()  # an install older than the canaries: data, no canary rows
    right_master, right_blind = list(settings.FIELD_ENCRYPTION_KEY), settings.BLIND_INDEX_KEY

    settings.FIELD_ENCRYPTION_KEY = [WRONG_MASTER]
    wrong_master = keycheck.verify_keys()
    settings.FIELD_ENCRYPTION_KEY, settings.BLIND_INDEX_KEY = right_master, "another-blind-index-key"
    wrong_blind = keycheck.verify_keys()
    settings.BLIND_INDEX_KEY = right_blind
    right = keycheck.verify_keys()

    assert "FIELD_ENCRYPTION_KEYS cannot decrypt the data already in this database" in wrong_master.problems[0]
    assert "BLIND_INDEX_KEY does not reproduce the digests" in wrong_blind.problems[0]
    assert right.ok
    assert set(KeyCanary.objects.values_list("kind", flat=True)) == {"master", "blind_index"}


@pytestmark_db
def test_readyz_fails_while_the_keys_do_not_match_and_records_nothing(client, settings):
    keycheck.verify_keys()
    assert client.get("/readyz").json()["keys"] == "ok"
    settings.BLIND_INDEX_KEY = "another-blind-index-key"
    KeyCanary.objects.filter(kind="master").delete()

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["keys"] == "BLIND_INDEX_KEY do not match the data in this database (see the server log)"
    assert not KeyCanary.objects.filter(kind="master").exists()
