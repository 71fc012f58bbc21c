"""Reactions to payments (payments.signals), inside the transaction that changed the payment."""

from checkout import services
from checkout.models import ReturnTender, Tender


def on_payment_status_changed(sender, *, payment, **kwargs):
    """A card tender's payment settled (desk, return page or Stripe webhook): apply it to the sale."""
    if Tender.objects.filter(payment_id=payment.pk).exists():
        services.apply_payment_result(payment=payment)


def on_refund_status_changed(sender, *, refund, **kwargs):
    if ReturnTender.objects.filter(refund_id=refund.pk).exists():
        services.apply_refund_result(refund=refund)
