"""Signals sent by appointments.services inside the transaction that makes the change.

Receivers (messaging's outbox, payments' refunds, …) write their own rows in that same
transaction, so a booking and its confirmation message commit or roll back together.
Sent with `send()`, not `send_robust()`: a failing receiver rolls the change back.

Keyword arguments: `appointment` (the saved Appointment); `appointment_rescheduled` also gets
`previous_starts_at`; `appointment_cancelled` also gets `late` (bool: inside the paid window)
and `by` ("patient" or "staff")."""

from django.dispatch import Signal

appointment_booked = Signal()
appointment_rescheduled = Signal()
appointment_cancelled = Signal()
appointment_completed = Signal()
