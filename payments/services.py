"""Writes to payments. Keyword-only functions; each Stripe call goes through `stripe_gateway`
(and so through the privacy gate). Rows are written before Stripe is called, so a crash or a
retry finds the row and reuses its idempotency key instead of charging again.

Audit: Payment, Refund, SavedPaymentMethod and StripeCustomer are tracked by pghistory triggers
(every insert/update is a history row), and every call to Stripe leaves a Disclosure row."""

import datetime as dt
import logging

import stripe
from django.db import IntegrityError, transaction
from django.utils import timezone

from payments import cancellation_policy, notifications, signals
from payments import selectors as sel
from payments import stripe_gateway as gateway
from payments.models import (
    CancellationPolicyAgreement,
    Payment,
    Refund,
    SavedPaymentMethod,
    StripeCustomer,
)

log = logging.getLogger(__name__)


class PaymentError(Exception):
    """Something a person can act on; the message is safe to show (no PHI, no Stripe internals)."""


UNREACHABLE = "Stripe could not be reached; nothing was charged. Please try again."


# --- customers, cards, agreements -------------------------------------------------------------------


def ensure_customer(*, patient, user=None) -> StripeCustomer:
    existing = StripeCustomer.objects.filter(patient=patient).first()
    if existing:
        return existing
    customer = gateway.create_customer(
        patient=patient, user=user, idempotency_key=f"customer:{patient.pk}:{patient.created_at.timestamp()}"
    )
    try:
        with transaction.atomic():
            return StripeCustomer.objects.create(patient=patient, customer_id=customer["id"])
    except IntegrityError:
        # A parallel request created it (same idempotency key, so the same Stripe customer).
        return StripeCustomer.objects.get(patient=patient)


def record_policy_agreement(
    *, patient, location, appointment=None, deposit_cents=0, currency="usd", ip=None, user_agent=""
) -> CancellationPolicyAgreement:
    return CancellationPolicyAgreement.objects.create(
        patient=patient,
        appointment=appointment,
        text=cancellation_policy.text_for(location, deposit_cents, currency),
        version=cancellation_policy.VERSION,
        ip_address=ip,
        user_agent=(user_agent or "")[:300],
    )


def upsert_saved_card(*, patient, stripe_pm) -> SavedPaymentMethod | None:
    """Keep brand/last4/expiry of a card Stripe holds for this patient; nothing else of it."""
    card = stripe_pm.get("card")
    if not card:
        return None
    detached = stripe_pm.get("customer") is None
    saved, _ = SavedPaymentMethod.objects.update_or_create(
        payment_method_id=stripe_pm["id"],
        defaults={
            "patient": patient,
            "brand": card.get("brand") or "",
            "last4": card["last4"],
            "exp_month": int(card["exp_month"]),
            "exp_year": int(card["exp_year"]),
            "detached_at": timezone.now() if detached else None,
        },
    )
    return saved


def save_card_from_stripe(*, patient, payment_method_id: str, user=None) -> SavedPaymentMethod | None:
    pm = gateway.retrieve_payment_method(patient=patient, payment_method_id=payment_method_id, user=user)
    return upsert_saved_card(patient=patient, stripe_pm=pm)


# --- applying Stripe's state to our rows -----------------------------------------------------------

_STATUS_FROM_INTENT = {
    "succeeded": Payment.Status.SUCCEEDED,
    "processing": Payment.Status.PROCESSING,
    "requires_capture": Payment.Status.PROCESSING,
    "requires_action": Payment.Status.REQUIRES_ACTION,
    "requires_confirmation": Payment.Status.REQUIRES_PAYMENT_METHOD,
    "requires_payment_method": Payment.Status.REQUIRES_PAYMENT_METHOD,
    "canceled": Payment.Status.CANCELED,
}


def _error_code(error) -> str:
    if not error:
        return ""
    return str(error.get("decline_code") or error.get("code") or "declined")[:200]


def status_from_intent(intent) -> tuple[str, str]:
    status = _STATUS_FROM_INTENT.get(intent["status"], Payment.Status.PROCESSING)
    reason = _error_code(intent.get("last_payment_error"))
    if status == Payment.Status.REQUIRES_PAYMENT_METHOD and reason:
        # A failed attempt: authentication needed means the patient must act (pay link).
        status = Payment.Status.REQUIRES_ACTION if "authentication" in reason else Payment.Status.FAILED
    return status, reason


def apply_intent(*, payment: Payment, intent, user=None) -> Payment:
    """Bring our row to the PaymentIntent's current state. Never moves a paid row backwards, so
    events arriving late or twice can't undo a success. A change of status is announced
    (`payments.signals.payment_status_changed`) inside the transaction, for what was being paid for
    (a checkout sale, a gift card bought online)."""
    status, reason = status_from_intent(intent)
    if payment.payment_intent_id is None:
        payment.payment_intent_id = intent["id"]
    if payment.status == Payment.Status.SUCCEEDED and status != Payment.Status.SUCCEEDED:
        return payment
    changed = payment.status != status
    payment.status = status
    payment.failure_reason = reason if status != Payment.Status.SUCCEEDED else ""
    if status == Payment.Status.SUCCEEDED and payment.succeeded_at is None:
        payment.succeeded_at = timezone.now()
    payment.save()
    if changed:
        signals.payment_status_changed.send(sender=Payment, payment=payment)
    if status == Payment.Status.SUCCEEDED and intent.get("setup_future_usage") and intent.get("payment_method"):
        pm_id = (
            intent["payment_method"] if isinstance(intent["payment_method"], str) else intent["payment_method"]["id"]
        )
        saved = save_card_from_stripe(patient=payment.patient, payment_method_id=pm_id, user=user)
        if saved and payment.payment_method_id is None:
            payment.payment_method = saved
            payment.save(update_fields=["payment_method", "updated_at"])
    return payment


def refresh_from_stripe(*, payment: Payment, user=None) -> Payment:
    """Re-read the PaymentIntent (the source of truth) and apply it, under a row lock."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if not payment.payment_intent_id:
            return payment
        intent = gateway.retrieve_payment_intent(payment=payment, user=user)
        return apply_intent(payment=payment, intent=intent, user=user)


# --- on-session payments (Payment Element) ---------------------------------------------------------


def _get_or_create_payment(*, idempotency_key: str, **fields) -> Payment:
    try:
        with transaction.atomic():
            return Payment.objects.get_or_create(idempotency_key=idempotency_key, defaults=fields)[0]
    except IntegrityError:
        return Payment.objects.get(idempotency_key=idempotency_key)


def start_on_session_payment(*, payment: Payment, save_card: bool, user=None) -> tuple[Payment, str | None]:
    """Make sure the payment has a PaymentIntent; return it with the client secret for Stripe.js
    (None once it is paid). The secret is never stored."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update(of=("self",)).select_related("patient").get(pk=payment.pk)
        if payment.status in (Payment.Status.SUCCEEDED, Payment.Status.CANCELED):
            return payment, None
        try:
            if payment.payment_intent_id:
                intent = gateway.retrieve_payment_intent(payment=payment, user=user)
            else:
                # A buyer who is not a patient (walk-in retail, gift card online) pays without a
                # Stripe customer: nothing about them is kept at Stripe.
                customer = ensure_customer(patient=payment.patient, user=user) if payment.patient else None
                intent = gateway.create_on_session_intent(
                    payment=payment,
                    customer_id=customer.customer_id if customer else None,
                    save_card=save_card and customer is not None,
                    user=user,
                )
        except stripe.StripeError as exc:
            raise PaymentError("The payment page could not be prepared. Please try again shortly.") from exc
        payment = apply_intent(payment=payment, intent=intent, user=user)
        if payment.status == Payment.Status.SUCCEEDED:
            return payment, None
        return payment, intent["client_secret"]


def deposit_payment(*, appointment) -> Payment:
    service = appointment.service
    if not service.deposit_cents:
        raise PaymentError("This service does not take a deposit.")
    return _get_or_create_payment(
        idempotency_key=f"deposit:{appointment.pk}",
        appointment=appointment,
        patient=appointment.patient,
        kind=Payment.Kind.DEPOSIT,
        amount_cents=service.deposit_cents,
        currency=service.currency.lower(),
    )


def sale_payment(*, idempotency_key: str, patient, amount_cents: int, currency: str, kind: str, user=None) -> Payment:
    """The Payment row for money taken outside an appointment's own flows (a checkout tender, a gift
    card bought online), written before Stripe is called; the same key finds the same row."""
    if kind not in (Payment.Kind.SALE, Payment.Kind.GIFT_CARD):
        raise PaymentError("Unknown kind of payment.")
    if amount_cents <= 0:
        raise PaymentError("Enter an amount greater than zero.")
    return _get_or_create_payment(
        idempotency_key=idempotency_key,
        patient=patient,
        kind=kind,
        amount_cents=amount_cents,
        currency=currency,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )


def charge_saved_card(*, payment: Payment, card: SavedPaymentMethod, user) -> Payment:
    """Charge a sale's Payment on one of the patient's saved cards (once; see _charge_saved_card)."""
    if payment.patient_id is None or card.patient_id != payment.patient_id or card.detached_at:
        raise PaymentError("Choose one of the patient's saved cards.")
    return _charge_saved_card(payment=payment, card=card, user=user)


def start_deposit(*, appointment, user=None) -> tuple[Payment, str | None]:
    if appointment.status == appointment.Status.CANCELLED:
        raise PaymentError("This appointment was cancelled; no deposit is needed.")
    payment = deposit_payment(appointment=appointment)
    return start_on_session_payment(payment=payment, save_card=True, user=user)


def start_balance_with_new_card(*, appointment, amount_cents: int, nonce: str, user) -> tuple[Payment, str | None]:
    payment = _balance_payment(appointment=appointment, amount_cents=amount_cents, nonce=nonce, user=user)
    return start_on_session_payment(payment=payment, save_card=False, user=user)


def _balance_payment(*, appointment, amount_cents: int, nonce: str, user) -> Payment:
    if amount_cents <= 0:
        raise PaymentError("Enter an amount greater than zero.")
    if amount_cents > sel.balance_due_cents(appointment):
        raise PaymentError("That is more than the balance due.")
    return _get_or_create_payment(
        idempotency_key=f"balance:{appointment.pk}:{nonce}",
        appointment=appointment,
        patient=appointment.patient,
        kind=Payment.Kind.BALANCE,
        amount_cents=amount_cents,
        currency=appointment.service.currency.lower(),
        created_by=user,
    )


def start_card_setup(*, patient, user=None) -> str:
    """A SetupIntent to save a card without paying (card on file); returns its client secret."""
    customer = ensure_customer(patient=patient, user=user)
    try:
        intent = gateway.create_setup_intent(patient=patient, customer_id=customer.customer_id, user=user)
    except stripe.StripeError as exc:
        raise PaymentError("The card page could not be prepared. Please try again shortly.") from exc
    return intent["client_secret"]


def finish_card_setup(*, patient, setup_intent_id: str, user=None) -> SavedPaymentMethod | None:
    intent = gateway.retrieve_setup_intent(patient=patient, setup_intent_id=setup_intent_id, user=user)
    customer = StripeCustomer.objects.filter(patient=patient).first()
    if intent["status"] != "succeeded" or not customer or intent.get("customer") != customer.customer_id:
        return None
    pm = intent["payment_method"]
    return save_card_from_stripe(patient=patient, payment_method_id=pm if isinstance(pm, str) else pm["id"], user=user)


# --- off-session charges (saved card) ------------------------------------------------------------


def _charge_saved_card(*, payment: Payment, card: SavedPaymentMethod, user) -> Payment:
    """Charge once. The row lock makes a second click wait and then find the result."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update(of=("self",)).select_related("patient").get(pk=payment.pk)
        if payment.status != Payment.Status.PENDING:
            return payment  # already attempted: a double click or a retry charges nothing more
        customer = ensure_customer(patient=payment.patient, user=user)
        payment.payment_method = card
        try:
            intent = gateway.charge_off_session(
                payment=payment,
                customer_id=customer.customer_id,
                payment_method_id=card.payment_method_id,
                user=user,
            )
        except stripe.CardError as exc:
            return _record_card_error(payment=payment, exc=exc)
        except stripe.StripeError:
            # Unknown outcome (network): stay pending; a retry reuses the idempotency key, so
            # Stripe answers with the first attempt's result instead of charging again.
            payment.failure_reason = "stripe_unreachable"
            payment.save()
            return payment
        return apply_intent(payment=payment, intent=intent, user=user)


def _record_card_error(*, payment: Payment, exc: stripe.CardError) -> Payment:
    error = gateway.error_body(exc)
    intent = error.get("payment_intent") if error else None
    if intent and intent.get("id"):
        payment.payment_intent_id = intent["id"]
    code = (error.get("code") if error else None) or exc.code or "card_declined"
    if code == "authentication_required":
        payment.status = Payment.Status.REQUIRES_ACTION
        payment.failure_reason = code
        payment.save()
        notifications.send_pay_link(payment)
    else:
        payment.status = Payment.Status.FAILED
        payment.failure_reason = str((error.get("decline_code") if error else None) or code)[:200]
        payment.save()
    return payment


def charge_fee(*, appointment, kind: str, user) -> Payment:
    """The one-button no-show / late-cancellation fee, on the patient's saved card."""
    if kind not in Payment.FEE_KINDS:
        raise PaymentError("Unknown fee.")
    required_status = appointment.Status.NO_SHOW if kind == Payment.Kind.NO_SHOW_FEE else appointment.Status.CANCELLED
    key = f"fee:{appointment.pk}:{kind}"
    existing = Payment.objects.filter(idempotency_key=key).first()
    if existing is None:
        if appointment.status != required_status:
            raise PaymentError(f"Only a {required_status.label.lower()} appointment can be charged this fee.")
        if kind == Payment.Kind.LATE_CANCEL_FEE and cancelled_in_free_window(appointment):
            raise PaymentError("This appointment was cancelled within the free cancellation window.")
        amount = sel.fee_due_cents(appointment, kind)
        if amount <= 0:
            raise PaymentError("There is no fee to charge (the location has none, or the kept deposit covers it).")
        card = sel.usable_cards(appointment.patient).first()
        if card is None:
            raise PaymentError("The patient has no saved card.")
        existing = _get_or_create_payment(
            idempotency_key=key,
            appointment=appointment,
            patient=appointment.patient,
            kind=kind,
            amount_cents=amount,
            currency=appointment.service.currency.lower(),
            payment_method=card,
            created_by=user,
        )
    card = existing.payment_method or sel.usable_cards(appointment.patient).first()
    if card is None:
        raise PaymentError("The patient has no saved card.")
    return _charge_saved_card(payment=existing, card=card, user=user)


def cancelled_in_free_window(appointment) -> bool:
    if appointment.cancelled_at is None:
        return False
    free_until = appointment.starts_at - dt.timedelta(hours=appointment.location.free_cancellation_hours)
    return appointment.cancelled_at <= free_until


def take_balance_with_saved_card(*, appointment, amount_cents: int, card_id: int, nonce: str, user) -> Payment:
    card = sel.usable_cards(appointment.patient).filter(pk=card_id).first()
    if card is None:
        raise PaymentError("Choose one of the patient's saved cards.")
    payment = _balance_payment(appointment=appointment, amount_cents=amount_cents, nonce=nonce, user=user)
    return _charge_saved_card(payment=payment, card=card, user=user)


def resend_pay_link(*, payment: Payment) -> None:
    if payment.status not in (Payment.Status.REQUIRES_ACTION, Payment.Status.FAILED):
        raise PaymentError("A pay link is only for a payment that needs the patient.")
    notifications.send_pay_link(payment)


# --- refunds -------------------------------------------------------------------------------------


def request_refund(*, payment: Payment, amount_cents: int, reason: str, user=None, automatic=False) -> Refund:
    """Reserve a refund (row first, inside the caller's transaction); `submit_refund` sends it."""
    reason = (reason or "").strip()
    if not reason:
        raise PaymentError("Give a reason for the refund.")
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if payment.status != Payment.Status.SUCCEEDED:
            raise PaymentError("Only a paid payment can be refunded.")
        if amount_cents <= 0:
            raise PaymentError("Enter an amount greater than zero.")
        if amount_cents > sel.refundable_cents(payment):
            raise PaymentError("That is more than what is left to refund on this payment.")
        number = payment.refunds.count() + 1
        return Refund.objects.create(
            payment=payment,
            amount_cents=amount_cents,
            reason=reason[:300],
            idempotency_key=f"refund:{payment.pk}:{number}",
            automatic=automatic,
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )


_REFUND_STATUS = {
    "succeeded": Refund.Status.SUCCEEDED,
    "failed": Refund.Status.FAILED,
    "canceled": Refund.Status.CANCELED,
}


def apply_refund_object(*, refund: Refund, stripe_refund) -> Refund:
    refund.stripe_refund_id = refund.stripe_refund_id or stripe_refund["id"]
    status = _REFUND_STATUS.get(stripe_refund["status"], Refund.Status.PENDING)
    if refund.status == Refund.Status.SUCCEEDED and status != Refund.Status.SUCCEEDED:
        return refund  # a stale event never undoes a refund
    refund.status = status
    if status == Refund.Status.SUCCEEDED and refund.succeeded_at is None:
        refund.succeeded_at = timezone.now()
    if status == Refund.Status.FAILED:
        refund.failure_reason = str(stripe_refund.get("failure_reason") or "failed")[:200]
    changed = refund.pk is None or Refund.objects.filter(pk=refund.pk).exclude(status=status).exists()
    refund.save()
    if changed:
        signals.refund_status_changed.send(sender=Refund, refund=refund)
    return refund


def submit_refund(*, refund_id: int, user=None) -> Refund:
    with transaction.atomic():
        refund = Refund.objects.select_for_update(of=("self",)).select_related("payment__patient").get(pk=refund_id)
        if refund.status != Refund.Status.PENDING or refund.stripe_refund_id:
            return refund
        try:
            stripe_refund = gateway.create_refund(refund=refund, user=user)
        except stripe.InvalidRequestError as exc:
            refund.status = Refund.Status.FAILED
            refund.failure_reason = (exc.code or "refused by Stripe")[:200]
            refund.save()
            return refund
        except stripe.StripeError:
            refund.failure_reason = "stripe_unreachable"  # stays pending; the sweep retries it
            refund.save()
            return refund
        return apply_refund_object(refund=refund, stripe_refund=stripe_refund)


def refund_payment(*, payment: Payment, amount_cents: int, reason: str, user) -> Refund:
    refund = request_refund(payment=payment, amount_cents=amount_cents, reason=reason, user=user)
    return submit_refund(refund_id=refund.pk, user=user)


# --- cancellation rules ----------------------------------------------------------------------------

TIMELY_CANCEL_REASON = "Cancelled within the free cancellation window (automatic)"
PAID_AFTER_CANCEL = "Deposit paid while the appointment was being cancelled (automatic)"


def refund_deposits_on_timely_cancel(*, appointment) -> list[Refund]:
    """Reserve a full refund of each paid deposit; sent after the cancellation commits."""
    from payments.tasks import submit_refund_task

    refunds = []
    for deposit in appointment.payments.filter(kind=Payment.Kind.DEPOSIT, status=Payment.Status.SUCCEEDED):
        amount = sel.refundable_cents(deposit)
        if amount <= 0:
            continue
        refund = request_refund(payment=deposit, amount_cents=amount, reason=TIMELY_CANCEL_REASON, automatic=True)
        refunds.append(refund)
        transaction.on_commit(lambda pk=refund.pk: submit_refund_task.enqueue(pk))
    return refunds


def keep_deposits_as_late_fee(*, appointment) -> int:
    return appointment.payments.filter(kind=Payment.Kind.DEPOSIT, status=Payment.Status.SUCCEEDED).update(
        kept_as_late_fee=True, updated_at=timezone.now()
    )


def cancel_open_deposits(*, appointment) -> None:
    """An unpaid deposit of a cancelled appointment must not be paid later from an open tab:
    cancel its PaymentIntent at Stripe after the cancellation commits."""
    from payments.tasks import cancel_open_payment_task

    open_deposits = appointment.payments.filter(kind=Payment.Kind.DEPOSIT, status__in=Payment.OPEN_STATUSES)
    for payment_id in open_deposits.values_list("pk", flat=True):
        transaction.on_commit(lambda pk=payment_id: cancel_open_payment_task.enqueue(pk))


def cancel_open_payment(*, payment_id: int, user=None) -> Payment:
    with transaction.atomic():
        payment = Payment.objects.select_for_update(of=("self",)).select_related("patient").get(pk=payment_id)
        if not payment.is_open:
            return payment
        if not payment.payment_intent_id:
            payment.status = Payment.Status.CANCELED
            payment.save()
            return payment
        try:
            intent = gateway.cancel_payment_intent(payment=payment, user=user)
        except stripe.InvalidRequestError:
            # Already paid or already cancelled at Stripe: take Stripe's word for it.
            intent = gateway.retrieve_payment_intent(payment=payment, user=user)
        payment = apply_intent(payment=payment, intent=intent, user=user)
        if payment.status == Payment.Status.SUCCEEDED:
            # Paid in the moment the visit was being cancelled: the money goes back.
            from payments.tasks import submit_refund_task

            refund = request_refund(
                payment=payment, amount_cents=sel.refundable_cents(payment), reason=PAID_AFTER_CANCEL, automatic=True
            )
            transaction.on_commit(lambda: submit_refund_task.enqueue(refund.pk))
        return payment
