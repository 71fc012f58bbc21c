"""/webhooks/stripe/: signature on the raw body, each event once, right final state in any order."""

import time
import urllib.parse
import urllib.request

import pytest
from django.db import connection

from payments import services
from payments.models import Payment, ProcessedStripeEvent, Refund, SavedPaymentMethod
from privacy.models import Disclosure
from tests.factories import AppointmentFactory, PatientFactory
from tests.payments import helpers
from tests.payments.conftest import WEBHOOK_SECRET

URL = "/webhooks/stripe/"


def post_event(client, body: bytes, header: str):
    return client.post(URL, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)


def deposit_intent(appointment):
    payment, _secret = services.start_deposit(appointment=appointment)
    return payment


def state_of_database():
    return (
        list(Payment.objects.values_list("pk", "status", "payment_intent_id").order_by("pk")),
        ProcessedStripeEvent.objects.count(),
        Refund.objects.count(),
    )


@pytest.mark.django_db
def test_forged_signature_is_refused_and_changes_nothing(client, stripe_client):
    payment = deposit_intent(AppointmentFactory(**helpers.DEPOSIT_AND_FEES))
    helpers.confirm_like_stripe_js(stripe_client, payment.payment_intent_id)
    before = state_of_database()
    obj = {"id": payment.payment_intent_id, "object": "payment_intent", "status": "succeeded"}

    body, header = helpers.signed_event(helpers.event("evt_forged", "payment_intent.succeeded", obj), "whsec_wrong")
    assert post_event(client, body, header).status_code == 400

    # A correctly signed body that was altered afterwards fails too (the raw bytes are signed).
    body, header = helpers.signed_event(helpers.event("evt_altered", "payment_intent.succeeded", obj), WEBHOOK_SECRET)
    assert post_event(client, body.replace(b"evt_altered", b"evt_alterex"), header).status_code == 400
    assert post_event(client, body, "").status_code == 400
    assert post_event(client, b"not json", header).status_code == 400

    assert state_of_database() == before
    payment.refresh_from_db()
    assert payment.status != Payment.Status.SUCCEEDED


@pytest.mark.django_db
def test_stale_timestamp_is_refused(client):
    obj = {"id": "pi_unknown", "object": "payment_intent", "status": "succeeded"}
    ten_minutes_ago = int(time.time()) - 600
    body, header = helpers.signed_event(
        helpers.event("evt_stale", "payment_intent.succeeded", obj), WEBHOOK_SECRET, ten_minutes_ago
    )
    assert post_event(client, body, header).status_code == 400
    assert not ProcessedStripeEvent.objects.exists()


@pytest.mark.django_db
def test_duplicate_event_is_applied_once(client, stripe_client):
    payment = deposit_intent(AppointmentFactory(**helpers.DEPOSIT_AND_FEES))
    helpers.confirm_like_stripe_js(stripe_client, payment.payment_intent_id)
    intent = stripe_client.v1.payment_intents.retrieve(payment.payment_intent_id).to_dict()
    body, header = helpers.signed_event(helpers.event("evt_dup_1", "payment_intent.succeeded", intent), WEBHOOK_SECRET)

    assert post_event(client, body, header).status_code == 200
    disclosures_after_first = Disclosure.objects.count()
    assert post_event(client, body, header).status_code == 200
    assert post_event(client, body, header).status_code == 200

    assert Payment.objects.filter(payment_intent_id=payment.payment_intent_id).count() == 1
    assert ProcessedStripeEvent.objects.filter(event_id="evt_dup_1").count() == 1
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    # The duplicates did not even re-read Stripe.
    assert Disclosure.objects.count() == disclosures_after_first
    assert SavedPaymentMethod.objects.filter(patient=payment.patient).count() == 1


@pytest.mark.django_db
def test_out_of_order_events_leave_the_final_state(client, stripe_client):
    """A stale 'requires_action' arriving after 'succeeded' must not undo the payment: the handler
    re-reads the PaymentIntent from Stripe instead of trusting the event's snapshot."""
    payment = deposit_intent(AppointmentFactory(**helpers.DEPOSIT_AND_FEES))
    stale_snapshot = stripe_client.v1.payment_intents.retrieve(payment.payment_intent_id).to_dict()
    stale_snapshot["status"] = "requires_action"
    helpers.confirm_like_stripe_js(stripe_client, payment.payment_intent_id)
    fresh = stripe_client.v1.payment_intents.retrieve(payment.payment_intent_id).to_dict()

    for event_id, event_type, obj in [
        ("evt_ooo_2", "payment_intent.succeeded", fresh),
        ("evt_ooo_1", "payment_intent.requires_action", stale_snapshot),
    ]:
        body, header = helpers.signed_event(helpers.event(event_id, event_type, obj), WEBHOOK_SECRET)
        assert post_event(client, body, header).status_code == 200

    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED


@pytest.mark.django_db
def test_stale_failure_event_after_success_keeps_the_payment_paid(stripe_client):
    payment = deposit_intent(AppointmentFactory(**helpers.DEPOSIT_AND_FEES))
    helpers.confirm_like_stripe_js(stripe_client, payment.payment_intent_id)
    services.refresh_from_stripe(payment=payment)
    failed_snapshot = {
        "id": payment.payment_intent_id,
        "status": "requires_payment_method",
        "last_payment_error": {"code": "card_declined"},
    }
    payment.refresh_from_db()
    services.apply_intent(payment=payment, intent=failed_snapshot)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED


@pytest.mark.django_db
def test_charge_refunded_records_refunds_made_in_the_dashboard(client, stripe_client):
    payment = deposit_intent(AppointmentFactory(**helpers.DEPOSIT_AND_FEES))
    helpers.confirm_like_stripe_js(stripe_client, payment.payment_intent_id)
    services.refresh_from_stripe(payment=payment)
    # Someone refunds $10 in Stripe's dashboard; Stripe sends charge.refunded.
    stripe_client.v1.refunds.create(params={"payment_intent": payment.payment_intent_id, "amount": 1000})
    charge = {"id": "ch_x", "object": "charge", "payment_intent": payment.payment_intent_id, "refunded": False}

    for event_id in ("evt_refund_1", "evt_refund_1", "evt_refund_2"):
        body, header = helpers.signed_event(helpers.event(event_id, "charge.refunded", charge), WEBHOOK_SECRET)
        assert post_event(client, body, header).status_code == 200

    refund = Refund.objects.get(payment=payment)
    assert refund.amount_cents == 1000 and refund.status == Refund.Status.SUCCEEDED
    assert refund.created_by is None and "dashboard" in refund.reason


@pytest.mark.django_db
def test_charge_refunded_confirms_our_own_refund_without_duplicating_it(client, stripe_client):
    payment = deposit_intent(AppointmentFactory(**helpers.DEPOSIT_AND_FEES))
    helpers.confirm_like_stripe_js(stripe_client, payment.payment_intent_id)
    payment = services.refresh_from_stripe(payment=payment)
    ours = services.refund_payment(payment=payment, amount_cents=5000, reason="Cancelled by clinic", user=None)
    charge = {"id": "ch_x", "object": "charge", "payment_intent": payment.payment_intent_id}
    body, header = helpers.signed_event(helpers.event("evt_refund_own", "charge.refunded", charge), WEBHOOK_SECRET)

    assert post_event(client, body, header).status_code == 200
    assert list(Refund.objects.filter(payment=payment)) == [ours]


@pytest.mark.django_db
def test_setup_intent_and_payment_method_events_save_the_card(client, stripe_client):
    patient = PatientFactory()
    customer = services.ensure_customer(patient=patient)
    setup = stripe_client.v1.setup_intents.create(params={"customer": customer.customer_id})
    card = helpers.new_card(stripe_client, "5555555555554444")
    stripe_client.v1.setup_intents.confirm(setup.id, params={"payment_method": card.id})
    stripe_client.v1.payment_methods.attach(card.id, params={"customer": customer.customer_id})

    setup_obj = stripe_client.v1.setup_intents.retrieve(setup.id).to_dict()
    body, header = helpers.signed_event(helpers.event("evt_seti", "setup_intent.succeeded", setup_obj), WEBHOOK_SECRET)
    assert post_event(client, body, header).status_code == 200
    pm_obj = stripe_client.v1.payment_methods.retrieve(card.id).to_dict()
    body, header = helpers.signed_event(helpers.event("evt_pm", "payment_method.attached", pm_obj), WEBHOOK_SECRET)
    assert post_event(client, body, header).status_code == 200

    saved = SavedPaymentMethod.objects.get(patient=patient)
    assert saved.payment_method_id == card.id and saved.last4 == "4444"


@pytest.mark.django_db
def test_events_for_objects_that_are_not_ours_are_acknowledged(client):
    obj = {"id": "pi_someone_else", "object": "payment_intent", "status": "succeeded", "metadata": {}}
    body, header = helpers.signed_event(helpers.event("evt_other", "payment_intent.succeeded", obj), WEBHOOK_SECRET)
    assert post_event(client, body, header).status_code == 200
    assert not Payment.objects.exists()


@pytest.mark.django_db
def test_webhook_unreachable_stripe_rolls_back_so_the_retry_applies_it(client, stripe_client, settings):
    payment = deposit_intent(AppointmentFactory(**helpers.DEPOSIT_AND_FEES))
    helpers.confirm_like_stripe_js(stripe_client, payment.payment_intent_id)
    intent = stripe_client.v1.payment_intents.retrieve(payment.payment_intent_id).to_dict()
    body, header = helpers.signed_event(helpers.event("evt_retry", "payment_intent.succeeded", intent), WEBHOOK_SECRET)
    real_base = settings.STRIPE_API_BASE

    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    assert post_event(client, body, header).status_code == 503
    assert not ProcessedStripeEvent.objects.filter(event_id="evt_retry").exists()

    settings.STRIPE_API_BASE = real_base  # Stripe retries the same event later
    assert post_event(client, body, header).status_code == 200
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED


def _register_localstripe_webhook(localstripe_url, url):
    data = urllib.parse.urlencode({"url": url, "secret": WEBHOOK_SECRET}).encode()
    config_url = f"{localstripe_url}/_config/webhooks/cinrella"
    request = urllib.request.Request(config_url, data=data, method="POST")  # noqa: S310 — loopback test server
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 — our own loopback server
        assert response.status == 200


def _wait_for(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.django_db(transaction=True)
def test_localstripe_delivers_signed_webhooks_that_we_verify_and_apply(live_server, localstripe_url, stripe_client):
    """Deposit end to end: Stripe (localstripe) posts real signed events to our running server."""
    _register_localstripe_webhook(localstripe_url, f"{live_server.url}{URL}")
    try:
        payment = deposit_intent(AppointmentFactory(**helpers.DEPOSIT_AND_FEES))
        helpers.confirm_like_stripe_js(stripe_client, payment.payment_intent_id)

        def applied():
            connection.close()  # see the live server thread's commits
            return ProcessedStripeEvent.objects.filter(type="payment_intent.succeeded").exists()

        assert _wait_for(applied)
        assert _wait_for(lambda: ProcessedStripeEvent.objects.filter(type="payment_method.attached").exists())
        payment.refresh_from_db()
        assert payment.status == Payment.Status.SUCCEEDED
        assert SavedPaymentMethod.objects.filter(patient=payment.patient, last4="4242").count() == 1
    finally:
        # Point the hook nowhere so later tests' events are not posted to a stopped server.
        _register_localstripe_webhook(localstripe_url, "http://127.0.0.1:9/")
