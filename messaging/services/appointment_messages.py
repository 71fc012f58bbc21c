"""Texts about an appointment: confirmation, reminders, pre- and post-care, reschedule and cancel
notices, queued from the appointment signals (messaging/receivers.py)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cinrella import crypto
from cinrella.public_urls import absolute_url
from messaging.models import (
    Kind,
    OutboundMessage,
    Purpose,
)
from messaging.services.outbox import cancel_pending, queue_unique


def manage_link() -> str:
    if settings.SMS_MANAGE_LINK_URL:
        return settings.SMS_MANAGE_LINK_URL
    return absolute_url("/book/")


def appointment_context(appointment, starts_at=None) -> dict:
    zone = ZoneInfo(appointment.location.time_zone)
    local = (starts_at or appointment.starts_at).astimezone(zone)
    return {
        "first_name": appointment.patient.first_name,
        "date": f"{local:%a %b} {local.day}",
        "time": local.strftime("%I:%M %p").lstrip("0"),
        "location": appointment.location.name,
        "location_phone": appointment.location.phone,
        "manage_link": manage_link(),
    }


def _starts_key(appointment) -> str:
    return str(int(appointment.starts_at.timestamp()))


def reminder_offsets(location) -> list[int]:
    return sorted(set(location.reminder_hours or [24, 2]), reverse=True)


def _queue_for_appointment(appointment, *, kind, base_key, due_at=None, extra_context=None):
    phone = appointment.patient.mobile_phone
    if not phone or crypto.normalise_phone(phone) is None:
        return None  # no mobile on file: SMS was declined or never given (never a booking condition)
    context = appointment_context(appointment)
    if extra_context:
        context.update(extra_context)
    return queue_unique(
        base_key=base_key,
        to_phone=phone,
        kind=kind,
        purpose=Purpose.TRANSACTIONAL,
        context=context,
        due_at=due_at,
        patient=appointment.patient,
        appointment=appointment,
    )


def queue_reminders(*, appointment, now=None) -> list[OutboundMessage]:
    """One reminder per location offset (default 24 h and 2 h before) still in the future, and the
    pre-care message when the service has instructions."""
    now = now or timezone.now()
    queued = []
    for hours in reminder_offsets(appointment.location):
        due = appointment.starts_at - dt.timedelta(hours=hours)
        if due <= now:
            continue
        row = _queue_for_appointment(
            appointment,
            kind=Kind.REMINDER,
            base_key=f"appt:{appointment.pk}:reminder:{hours}h:{_starts_key(appointment)}",
            due_at=due,
        )
        if row:
            queued.append(row)
    service = appointment.service
    if service.pre_care_instructions.strip():
        due = max(now, appointment.starts_at - dt.timedelta(days=service.pre_care_days_before))
        if due < appointment.starts_at:
            row = _queue_for_appointment(
                appointment,
                kind=Kind.PRE_CARE,
                base_key=f"appt:{appointment.pk}:pre_care:{_starts_key(appointment)}",
                due_at=due,
                extra_context={"instructions": service.pre_care_instructions},
            )
            if row:
                queued.append(row)
    return queued


TIMED_KINDS = (Kind.REMINDER, Kind.PRE_CARE)


@transaction.atomic
def on_appointment_booked(*, appointment) -> None:
    _queue_for_appointment(
        appointment, kind=Kind.BOOKING_CONFIRMATION, base_key=f"appt:{appointment.pk}:booking_confirmation"
    )
    queue_reminders(appointment=appointment)


@transaction.atomic
def on_appointment_rescheduled(*, appointment, previous_starts_at=None) -> None:
    cancel_pending(appointment=appointment, kinds=TIMED_KINDS, reason="Appointment rescheduled")
    _queue_for_appointment(
        appointment,
        kind=Kind.RESCHEDULE_NOTICE,
        base_key=f"appt:{appointment.pk}:reschedule:{_starts_key(appointment)}",
    )
    queue_reminders(appointment=appointment)


@transaction.atomic
def on_appointment_cancelled(*, appointment) -> None:
    cancel_pending(
        appointment=appointment,
        kinds=(*TIMED_KINDS, Kind.BOOKING_CONFIRMATION, Kind.RESCHEDULE_NOTICE),
        reason="Appointment cancelled",
    )
    _queue_for_appointment(appointment, kind=Kind.CANCEL_NOTICE, base_key=f"appt:{appointment.pk}:cancel_notice")


@transaction.atomic
def on_appointment_completed(*, appointment) -> None:
    cancel_pending(appointment=appointment, kinds=TIMED_KINDS, reason="Appointment completed")
    service = appointment.service
    if service.post_care_instructions.strip():
        _queue_for_appointment(
            appointment,
            kind=Kind.POST_CARE,
            base_key=f"appt:{appointment.pk}:post_care",
            extra_context={"instructions": service.post_care_instructions},
        )
