"""Applying verified Stripe events. Each event id is recorded in ProcessedStripeEvent in the same
transaction as its effects: a redelivery finds the row and changes nothing; a failure rolls both
back so Stripe's retry applies it later. Order-sensitive objects (PaymentIntents, refunds) are
re-read from Stripe instead of trusting the event's snapshot, so events arriving out of order
still leave the current state."""

from django.db import IntegrityError, transaction

from payments import services
from payments import stripe_gateway as gateway
from payments.models import Payment, ProcessedStripeEvent, Refund, StripeCustomer


def _payment_for_intent(intent) -> Payment | None:
    payment = Payment.objects.filter(payment_intent_id=intent["id"]).first()
    if payment is None:
        metadata = intent.get("metadata") or {}
        payment_id = metadata.get("cinrella_payment_id")
        if payment_id and str(payment_id).isdigit():
            payment = Payment.objects.filter(pk=int(payment_id), payment_intent_id__isnull=True).first()
    return payment


def on_payment_intent(obj) -> None:
    payment = _payment_for_intent(obj)
    if payment is None:
        return  # not one of ours (another integration on the same account)
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.payment_intent_id is None:
        payment.payment_intent_id = obj["id"]
    fresh = gateway.retrieve_payment_intent(payment=payment)
    before = payment.status
    payment = services.apply_intent(payment=payment, intent=fresh)
    if (
        payment.status == Payment.Status.REQUIRES_ACTION
        and before != Payment.Status.REQUIRES_ACTION
        and payment.kind in Payment.FEE_KINDS
    ):
        from payments import notifications

        notifications.send_pay_link(payment)


def on_charge_refunded(obj) -> None:
    intent_id = obj.get("payment_intent")
    if isinstance(intent_id, dict):
        intent_id = intent_id.get("id")
    payment = Payment.objects.select_for_update().filter(payment_intent_id=intent_id).first() if intent_id else None
    if payment is None:
        return
    for stripe_refund in gateway.list_refunds(payment=payment)["data"]:
        refund = Refund.objects.select_for_update().filter(stripe_refund_id=stripe_refund["id"]).first()
        if refund is None:
            refund_id = (stripe_refund.get("metadata") or {}).get("cinrella_refund_id")
            if refund_id and str(refund_id).isdigit():
                refund = Refund.objects.select_for_update().filter(pk=int(refund_id), payment=payment).first()
        if refund is None:
            # Made outside Cinrella (Stripe dashboard): record it so our books match Stripe's.
            refund = Refund(
                payment=payment,
                amount_cents=stripe_refund["amount"],
                reason="Refunded in the Stripe dashboard",
                idempotency_key=f"stripe:{stripe_refund['id']}",
            )
        services.apply_refund_object(refund=refund, stripe_refund=stripe_refund)


def _patient_for_customer(customer_id):
    if isinstance(customer_id, dict):
        customer_id = customer_id.get("id")
    link = StripeCustomer.objects.select_related("patient").filter(customer_id=customer_id).first()
    return link.patient if link else None


def on_setup_intent_succeeded(obj) -> None:
    patient = _patient_for_customer(obj.get("customer"))
    if patient is None:
        return
    services.finish_card_setup(patient=patient, setup_intent_id=obj["id"])


def on_payment_method_attached(obj) -> None:
    patient = _patient_for_customer(obj.get("customer"))
    if patient is None:
        return
    # Re-read: a later detach may already have happened.
    services.save_card_from_stripe(patient=patient, payment_method_id=obj["id"])


HANDLERS = {
    "payment_intent.succeeded": on_payment_intent,
    "payment_intent.payment_failed": on_payment_intent,
    "payment_intent.requires_action": on_payment_intent,
    "payment_intent.processing": on_payment_intent,
    "payment_intent.canceled": on_payment_intent,
    "charge.refunded": on_charge_refunded,
    "charge.refund.updated": lambda obj: on_charge_refunded({"payment_intent": obj.get("payment_intent")}),
    "setup_intent.succeeded": on_setup_intent_succeeded,
    "payment_method.attached": on_payment_method_attached,
}


def process_event(event) -> bool:
    """Apply an event once. Returns False when it was already processed (a duplicate)."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                ProcessedStripeEvent.objects.create(event_id=event["id"], type=event["type"][:100])
        except IntegrityError:
            return False
        handler = HANDLERS.get(event["type"])
        if handler is not None:
            handler(event["data"]["object"])
        return True
