"""Test-side stand-ins for what Stripe.js and Stripe's dashboard do, over HTTP to localstripe, and the
clinic terms the payment tests assume."""

import json
import time

import stripe

from payments import services
from payments.models import SavedPaymentMethod

VISA = "4242424242424242"
DECLINED_ON_CHARGE = "4000000000000341"  # attaches fine, every charge is declined
NEEDS_AUTHENTICATION = "4000002500003155"  # 3-D Secure required

# The clinic terms these tests assert on: a $200 visit with a $50 deposit, a $50 late-cancellation
# fee and a $75 no-show fee. AppointmentFactory(**DEPOSIT_AND_FEES).
DEPOSIT_AND_FEES = {
    "service__price_cents": 20000,
    "service__deposit_cents": 5000,
    "location__late_cancellation_fee_cents": 5000,
    "location__no_show_fee_cents": 7500,
}


def new_card(stripe_client, number=VISA):
    return stripe_client.v1.payment_methods.create(
        params={"type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2031, "cvc": "123"}}
    )


def confirm_like_stripe_js(stripe_client, payment_intent_id, number=VISA):
    """What the Payment Element does when the patient presses Pay: card to Stripe, confirm."""
    card = new_card(stripe_client, number)
    stripe_client.v1.payment_intents.update(payment_intent_id, params={"payment_method": card.id})
    return stripe_client.v1.payment_intents.confirm(payment_intent_id)


def saved_card(stripe_client, patient, number=VISA) -> SavedPaymentMethod:
    """A card on file: attached to the patient's Stripe customer, recorded by brand/last4/expiry."""
    customer = services.ensure_customer(patient=patient)
    card = new_card(stripe_client, number)
    stripe_client.v1.payment_methods.attach(card.id, params={"customer": customer.customer_id})
    return services.save_card_from_stripe(patient=patient, payment_method_id=card.id)


def payment_intents_of(stripe_client, customer_id):
    return [pi for pi in stripe_client.v1.payment_intents.list().auto_paging_iter() if pi.customer == customer_id]


def signed_event(event: dict, secret: str, timestamp: int | None = None) -> tuple[bytes, str]:
    """Sign an event body the way Stripe does (v1 = HMAC-SHA256 of "t.payload"), using the
    library's own signing helper."""
    payload = json.dumps(event)
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = stripe.WebhookSignature._compute_signature(f"{timestamp}.{payload}", secret)
    return payload.encode(), f"t={timestamp},v1={signature}"


def event(event_id: str, event_type: str, obj: dict) -> dict:
    return {
        "id": event_id,
        "object": "event",
        "type": event_type,
        "api_version": "2025-01-27.acacia",
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": obj},
    }
