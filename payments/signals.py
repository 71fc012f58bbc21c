"""What payments announces to the apps that sell things through it (checkout, prepaid), which it
must not import (they depend on payments, not the other way round). Both signals are sent inside
the transaction that changed the row, whether the change came from the desk, a return page or a
webhook: `payment_status_changed(payment=…)` and `refund_status_changed(refund=…)`."""

from django.dispatch import Signal

payment_status_changed = Signal()
refund_status_changed = Signal()
