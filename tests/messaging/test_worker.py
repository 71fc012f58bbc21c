"""The outbox worker: consent at send time, privacy gate, retries, carrier errors, crash recovery."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from consents.models import SmsConsentEvent, SmsPurpose
from messaging import backends, dispatch
from messaging.backends import SmsSendError
from messaging.models import Kind, OutboundMessage, Purpose, Status
from messaging.services import appointment_messages, delivery, inbound, outbox
from privacy.models import Disclosure
from tests.factories import AppointmentFactory, PatientFactory
from tests.messaging.factories import opt_in, opt_out

pytestmark = pytest.mark.django_db

NOON_PACIFIC = dt.datetime(2026, 6, 10, 19, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def daytime():
    with time_machine.travel(NOON_PACIFIC, tick=True):
        yield


def queue(patient, key="k1", kind=Kind.STAFF_REPLY, purpose=Purpose.TRANSACTIONAL, **kwargs):
    return outbox.queue_message(
        to_phone=patient.mobile_phone,
        kind=kind,
        purpose=purpose,
        idempotency_key=key,
        literal="Your appointment is tomorrow.",
        patient=patient,
        **kwargs,
    )


def test_due_message_is_sent_once_and_recorded_with_a_disclosure():
    patient = PatientFactory()
    opt_in(patient.mobile_phone)
    row = queue(patient)
    result = dispatch.run_once()
    row.refresh_from_db()
    assert result.sent == 1
    assert row.status == Status.SENT and row.provider_sid.startswith("SM") and row.attempts == 1
    assert [(m.to, m.reference) for m in backends.outbox] == [(patient.mobile_phone, str(row.pk))]
    assert backends.outbox[0].body.endswith("Reply STOP to opt out.")
    disclosure = Disclosure.objects.get(patient=patient)
    assert disclosure.recipient.key == "twilio" and disclosure.purpose == "operations"
    assert dispatch.run_once().sent == 0  # nothing is sent twice
    assert len(backends.outbox) == 1


def test_same_idempotency_key_makes_one_row():
    patient = PatientFactory()
    first = queue(patient, key="appt:1:reminder:24h")
    second = queue(patient, key="appt:1:reminder:24h")
    assert first.pk == second.pk
    assert OutboundMessage.objects.count() == 1


def test_stop_then_a_due_reminder_is_suppressed_with_the_reason():
    appointment = AppointmentFactory(starts_at=NOON_PACIFIC + dt.timedelta(hours=5))
    phone = appointment.patient.mobile_phone
    opt_in(phone)
    outbox.queue_message(
        to_phone=phone,
        kind=Kind.REMINDER,
        idempotency_key="appt:r",
        context=appointment_messages.appointment_context(appointment),
        patient=appointment.patient,
        appointment=appointment,
    )
    inbound.receive_inbound(message_sid="SMstop1", from_phone=phone, to_phone="+18580000000", body="STOP")
    dispatch.run_once()
    reminder = OutboundMessage.objects.get(kind=Kind.REMINDER)
    assert reminder.status == Status.SUPPRESSED
    assert reminder.error_reason == "Opted out of transactional texts."
    # Only the STOP confirmation went out.
    assert [m.body for m in backends.outbox] == [
        "Cinrella Med Spa: You're unsubscribed and will get no more texts from us. Reply START to resubscribe."
    ]
    assert not Disclosure.objects.filter(description__contains=f"#{reminder.pk} ").exists()


def test_message_without_any_opt_in_is_suppressed():
    patient = PatientFactory()
    row = queue(patient)
    dispatch.run_once()
    row.refresh_from_db()
    assert row.status == Status.SUPPRESSED and row.error_reason == "No transactional SMS opt-in on record."
    assert backends.outbox == []


def test_marketing_needs_the_marketing_opt_in_even_with_transactional_consent():
    patient = PatientFactory()
    opt_in(patient.mobile_phone)
    row = queue(patient, kind=Kind.CAMPAIGN, purpose=Purpose.MARKETING)
    dispatch.run_once()
    row.refresh_from_db()
    assert row.status == Status.SUPPRESSED and "marketing" in row.error_reason
    opt_in(patient.mobile_phone, SmsPurpose.MARKETING)
    other = queue(patient, key="k2", kind=Kind.CAMPAIGN, purpose=Purpose.MARKETING)
    dispatch.run_once()
    other.refresh_from_db()
    assert other.status == Status.SENT
    # The refused campaign text left no disclosure behind; the one that went out did.
    assert Disclosure.objects.get(patient=patient).purpose == "marketing"


def test_consent_withdrawn_after_queueing_is_honoured_at_send_time():
    patient = PatientFactory()
    opt_in(patient.mobile_phone)
    row = queue(patient)
    opt_out(patient.mobile_phone)
    dispatch.run_once()
    row.refresh_from_db()
    assert row.status == Status.SUPPRESSED and backends.outbox == []


def test_transient_errors_retry_with_exponential_backoff_then_send():
    patient = PatientFactory()
    opt_in(patient.mobile_phone)
    row = queue(patient)
    backends.scripted_errors.extend(
        [SmsSendError("20500", transient=True, http_status=500), SmsSendError("20429", transient=True, http_status=429)]
    )
    dispatch.run_once()
    row.refresh_from_db()
    assert row.status == Status.PENDING and row.attempts == 1
    first_delay = row.next_attempt_at - timezone.now()
    assert dt.timedelta(seconds=25) < first_delay <= dt.timedelta(seconds=30)
    with time_machine.travel(row.next_attempt_at + dt.timedelta(seconds=1), tick=False):
        dispatch.run_once()
        row.refresh_from_db()
        assert row.status == Status.PENDING and row.attempts == 2
        assert row.next_attempt_at - timezone.now() == dt.timedelta(seconds=60)
    with time_machine.travel(row.next_attempt_at + dt.timedelta(seconds=1), tick=False):
        dispatch.run_once()
    row.refresh_from_db()
    assert row.status == Status.SENT and row.attempts == 3
    assert len(backends.outbox) == 1


def test_21610_records_a_carrier_opt_out_and_suppresses():
    patient = PatientFactory()
    opt_in(patient.mobile_phone)
    opt_in(patient.mobile_phone, SmsPurpose.MARKETING)
    row = queue(patient)
    backends.scripted_errors.append(SmsSendError("21610", transient=False, http_status=400))
    dispatch.run_once()
    row.refresh_from_db()
    assert row.status == Status.SUPPRESSED and row.error_code == "21610"
    assert "replied STOP" in row.error_reason
    events = SmsConsentEvent.objects.filter(source=SmsConsentEvent.Source.CARRIER_ERROR)
    assert sorted(events.values_list("purpose", "action")) == [("marketing", "opt_out"), ("transactional", "opt_out")]
    assert events.first().patient == patient


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("30003", "switched off"),
        ("30005", "does not exist"),
        ("30006", "Landline"),
        ("30007", "Filtered by the carrier"),
    ],
)
def test_carrier_failures_get_a_human_reason(code, words):
    patient = PatientFactory()
    opt_in(patient.mobile_phone)
    row = queue(patient)
    backends.scripted_errors.append(SmsSendError(code, transient=False, http_status=400))
    dispatch.run_once()
    row.refresh_from_db()
    assert row.status == Status.FAILED and row.error_code == code and words in row.error_reason


class KilledWorker(BaseException):
    """Stands in for SIGKILL: not an Exception, nothing in the worker catches it."""


class ProviderAcceptsThenWorkerDies(backends.LocmemBackend):
    def send(self, *, to, body, reference):
        super().send(to=to, body=body, reference=reference)
        raise KilledWorker


class WorkerDiesBeforeTheCall(backends.LocmemBackend):
    def send(self, *, to, body, reference):
        raise KilledWorker


def test_worker_killed_after_the_provider_accepted_does_not_send_again_on_restart():
    patient = PatientFactory()
    opt_in(patient.mobile_phone)
    row = queue(patient)
    with pytest.raises(KilledWorker):
        dispatch.run_once(backend=ProviderAcceptsThenWorkerDies())
    row.refresh_from_db()
    assert row.status == Status.SENDING  # committed before the API call
    dispatch.run_once()  # restart right away: the row is not claimed again
    assert len(backends.outbox) == 1
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=3), tick=False):
        result = dispatch.run_once()
    row.refresh_from_db()
    assert result.reconciled == 1
    assert row.status == Status.SENT and row.provider_sid == backends.outbox[0].sid
    assert len(backends.outbox) == 1


def test_worker_killed_before_the_call_is_sent_once_after_checking_the_provider_never_got_it():
    # Issue 17 point 10: a claimed message the provider never received is queued again by the
    # worker itself, not left "unknown" for a manager to resend by hand.
    patient = PatientFactory()
    opt_in(patient.mobile_phone)
    row = queue(patient)
    with pytest.raises(KilledWorker):
        dispatch.run_once(backend=WorkerDiesBeforeTheCall())
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=3), tick=False):
        result = dispatch.run_once()
    row.refresh_from_db()
    assert (result.requeued, result.sent, result.unknown) == (1, 1, 0)
    assert row.status == Status.SENT and row.attempts == 2
    assert [m.reference for m in backends.outbox] == [str(row.pk)]


def test_status_callback_reconciles_a_row_whose_send_answer_was_lost():
    patient = PatientFactory()
    opt_in(patient.mobile_phone)
    row = queue(patient)
    with pytest.raises(KilledWorker):
        dispatch.run_once(backend=ProviderAcceptsThenWorkerDies())
    delivery.record_delivery_status(
        message_sid=backends.outbox[0].sid, provider_status="delivered", reference=str(row.pk)
    )
    row.refresh_from_db()
    assert row.status == Status.DELIVERED and row.provider_sid == backends.outbox[0].sid


def test_parallel_claims_take_disjoint_rows():
    patients = PatientFactory.create_batch(3)
    for i, p in enumerate(patients):
        opt_in(p.mobile_phone)
        queue(p, key=f"k{i}")
    first, _ = dispatch.claim_batch(timezone.now(), limit=2)
    second, _ = dispatch.claim_batch(timezone.now(), limit=2)
    assert len(first) == 2 and len(second) == 1
    assert not {r.pk for r in first} & {r.pk for r in second}


def test_reminder_for_a_cancelled_appointment_is_cancelled_not_sent():
    appointment = AppointmentFactory(starts_at=NOON_PACIFIC + dt.timedelta(hours=5))
    opt_in(appointment.patient.mobile_phone)
    row = outbox.queue_message(
        to_phone=appointment.patient.mobile_phone,
        kind=Kind.REMINDER,
        idempotency_key="r",
        context=appointment_messages.appointment_context(appointment),
        appointment=appointment,
        patient=appointment.patient,
    )
    appointment.status = "cancelled"
    appointment.save()
    dispatch.run_once()
    row.refresh_from_db()
    assert row.status == Status.CANCELLED and backends.outbox == []


def test_send_due_messages_command_sends(capsys):
    from django.core.management import call_command

    patient = PatientFactory()
    opt_in(patient.mobile_phone)
    queue(patient)
    call_command("send_due_messages")
    assert "sent 1" in capsys.readouterr().out
    from messaging.jobs import PERIODIC_JOBS

    assert ("send_due_messages", 15) in PERIODIC_JOBS


class SlowProvider(backends.LocmemBackend):
    """Each send takes a simulated minute (the clock is moved, nothing sleeps)."""

    def __init__(self, traveller):
        self.traveller = traveller

    def send(self, *, to, body, reference):
        self.traveller.shift(dt.timedelta(seconds=61))
        return super().send(to=to, body=body, reference=reference)


def test_a_slow_provider_hands_back_rows_whose_claim_got_old_instead_of_risking_reconciliation():
    patients = PatientFactory.create_batch(3)
    for i, p in enumerate(patients):
        opt_in(p.mobile_phone)
        queue(p, key=f"k{i}")
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        first = dispatch.run_once(backend=SlowProvider(traveller), max_messages=3)
        assert first.sent == 1
        assert sorted(OutboundMessage.objects.values_list("status", "attempts")) == [
            (Status.PENDING, 0),
            (Status.PENDING, 0),
            (Status.SENT, 1),
        ]
        dispatch.run_once(backend=SlowProvider(traveller))
        dispatch.run_once(backend=SlowProvider(traveller))
    assert sorted(OutboundMessage.objects.values_list("status", "attempts")) == [(Status.SENT, 1)] * 3
    assert len(backends.outbox) == 3
    assert len({m.reference for m in backends.outbox}) == 3


def test_a_round_decided_at_an_earlier_time_sends_each_row_once_and_ends():
    # `now` sets the send-time decisions (consent, quiet hours); the claim's lease still runs on the
    # real clock. A lease stamped with a `now` hours back (the bench did so after noon) was handed
    # back and re-claimed forever.
    earlier = timezone.now() - dt.timedelta(hours=3)  # 9:00 in San Diego: not quiet hours
    patients = PatientFactory.create_batch(3)
    for i, p in enumerate(patients):
        opt_in(p.mobile_phone)
        queue(p, key=f"k{i}", due_at=earlier - dt.timedelta(minutes=1))
    result = dispatch.run_once(now=earlier)
    assert result.sent == 3
    assert sorted(OutboundMessage.objects.values_list("status", "attempts")) == [(Status.SENT, 1)] * 3
    assert Disclosure.objects.count() == 3  # one disclosure per message, not one per re-claim
