"""Reactions to the scheduling lifecycle (appointments.signals), inside its transaction."""

from payments import services


def on_appointment_cancelled(sender, *, appointment, late: bool, by=None, **kwargs):
    """Timely cancellation refunds the deposit; a late one keeps it as the fee (§ cancellation policy)."""
    if late:
        services.keep_deposits_as_late_fee(appointment=appointment)
    else:
        services.refund_deposits_on_timely_cancel(appointment=appointment)
    services.cancel_open_deposits(appointment=appointment)
