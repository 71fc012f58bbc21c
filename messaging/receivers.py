"""Receivers of the appointment lifecycle signals. They run inside the transaction that made the
change, so the outbox rows commit (or roll back) with the booking."""

from django.dispatch import receiver

from appointments.signals import (
    appointment_booked,
    appointment_cancelled,
    appointment_completed,
    appointment_rescheduled,
)
from messaging import services


@receiver(appointment_booked, dispatch_uid="messaging.booked")
def queue_booking_messages(sender, appointment, **kwargs):
    services.on_appointment_booked(appointment=appointment)


@receiver(appointment_rescheduled, dispatch_uid="messaging.rescheduled")
def move_reminders(sender, appointment, previous_starts_at=None, **kwargs):
    services.on_appointment_rescheduled(appointment=appointment, previous_starts_at=previous_starts_at)


@receiver(appointment_cancelled, dispatch_uid="messaging.cancelled")
def cancel_messages(sender, appointment, **kwargs):
    services.on_appointment_cancelled(appointment=appointment)


@receiver(appointment_completed, dispatch_uid="messaging.completed")
def queue_post_care(sender, appointment, **kwargs):
    services.on_appointment_completed(appointment=appointment)
