"""Receivers of the appointment lifecycle signals. They run inside the transaction that made the
change, so the outbox rows commit (or roll back) with the booking."""

from django.dispatch import receiver

from appointments.signals import (
    appointment_booked,
    appointment_cancelled,
    appointment_completed,
    appointment_rescheduled,
)
from consents.models import SmsPurpose
from consents.signals import phone_code_requested, sms_opt_in_recorded, sms_opt_in_requested
from messaging.services import appointment_messages, notifications


@receiver(appointment_booked, dispatch_uid="messaging.booked")
def queue_booking_messages(sender, appointment, **kwargs):
    appointment_messages.on_appointment_booked(appointment=appointment)


@receiver(appointment_rescheduled, dispatch_uid="messaging.rescheduled")
def move_reminders(sender, appointment, previous_starts_at=None, **kwargs):
    appointment_messages.on_appointment_rescheduled(appointment=appointment, previous_starts_at=previous_starts_at)


@receiver(appointment_cancelled, dispatch_uid="messaging.cancelled")
def cancel_messages(sender, appointment, **kwargs):
    appointment_messages.on_appointment_cancelled(appointment=appointment)


@receiver(appointment_completed, dispatch_uid="messaging.completed")
def queue_post_care(sender, appointment, **kwargs):
    appointment_messages.on_appointment_completed(appointment=appointment)


@receiver(sms_opt_in_recorded, dispatch_uid="messaging.double_opt_in")
def queue_opt_in_confirmation(sender, phone, purposes, events, patient=None, **kwargs):
    """Confirmations of an opt-in that took effect, in its transaction: the transactional program's
    confirmation, and for marketing its own first message naming the program, frequency, rates,
    HELP and STOP (issue 17: ticking both boxes confirmed only appointment texts)."""
    for event in events:
        if event.purpose == SmsPurpose.MARKETING:
            notifications.queue_marketing_confirmation(
                phone=phone, reference=f"consent-event:{event.pk}", patient=patient
            )
        else:
            notifications.queue_double_opt_in(phone=phone, reference=f"consent-event:{event.pk}", patient=patient)


@receiver(sms_opt_in_requested, dispatch_uid="messaging.opt_in_request")
def queue_opt_in_request(sender, phone, purposes, events, patient=None, **kwargs):
    """A web form named a number nobody has shown to own: one "Reply YES" request, nothing else."""
    notifications.queue_opt_in_request(phone=phone, purposes=purposes, reference=f"consent-event:{events[0].pk}")


@receiver(phone_code_requested, dispatch_uid="messaging.phone_code")
def queue_phone_code(sender, phone, body, patient=None, code_id=None, **kwargs):
    """The portal's number-confirmation code: fixed wording, sent at once."""
    notifications.queue_phone_code(phone=phone, body=body, patient=patient, reference=f"phone-code:{code_id}")
