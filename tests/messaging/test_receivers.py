"""Appointment lifecycle signals → outbox rows, in the same transaction."""

import datetime as dt

import pytest
import time_machine
from django.db import transaction

from appointments.signals import (
    appointment_booked,
    appointment_cancelled,
    appointment_completed,
    appointment_rescheduled,
)
from messaging.models import Kind, OutboundMessage, Status
from tests.factories import AppointmentFactory, LocationFactory, ServiceFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 10, 19, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def rows(appointment, **filters):
    return OutboundMessage.objects.filter(appointment=appointment, **filters).order_by("due_at")


def test_booking_queues_confirmation_and_default_24h_and_2h_reminders():
    starts = NOW + dt.timedelta(days=3)
    appointment = AppointmentFactory(starts_at=starts, patient__first_name="Ana")
    appointment_booked.send(sender=None, appointment=appointment)
    confirmation = rows(appointment, kind=Kind.BOOKING_CONFIRMATION).get()
    assert confirmation.due_at == NOW and confirmation.status == Status.PENDING
    assert "Ana" in confirmation.body and "Reply STOP to opt out." in confirmation.body
    assert appointment.service.name not in confirmation.body  # no treatment names
    reminders = rows(appointment, kind=Kind.REMINDER)
    assert [r.due_at for r in reminders] == [starts - dt.timedelta(hours=24), starts - dt.timedelta(hours=2)]
    assert all(r.purpose == "transactional" for r in reminders)


def test_reminder_body_shows_time_in_the_location_zone():
    starts = dt.datetime(2026, 6, 13, 21, 30, tzinfo=dt.UTC)  # 14:30 PDT
    appointment = AppointmentFactory(starts_at=starts)
    appointment_booked.send(sender=None, appointment=appointment)
    body = rows(appointment, kind=Kind.REMINDER).first().body
    assert "Sat Jun 13 at 2:30 PM" in body


def test_location_reminder_hours_are_used():
    location = LocationFactory(reminder_hours=[48, 1])
    appointment = AppointmentFactory(location=location, starts_at=NOW + dt.timedelta(days=4))
    appointment_booked.send(sender=None, appointment=appointment)
    assert [appointment.starts_at - r.due_at for r in rows(appointment, kind=Kind.REMINDER)] == [
        dt.timedelta(hours=48),
        dt.timedelta(hours=1),
    ]


def test_reminders_already_in_the_past_are_skipped():
    appointment = AppointmentFactory(starts_at=NOW + dt.timedelta(hours=5))
    appointment_booked.send(sender=None, appointment=appointment)
    assert [r.due_at for r in rows(appointment, kind=Kind.REMINDER)] == [appointment.starts_at - dt.timedelta(hours=2)]


def test_pre_care_follows_the_service_days_before_without_the_instruction_text():
    service = ServiceFactory(pre_care_instructions="Avoid retinol and alcohol", pre_care_days_before=2)
    appointment = AppointmentFactory(service=service, starts_at=NOW + dt.timedelta(days=5))
    appointment_booked.send(sender=None, appointment=appointment)
    pre = rows(appointment, kind=Kind.PRE_CARE).get()
    assert pre.due_at == appointment.starts_at - dt.timedelta(days=2)
    assert "retinol" not in pre.body


def test_replaying_the_booking_signal_makes_no_duplicates():
    appointment = AppointmentFactory()
    appointment_booked.send(sender=None, appointment=appointment)
    appointment_booked.send(sender=None, appointment=appointment)
    assert rows(appointment).count() == 3


def test_rescheduling_moves_reminders():
    appointment = AppointmentFactory(starts_at=NOW + dt.timedelta(days=3))
    appointment_booked.send(sender=None, appointment=appointment)
    old = list(rows(appointment, kind=Kind.REMINDER))
    previous = appointment.starts_at
    appointment.starts_at = NOW + dt.timedelta(days=6)
    appointment.ends_at = appointment.starts_at + dt.timedelta(hours=1)
    appointment.save()
    appointment_rescheduled.send(sender=None, appointment=appointment, previous_starts_at=previous)
    for row in old:
        row.refresh_from_db()
        assert row.status == Status.CANCELLED and row.error_reason == "Appointment rescheduled"
    live = rows(appointment, kind=Kind.REMINDER, status=Status.PENDING)
    assert [r.due_at for r in live] == [
        appointment.starts_at - dt.timedelta(hours=24),
        appointment.starts_at - dt.timedelta(hours=2),
    ]
    assert rows(appointment, kind=Kind.RESCHEDULE_NOTICE).count() == 1


def test_rescheduling_back_to_the_original_time_still_gets_reminders():
    appointment = AppointmentFactory(starts_at=NOW + dt.timedelta(days=3))
    original = appointment.starts_at
    appointment_booked.send(sender=None, appointment=appointment)
    for new_start in (NOW + dt.timedelta(days=6), original):
        previous = appointment.starts_at
        appointment.starts_at = new_start
        appointment.ends_at = new_start + dt.timedelta(hours=1)
        appointment.save()
        appointment_rescheduled.send(sender=None, appointment=appointment, previous_starts_at=previous)
    live = rows(appointment, kind=Kind.REMINDER, status=Status.PENDING)
    assert [r.due_at for r in live] == [original - dt.timedelta(hours=24), original - dt.timedelta(hours=2)]


def test_cancelling_cancels_pending_messages_and_queues_a_cancel_notice():
    appointment = AppointmentFactory()
    appointment_booked.send(sender=None, appointment=appointment)
    appointment.status = "cancelled"
    appointment.save()
    appointment_cancelled.send(sender=None, appointment=appointment, late=False, by="patient")
    assert not rows(appointment, kind=Kind.REMINDER, status=Status.PENDING).exists()
    assert rows(appointment, kind=Kind.CANCEL_NOTICE, status=Status.PENDING).count() == 1


def test_completion_queues_post_care_when_the_service_has_instructions():
    service = ServiceFactory(post_care_instructions="Ice 10 minutes")
    appointment = AppointmentFactory(service=service, starts_at=NOW - dt.timedelta(hours=2))
    appointment_completed.send(sender=None, appointment=appointment)
    post = rows(appointment, kind=Kind.POST_CARE).get()
    assert "Ice" not in post.body and "aftercare" in post.body


def test_no_mobile_no_message():
    appointment = AppointmentFactory(patient__mobile_phone="")
    appointment_booked.send(sender=None, appointment=appointment)
    assert not rows(appointment).exists()


def test_outbox_rows_roll_back_with_the_booking():
    appointment = AppointmentFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        appointment_booked.send(sender=None, appointment=appointment)
        raise RuntimeError("booking failed later in the transaction")
    assert not rows(appointment).exists()


def test_helpers_for_other_apps_queue_messages():
    from messaging.services.notifications import queue_double_opt_in, queue_pay_link

    appointment = AppointmentFactory()
    patient = appointment.patient
    doi = queue_double_opt_in(phone=patient.mobile_phone, patient=patient, reference="ev1")
    assert doi.kind == Kind.DOUBLE_OPT_IN
    assert "Cinrella Med Spa" in doi.body and "Msg frequency varies. Msg & data rates may apply." in doi.body
    assert "Reply HELP for help, STOP to opt out." in doi.body
    pay = queue_pay_link(patient=patient, link="https://pay.example.test/x", amount_cents=5000, reference="pi_1")
    assert "$50.00" in pay.body and "https://pay.example.test/x" in pay.body
