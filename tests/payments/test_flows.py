"""Payment flows against localstripe over HTTP with the real stripe library."""

import datetime as dt

import pytest
from django.db import transaction

from appointments.models import Appointment
from appointments.signals import appointment_cancelled
from messaging.models import OutboundMessage
from payments import services
from payments.models import PayLinkRequest, Payment, Refund, SavedPaymentMethod, StripeCustomer
from privacy.models import Disclosure
from tests.factories import AppointmentFactory, UserFactory
from tests.payments import helpers

pytestmark = pytest.mark.django_db


@pytest.fixture
def billing_user():
    return UserFactory(role="billing")


def paid_deposit(stripe_client, appointment) -> Payment:
    payment, secret = services.start_deposit(appointment=appointment)
    assert secret and secret.startswith(payment.payment_intent_id)
    helpers.confirm_like_stripe_js(stripe_client, payment.payment_intent_id)
    return services.refresh_from_stripe(payment=payment)


def test_deposit_saves_the_card_for_later_off_session_charges(stripe_client, billing_user):
    appointment = AppointmentFactory(**helpers.DEPOSIT_AND_FEES)
    payment = paid_deposit(stripe_client, appointment)

    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.amount_cents == 5000 and payment.succeeded_at is not None
    card = SavedPaymentMethod.objects.get(patient=appointment.patient)
    assert (card.brand, card.last4, card.exp_month, card.exp_year) == ("visa", "4242", 12, 2031)
    assert payment.payment_method == card
    intent = stripe_client.v1.payment_intents.retrieve(payment.payment_intent_id)
    assert intent.setup_future_usage == "off_session"
    assert intent.customer == StripeCustomer.objects.get(patient=appointment.patient).customer_id

    # The patient does not come: the saved card pays the no-show fee off-session.
    Appointment.objects.filter(pk=appointment.pk).update(status=Appointment.Status.NO_SHOW)
    appointment.refresh_from_db()
    fee = services.charge_fee(appointment=appointment, kind=Payment.Kind.NO_SHOW_FEE, user=billing_user)
    assert fee.status == Payment.Status.SUCCEEDED
    assert fee.amount_cents == 7500 - 5000  # the deposit counts towards the fee
    assert stripe_client.v1.payment_intents.retrieve(fee.payment_intent_id).amount == 2500


def test_a_second_deposit_page_load_reuses_the_same_payment_intent(stripe_client):
    appointment = AppointmentFactory(**helpers.DEPOSIT_AND_FEES)
    first, _ = services.start_deposit(appointment=appointment)
    second, _ = services.start_deposit(appointment=appointment)
    assert first.pk == second.pk and first.payment_intent_id == second.payment_intent_id
    assert Payment.objects.filter(appointment=appointment).count() == 1


def test_double_click_on_no_show_fee_charges_once(stripe_client, billing_user):
    appointment = AppointmentFactory(status=Appointment.Status.NO_SHOW, **helpers.DEPOSIT_AND_FEES)
    helpers.saved_card(stripe_client, appointment.patient)

    first = services.charge_fee(appointment=appointment, kind=Payment.Kind.NO_SHOW_FEE, user=billing_user)
    second = services.charge_fee(appointment=appointment, kind=Payment.Kind.NO_SHOW_FEE, user=billing_user)

    assert first.pk == second.pk
    assert Payment.objects.filter(appointment=appointment, kind=Payment.Kind.NO_SHOW_FEE).count() == 1
    customer_id = appointment.patient.stripe_customer.customer_id
    intents = helpers.payment_intents_of(stripe_client, customer_id)
    assert [pi.amount for pi in intents] == [7500]
    assert intents[0].status == "succeeded"


def test_a_retry_after_an_unknown_outcome_gets_stripes_first_answer(stripe_client, billing_user):
    """The row stays pending when Stripe's answer was lost; the retry sends the same
    Idempotency-Key, so Stripe replays the first charge instead of making a second one."""
    appointment = AppointmentFactory(status=Appointment.Status.NO_SHOW, **helpers.DEPOSIT_AND_FEES)
    card = helpers.saved_card(stripe_client, appointment.patient)
    payment = Payment.objects.create(
        appointment=appointment,
        patient=appointment.patient,
        kind=Payment.Kind.NO_SHOW_FEE,
        amount_cents=7500,
        idempotency_key=f"fee:{appointment.pk}:no_show_fee",
        payment_method=card,
    )
    customer_id = appointment.patient.stripe_customer.customer_id
    # The first attempt reached Stripe, but its answer never made it back to us.
    lost = stripe_client.v1.payment_intents.create(
        params={
            "amount": 7500,
            "currency": "usd",
            "customer": customer_id,
            "payment_method": card.payment_method_id,
            "off_session": True,
            "confirm": True,
        },
        options={"idempotency_key": payment.stripe_idempotency_key},
    )

    retried = services.charge_fee(appointment=appointment, kind=Payment.Kind.NO_SHOW_FEE, user=billing_user)

    assert retried.payment_intent_id == lost.id
    assert retried.status == Payment.Status.SUCCEEDED
    assert len(helpers.payment_intents_of(stripe_client, customer_id)) == 1


def test_declined_card_marks_the_fee_declined(stripe_client, billing_user):
    appointment = AppointmentFactory(status=Appointment.Status.NO_SHOW, **helpers.DEPOSIT_AND_FEES)
    helpers.saved_card(stripe_client, appointment.patient, number=helpers.DECLINED_ON_CHARGE)

    fee = services.charge_fee(appointment=appointment, kind=Payment.Kind.NO_SHOW_FEE, user=billing_user)

    assert fee.status == Payment.Status.FAILED
    assert fee.failure_reason == "card_declined"
    assert fee.payment_intent_id
    assert stripe_client.v1.payment_intents.retrieve(fee.payment_intent_id).status == "requires_payment_method"


def test_authentication_required_off_session_prepares_a_pay_link(stripe_client, billing_user, client):
    appointment = AppointmentFactory(status=Appointment.Status.NO_SHOW, **helpers.DEPOSIT_AND_FEES)
    helpers.saved_card(stripe_client, appointment.patient, number=helpers.NEEDS_AUTHENTICATION)

    fee = services.charge_fee(appointment=appointment, kind=Payment.Kind.NO_SHOW_FEE, user=billing_user)

    assert fee.status == Payment.Status.REQUIRES_ACTION
    assert fee.failure_reason == "authentication_required"
    link = PayLinkRequest.objects.get(payment=fee)
    assert "$75.00" in link.body and "/book/pay/" in link.body
    assert appointment.service.name not in link.body  # no treatment names in texts
    # The text goes out through the messaging outbox (transactional), once.
    texted = OutboundMessage.objects.get(kind="pay_link", patient=appointment.patient)
    assert "/book/pay/" in texted.body and appointment.service.name not in texted.body
    assert link.handed_off_at is not None
    # The link opens the Payment Element for the same PaymentIntent.
    path = link.body[link.body.index("/book/pay/") :]
    page = client.get(path)
    assert page.status_code == 200
    assert f'data-client-secret="{fee.payment_intent_id}_secret_' in page.content.decode()
    assert "https://js.stripe.com" in page["Content-Security-Policy"]
    # Paying on that page settles it.
    helpers.confirm_like_stripe_js(stripe_client, fee.payment_intent_id)
    done = client.get(path + "done/")
    assert "is complete" in done.content.decode()
    fee.refresh_from_db()
    assert fee.status == Payment.Status.SUCCEEDED


def test_partial_refund_with_reason(stripe_client, billing_user):
    appointment = AppointmentFactory(**helpers.DEPOSIT_AND_FEES)
    payment = paid_deposit(stripe_client, appointment)

    refund = services.refund_payment(payment=payment, amount_cents=2000, reason="Goodwill", user=billing_user)

    assert refund.status == Refund.Status.SUCCEEDED
    assert refund.created_by == billing_user and refund.reason == "Goodwill"
    remote = stripe_client.v1.refunds.retrieve(refund.stripe_refund_id)
    assert remote.amount == 2000
    assert "Goodwill" not in str(remote)  # the clinic's reason stays with the clinic
    with pytest.raises(services.PaymentError):
        services.refund_payment(payment=payment, amount_cents=3001, reason="Too much", user=billing_user)
    services.refund_payment(payment=payment, amount_cents=3000, reason="Rest", user=billing_user)
    assert sum(r.amount_cents for r in payment.refunds.all()) == 5000


def test_timely_cancellation_refunds_the_deposit(stripe_client, django_capture_on_commit_callbacks):
    appointment = AppointmentFactory(**helpers.DEPOSIT_AND_FEES)
    payment = paid_deposit(stripe_client, appointment)

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        Appointment.objects.filter(pk=appointment.pk).update(status=Appointment.Status.CANCELLED)
        appointment_cancelled.send(sender=Appointment, appointment=appointment, late=False, by="patient")

    refund = Refund.objects.get(payment=payment)
    assert refund.automatic and refund.amount_cents == 5000
    assert refund.status == Refund.Status.SUCCEEDED
    assert stripe_client.v1.refunds.retrieve(refund.stripe_refund_id).amount == 5000


def test_a_failing_refund_send_does_not_block_the_cancellation(stripe_client, settings):
    appointment = AppointmentFactory(**helpers.DEPOSIT_AND_FEES)
    payment = paid_deposit(stripe_client, appointment)
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # Stripe unreachable

    with transaction.atomic():
        appointment_cancelled.send(sender=Appointment, appointment=appointment, late=False, by="staff")
    refund = Refund.objects.get(payment=payment)
    assert refund.status == Refund.Status.PENDING  # reserved, sent by the sweep later


def test_late_cancellation_keeps_the_deposit_as_the_fee(stripe_client, billing_user):
    appointment = AppointmentFactory(**helpers.DEPOSIT_AND_FEES)
    payment = paid_deposit(stripe_client, appointment)

    with transaction.atomic():
        Appointment.objects.filter(pk=appointment.pk).update(status=Appointment.Status.CANCELLED)
        appointment_cancelled.send(sender=Appointment, appointment=appointment, late=True, by="patient")

    payment.refresh_from_db()
    assert payment.kept_as_late_fee
    assert not Refund.objects.exists()
    appointment.refresh_from_db()
    # The late fee ($50) is covered by the kept deposit ($50): nothing more to charge.
    with pytest.raises(services.PaymentError, match="no fee"):
        services.charge_fee(appointment=appointment, kind=Payment.Kind.LATE_CANCEL_FEE, user=billing_user)


def test_every_stripe_call_is_recorded_as_a_disclosure_without_health_data(stripe_client):
    appointment = AppointmentFactory(**helpers.DEPOSIT_AND_FEES)
    paid_deposit(stripe_client, appointment)

    rows = Disclosure.objects.filter(patient=appointment.patient, recipient__key="stripe")
    assert rows.count() >= 3  # customer, payment intent, re-reads
    for row in rows:
        assert set(row.categories) <= {"identity", "contact", "payment"}
        assert row.purpose == "payment"
    customer = stripe_client.v1.customers.retrieve(appointment.patient.stripe_customer.customer_id)
    assert customer.name == appointment.patient.full_name
    assert customer.phone is None and customer.address is None  # only name and email are sent


def test_late_cancellation_fee_only_for_a_late_cancellation(stripe_client, billing_user):
    timely = AppointmentFactory(status=Appointment.Status.CANCELLED, **helpers.DEPOSIT_AND_FEES)
    Appointment.objects.filter(pk=timely.pk).update(cancelled_at=timely.starts_at - dt.timedelta(hours=48))
    timely.refresh_from_db()
    helpers.saved_card(stripe_client, timely.patient)
    with pytest.raises(services.PaymentError, match="free cancellation window"):
        services.charge_fee(appointment=timely, kind=Payment.Kind.LATE_CANCEL_FEE, user=billing_user)

    late = AppointmentFactory(status=Appointment.Status.CANCELLED, patient=timely.patient, **helpers.DEPOSIT_AND_FEES)
    Appointment.objects.filter(pk=late.pk).update(cancelled_at=late.starts_at - dt.timedelta(hours=2))
    late.refresh_from_db()
    fee = services.charge_fee(appointment=late, kind=Payment.Kind.LATE_CANCEL_FEE, user=billing_user)
    assert fee.status == Payment.Status.SUCCEEDED and fee.amount_cents == 5000
    assert not Payment.objects.filter(appointment=timely).exists()


def test_cancelling_cancels_an_unpaid_deposit_at_stripe(stripe_client, django_capture_on_commit_callbacks):
    appointment = AppointmentFactory(**helpers.DEPOSIT_AND_FEES)
    payment, _secret = services.start_deposit(appointment=appointment)

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        Appointment.objects.filter(pk=appointment.pk).update(status=Appointment.Status.CANCELLED)
        appointment_cancelled.send(sender=Appointment, appointment=appointment, late=False, by="patient")

    payment.refresh_from_db()
    assert payment.status == Payment.Status.CANCELED
    assert stripe_client.v1.payment_intents.retrieve(payment.payment_intent_id).status == "canceled"
    assert not Refund.objects.exists()


def test_a_deposit_paid_while_cancelling_is_refunded(stripe_client, django_capture_on_commit_callbacks):
    appointment = AppointmentFactory(**helpers.DEPOSIT_AND_FEES)
    payment, _secret = services.start_deposit(appointment=appointment)
    # The patient pays in a tab left open; our row has not heard about it yet.
    helpers.confirm_like_stripe_js(stripe_client, payment.payment_intent_id)

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        Appointment.objects.filter(pk=appointment.pk).update(status=Appointment.Status.CANCELLED)
        appointment_cancelled.send(sender=Appointment, appointment=appointment, late=True, by="patient")
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    refund = Refund.objects.get(payment=payment)
    assert refund.automatic and refund.amount_cents == 5000
    assert refund.status == Refund.Status.SUCCEEDED
