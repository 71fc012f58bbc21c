"""Every call to Stripe, in one place. Each function first asks the privacy gate
(`privacy.gate.disclose`, DESIGN.md §4) with exactly the categories it sends, and only then talks
to Stripe: identity/contact (name, email) when a Customer is created, payment data (ids, amounts)
otherwise. Health and SMS-consent data never appear here, and the gate would refuse them.

Nothing free-text from the clinic is sent: descriptions and refund reasons stay in our database
(they could mention a treatment). Metadata carries only our own row ids."""

from collections.abc import Callable
from typing import Any

import stripe
from django.conf import settings

from privacy.gate import disclose
from privacy.policy import Category, Purpose

RECIPIENT = "stripe"
PAYMENT_ONLY = frozenset({Category.PAYMENT})


class StripeNotConfigured(RuntimeError):
    """STRIPE_SECRET_KEY is blank: payments are switched off on this installation."""


def is_configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def client() -> stripe.StripeClient:
    if not is_configured():
        raise StripeNotConfigured("Stripe is not configured (STRIPE_SECRET_KEY).")
    base = {"api": settings.STRIPE_API_BASE} if settings.STRIPE_API_BASE else None
    # The library retries network failures with the same Idempotency-Key, so a retry is safe.
    return stripe.StripeClient(settings.STRIPE_SECRET_KEY, base_addresses=base, max_network_retries=2)


def send(*, patient, categories, description: str, user=None, call: Callable[[stripe.StripeClient], Any]):
    """Ask the gate, then make the call. PolicyViolation propagates and nothing is sent."""
    disclose(
        recipient=RECIPIENT,
        categories=categories,
        purpose=Purpose.PAYMENT,
        patient=patient,
        description=description,
        user=user,
    )
    return _plain(call(client()))


def _plain(obj):
    """Stripe objects as plain dicts (our code reads them with [] and .get)."""
    return obj.to_dict() if hasattr(obj, "to_dict") else obj


def error_body(exc: stripe.StripeError) -> dict:
    """The `error` object of a Stripe error response, as a plain dict."""
    return _plain(exc.error) if exc.error is not None else {}


def _opts(idempotency_key: str | None) -> dict:
    return {"idempotency_key": idempotency_key} if idempotency_key else {}


# --- customers and cards -------------------------------------------------------------------------


def create_customer(*, patient, user=None, idempotency_key: str | None = None):
    """A Customer with the patient's name and email (what Stripe needs for receipts), nothing else."""
    params = {"name": patient.full_name, "metadata": {"cinrella_patient_id": str(patient.pk)}}
    categories = {Category.IDENTITY, Category.PAYMENT}
    if patient.email:
        params["email"] = patient.email
        categories.add(Category.CONTACT)
    return send(
        patient=patient,
        categories=categories,
        description="Create Stripe customer (name, email)",
        user=user,
        call=lambda c: c.v1.customers.create(params=params, options=_opts(idempotency_key)),
    )


def create_setup_intent(*, patient, customer_id: str, user=None):
    return send(
        patient=patient,
        categories=PAYMENT_ONLY,
        description="SetupIntent to save a card",
        user=user,
        call=lambda c: c.v1.setup_intents.create(
            params={
                "customer": customer_id,
                "usage": "off_session",
                "metadata": {"cinrella_patient_id": str(patient.pk)},
            }
        ),
    )


def retrieve_setup_intent(*, patient, setup_intent_id: str, user=None):
    return send(
        patient=patient,
        categories=PAYMENT_ONLY,
        description="Read SetupIntent",
        user=user,
        call=lambda c: c.v1.setup_intents.retrieve(setup_intent_id),
    )


def retrieve_payment_method(*, patient, payment_method_id: str, user=None):
    return send(
        patient=patient,
        categories=PAYMENT_ONLY,
        description="Read saved card (brand, last4, expiry)",
        user=user,
        call=lambda c: c.v1.payment_methods.retrieve(payment_method_id),
    )


# --- payment intents -----------------------------------------------------------------------------


def _metadata(payment) -> dict:
    return {
        "cinrella_payment_id": str(payment.pk),
        "cinrella_kind": payment.kind,
        "cinrella_appointment_id": str(payment.appointment_id or ""),
    }


def create_on_session_intent(*, payment, customer_id: str | None, save_card: bool, user=None):
    """A PaymentIntent the patient (or the desk) confirms in the Payment Element.

    `save_card` asks Stripe to keep the card for later off-session charges (deposits). Without a
    customer (a buyer who is not a patient) the intent carries only the amount and our row id."""
    params = {
        "amount": payment.amount_cents,
        "currency": payment.currency,
        "payment_method_types": ["card"],
        "metadata": _metadata(payment),
    }
    if customer_id:
        params["customer"] = customer_id
    if save_card:
        params["setup_future_usage"] = "off_session"
    return send(
        patient=payment.patient,
        categories=PAYMENT_ONLY,
        description=f"PaymentIntent for {payment.get_kind_display().lower()}",
        user=user,
        # Its own key: a fee whose off-session attempt failed may get an on-session intent later.
        call=lambda c: c.v1.payment_intents.create(
            params=params, options=_opts(f"{payment.stripe_idempotency_key}:on_session")
        ),
    )


def charge_off_session(*, payment, customer_id: str, payment_method_id: str, user=None):
    """Charge a saved card without the patient present. Raises stripe.CardError on a decline or
    when the bank wants authentication (code `authentication_required`)."""
    params = {
        "amount": payment.amount_cents,
        "currency": payment.currency,
        "customer": customer_id,
        "payment_method": payment_method_id,
        # Cards only: with dashboard-enabled methods Stripe would demand a return_url here.
        "payment_method_types": ["card"],
        "off_session": True,
        "confirm": True,
        "metadata": _metadata(payment),
    }
    return send(
        patient=payment.patient,
        categories=PAYMENT_ONLY,
        description=f"Off-session charge: {payment.get_kind_display().lower()}",
        user=user,
        call=lambda c: c.v1.payment_intents.create(params=params, options=_opts(payment.stripe_idempotency_key)),
    )


def retrieve_payment_intent(*, payment, user=None):
    return send(
        patient=payment.patient,
        categories=PAYMENT_ONLY,
        description="Read PaymentIntent status",
        user=user,
        call=lambda c: c.v1.payment_intents.retrieve(payment.payment_intent_id),
    )


def cancel_payment_intent(*, payment, user=None):
    return send(
        patient=payment.patient,
        categories=PAYMENT_ONLY,
        description="Cancel an unpaid PaymentIntent",
        user=user,
        call=lambda c: c.v1.payment_intents.cancel(payment.payment_intent_id),
    )


# --- refunds -------------------------------------------------------------------------------------


def create_refund(*, refund, user=None):
    payment = refund.payment
    params = {
        "payment_intent": payment.payment_intent_id,
        "amount": refund.amount_cents,
        "metadata": {"cinrella_refund_id": str(refund.pk), "cinrella_payment_id": str(payment.pk)},
    }
    return send(
        patient=payment.patient,
        categories=PAYMENT_ONLY,
        description="Refund",
        user=user,
        call=lambda c: c.v1.refunds.create(params=params, options=_opts(refund.stripe_idempotency_key)),
    )


def list_refunds(*, payment, user=None):
    return send(
        patient=payment.patient,
        categories=PAYMENT_ONLY,
        description="Read refunds of a payment",
        user=user,
        call=lambda c: {
            "data": [
                _plain(r)
                for r in c.v1.refunds.list(
                    params={"payment_intent": payment.payment_intent_id, "limit": 100}
                ).auto_paging_iter()
            ]
        },
    )


# --- webhooks (local verification; nothing is sent) ------------------------------------------------


def construct_event(payload: bytes, signature_header: str):
    """Verify the Stripe-Signature header on the raw body (HMAC-SHA256, 5-minute tolerance).

    Raises ValueError (bad JSON) or stripe.SignatureVerificationError (forged or stale)."""
    if not settings.STRIPE_WEBHOOK_SECRET:
        raise stripe.SignatureVerificationError("Webhook secret not configured", signature_header)
    event = stripe.Webhook.construct_event(payload, signature_header, settings.STRIPE_WEBHOOK_SECRET)
    return _plain(event)
