"""Scheduling events other apps listen to (the messaging app queues confirmations, reschedule and
cancellation notices, and post-care texts from them).

Each signal is sent with `send` (not `send_robust`) INSIDE the transaction that changed the
appointment: a receiver that writes an outbox row commits or rolls back together with the
appointment, and a receiver that raises aborts the change. Receivers get only ids-bearing model
instances; they must not put PHI into task arguments or logs.

Arguments: `sender=Appointment`, `appointment` (the saved instance), plus:
- appointment_booked: `source` ("portal" or "staff")
- appointment_rescheduled: `previous_starts_at` (aware UTC), `previous_provider_id`
- appointment_cancelled: `by_patient` (bool), `late` (bool: inside the free-cancellation window)
- appointment_completed: nothing more
"""

from django.dispatch import Signal

appointment_booked = Signal()
appointment_rescheduled = Signal()
appointment_cancelled = Signal()
appointment_completed = Signal()
