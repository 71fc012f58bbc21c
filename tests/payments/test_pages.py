"""Staff and portal payment pages: who sees what (DESIGN.md §3), the deposit step, CSP, takings."""

import datetime as dt
import re

import pytest
import time_machine
from django.utils import timezone

from appointments.models import Appointment
from messaging.models import OutboundMessage
from payments import links, services
from payments.models import CancellationPolicyAgreement, Payment, Refund
from tests.factories import AppointmentFactory, LocationFactory, PatientFactory
from tests.payments import helpers

pytestmark = pytest.mark.django_db


def panel_url(appointment):
    return f"/staff/payments/appointment/{appointment.pk}/"


@pytest.fixture
def paid_appointment(stripe_client):
    appointment = AppointmentFactory(**helpers.DEPOSIT_AND_FEES)
    payment, _ = services.start_deposit(appointment=appointment)
    helpers.confirm_like_stripe_js(stripe_client, payment.payment_intent_id)
    services.refresh_from_stripe(payment=payment)
    return appointment


def test_billing_sees_payments_with_amounts_cards_and_refunds(staff_client, paid_appointment):
    page = staff_client("billing").get(panel_url(paid_appointment))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Deposit" in html and "Paid" in html
    assert "$50.00" in html and "•••• 4242" in html
    assert f'action="/staff/payments/appointment/{paid_appointment.pk}/refund/"' in html
    assert "Charge no-show fee" in html


def test_front_desk_sees_status_only_and_can_take_the_balance(staff_client, paid_appointment):
    client = staff_client("front_desk")
    page = client.get(panel_url(paid_appointment))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Deposit" in html and "Paid" in html
    assert "4242" not in html and "pi_" not in html and "$50.00" not in html
    assert "/refund/" not in html and "Charge no-show fee" not in html
    assert "Card on file 1" in html  # a saved card to choose, without its details

    nonce = re.search(r'name="nonce" value="([0-9a-f]+)"', html).group(1)
    card_id = paid_appointment.patient.saved_payment_methods.get().pk
    form = {"amount": "150.00", "method": "saved", "card": card_id, "nonce": nonce}
    client.post(panel_url(paid_appointment) + "balance/", form)
    client.post(panel_url(paid_appointment) + "balance/", form)  # double submit of the same form
    balance = Payment.objects.get(appointment=paid_appointment, kind=Payment.Kind.BALANCE)
    assert balance.status == Payment.Status.SUCCEEDED and balance.amount_cents == 15000
    assert "Nothing" not in client.get(panel_url(paid_appointment)).content.decode()


def test_front_desk_cannot_refund_or_charge_fees(staff_client, paid_appointment):
    client = staff_client("front_desk")
    payment = paid_appointment.payments.get()
    refund = client.post(panel_url(paid_appointment) + "refund/", {"payment": payment.pk, "amount": "5", "reason": "x"})
    fee = client.post(panel_url(paid_appointment) + "fee/", {"kind": "no_show_fee"})
    assert refund.status_code == 404 and fee.status_code == 404
    assert not Refund.objects.exists()


def test_provider_sees_no_payments(staff_client, paid_appointment):
    client = staff_client("provider")
    assert client.get(panel_url(paid_appointment)).status_code == 404
    assert client.get(f"/staff/payments/patient/{paid_appointment.patient_id}/").status_code == 404
    assert client.get("/staff/payments/takings/").status_code == 404
    assert client.post(panel_url(paid_appointment) + "fee/", {"kind": "no_show_fee"}).status_code == 404
    assert "Takings" not in client.get("/staff/").content.decode()


def test_manager_reads_but_does_not_move_money(staff_client, paid_appointment):
    client = staff_client("manager")
    html = client.get(panel_url(paid_appointment)).content.decode()
    assert "$50.00" in html and "/refund/" not in html and "Take payment" not in html
    payment = paid_appointment.payments.get()
    response = client.post(
        panel_url(paid_appointment) + "refund/", {"payment": payment.pk, "amount": "5", "reason": "x"}
    )
    assert response.status_code == 404
    assert "Takings" in client.get("/staff/").content.decode()


def test_unknown_appointment_is_404(staff_client):
    assert staff_client("billing").get("/staff/payments/appointment/999999/").status_code == 404


def test_refund_form_bad_input_shows_a_message_not_an_error(staff_client, paid_appointment):
    client = staff_client("billing")
    payment = paid_appointment.payments.get()
    response = client.post(
        panel_url(paid_appointment) + "refund/", {"payment": payment.pk, "amount": "abc", "reason": ""}
    )
    assert response.status_code == 400
    assert "Enter an amount like 45.00." in response.content.decode()
    too_much = client.post(
        panel_url(paid_appointment) + "refund/", {"payment": payment.pk, "amount": "60", "reason": "x"}, follow=True
    )
    assert "more than what is left to refund" in too_much.content.decode()
    ok = client.post(
        panel_url(paid_appointment) + "refund/",
        {"payment": payment.pk, "amount": "12.50", "reason": "Goodwill"},
        follow=True,
    )
    assert "Refund sent." in ok.content.decode()
    assert Refund.objects.get().amount_cents == 1250


def test_no_show_fee_button_clicked_twice_charges_once(staff_client, stripe_client):
    appointment = AppointmentFactory(status=Appointment.Status.NO_SHOW, **helpers.DEPOSIT_AND_FEES)
    helpers.saved_card(stripe_client, appointment.patient)
    client = staff_client("billing")
    for _ in range(2):
        client.post(panel_url(appointment) + "fee/", {"kind": "no_show_fee"})
    assert Payment.objects.filter(appointment=appointment).count() == 1
    intents = helpers.payment_intents_of(stripe_client, appointment.patient.stripe_customer.customer_id)
    assert len(intents) == 1


# --- portal deposit step ----------------------------------------------------------------------


def csp_directives(response):
    return dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";") if part.strip())


def test_deposit_step_records_the_policy_agreement_then_shows_the_payment_element(client, stripe_client):
    appointment = AppointmentFactory(**helpers.DEPOSIT_AND_FEES)
    url = links.deposit_path(appointment)

    page = client.get(url)
    html = page.content.decode()
    assert "24 hours" in html and "$50.00" in html
    assert re.search(r'<input type="checkbox" name="agree"[^>]*>', html)
    assert "checked" not in re.search(r'<input type="checkbox" name="agree"[^>]*>', html).group(0)

    refused = client.post(url, {})
    assert refused.status_code == 400
    assert "agree to the cancellation policy" in refused.content.decode()
    assert not CancellationPolicyAgreement.objects.exists()

    paying = client.post(url, {"agree": "on"}, HTTP_USER_AGENT="Mozilla/5.0 test")
    html = paying.content.decode()
    agreement = CancellationPolicyAgreement.objects.get()
    assert agreement.patient == appointment.patient and agreement.version == "2026-11-01"
    assert "24 hours" in agreement.text and agreement.ip_address == "127.0.0.1"
    assert agreement.user_agent == "Mozilla/5.0 test"
    payment = Payment.objects.get(appointment=appointment)
    assert f'data-client-secret="{payment.payment_intent_id}_secret_' in html
    assert 'data-publishable-key="pk_test_cinrella_local"' in html
    assert "<script>" not in html  # JS lives in static/js/payments.js
    assert "js/payments.js" in html

    directives = csp_directives(paying)
    assert directives["script-src"] == "'self' https://js.stripe.com"
    assert "https://js.stripe.com" in directives["frame-src"]
    assert directives["connect-src"] == "'self' https://api.stripe.com"
    assert "unsafe-inline" not in paying["Content-Security-Policy"]
    # Everywhere else the CSP stays strict.
    assert "stripe" not in client.get("/book/")["Content-Security-Policy"]

    # The patient pays in the Element; Stripe redirects back and we re-read the intent.
    helpers.confirm_like_stripe_js(stripe_client, payment.payment_intent_id)
    done = client.get(url + "done/?payment_intent=pi_forged")
    assert "Your payment of $50.00 is complete." in done.content.decode()
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert appointment.patient.saved_payment_methods.filter(last4="4242").exists()
    # Opening the link again shows it is paid instead of asking again.
    assert "is complete" in client.get(url).content.decode()


def test_deposit_link_forged_or_expired_is_404(client):
    appointment = AppointmentFactory(**helpers.DEPOSIT_AND_FEES)
    url = links.deposit_path(appointment)
    assert client.get(url[:-3] + "xx/").status_code == 404
    assert client.get(f"/book/pay/{links.make_token('deposit', appointment.pk)}/").status_code == 404  # wrong purpose
    with time_machine.travel(timezone.now() + dt.timedelta(hours=73)):
        assert client.get(url).status_code == 404


def test_card_on_file_without_deposit(client, stripe_client):
    patient = PatientFactory()
    LocationFactory()
    url = links.card_path(patient)
    response = client.post(url, {"agree": "on"})
    html = response.content.decode()
    secret = re.search(r'data-client-secret="([^"]+)"', html).group(1)
    setup_id = secret.split("_secret_")[0]
    card = helpers.new_card(stripe_client, "5555555555554444")
    stripe_client.v1.setup_intents.confirm(setup_id, params={"payment_method": card.id})
    stripe_client.v1.payment_methods.attach(card.id, params={"customer": patient.stripe_customer.customer_id})

    done = client.get(url + f"done/?setup_intent={setup_id}")
    assert "•••• 4444" in done.content.decode()
    assert CancellationPolicyAgreement.objects.filter(patient=patient).count() == 1


def test_payments_are_switched_off_cleanly_without_keys(client, settings):
    settings.STRIPE_SECRET_KEY = ""
    appointment = AppointmentFactory(**helpers.DEPOSIT_AND_FEES)
    response = client.post(links.deposit_path(appointment), {"agree": "on"})
    assert response.status_code == 503
    assert "please call the clinic" in response.content.decode()
    assert not CancellationPolicyAgreement.objects.exists()


# --- patient page and takings -----------------------------------------------------------------


def make_paid(appointment, kind, cents, at):
    return Payment.objects.create(
        appointment=appointment,
        patient=appointment.patient,
        kind=kind,
        amount_cents=cents,
        status=Payment.Status.SUCCEEDED,
        succeeded_at=at,
        idempotency_key=f"test:{appointment.pk}:{kind}:{at.timestamp()}",
    )


def test_patient_payments_page(staff_client, django_assert_max_num_queries):
    appointment = AppointmentFactory(**helpers.DEPOSIT_AND_FEES)
    for i in range(5):
        make_paid(appointment, Payment.Kind.BALANCE, 1000 + i, timezone.now())
    client = staff_client("billing")
    with django_assert_max_num_queries(15):
        page = client.get(f"/staff/payments/patient/{appointment.patient_id}/")
    assert page.status_code == 200
    assert page.content.decode().count("Balance") >= 5 and "$10.04" in page.content.decode()


def test_takings_count_the_day_in_the_location_time_zone(staff_client, django_assert_max_num_queries):
    appointment = AppointmentFactory(**helpers.DEPOSIT_AND_FEES)  # America/Los_Angeles (UTC-8 in November)
    utc = dt.UTC
    make_paid(appointment, Payment.Kind.DEPOSIT, 5000, dt.datetime(2026, 11, 20, 7, 30, tzinfo=utc))  # 19th 23:30
    make_paid(appointment, Payment.Kind.BALANCE, 15000, dt.datetime(2026, 11, 20, 8, 30, tzinfo=utc))  # 20th 00:30
    later = make_paid(appointment, Payment.Kind.NO_SHOW_FEE, 7500, dt.datetime(2026, 11, 21, 7, 59, tzinfo=utc))
    Refund.objects.create(
        payment=later,
        amount_cents=2500,
        reason="x",
        status=Refund.Status.SUCCEEDED,
        succeeded_at=dt.datetime(2026, 11, 21, 3, 0, tzinfo=utc),
        idempotency_key="test-refund",
    )
    for i in range(10):
        make_paid(
            AppointmentFactory(location=appointment.location),
            Payment.Kind.BALANCE,
            100,
            dt.datetime(2026, 11, 20, 20, i, tzinfo=utc),
        )

    client = staff_client("billing")
    with django_assert_max_num_queries(15):
        page = client.get("/staff/payments/takings/?date=2026-11-20")
    html = page.content.decode()
    # 20th local: $150 balance + $75 fee (23:59 local) + 10 × $1; minus the $25 refund.
    assert "Taken <strong>$235.00</strong>" in html
    assert "refunded <strong>$25.00</strong>" in html
    assert 'net <strong class="net">$210.00</strong>' in html
    assert "Deposit" not in html.split("<table>")[1]  # the 19th's deposit is on the 19th

    assert client.get("/staff/payments/takings/?date=nonsense").status_code == 200


def test_payments_panel_query_count_does_not_grow_with_payments(staff_client, django_assert_max_num_queries):
    appointment = AppointmentFactory(**helpers.DEPOSIT_AND_FEES)
    for i in range(8):
        payment = make_paid(appointment, Payment.Kind.BALANCE, 1000, timezone.now() + dt.timedelta(seconds=i))
        Refund.objects.create(
            payment=payment, amount_cents=100, reason="x", status=Refund.Status.SUCCEEDED, idempotency_key=f"r{i}"
        )
    client = staff_client("billing")
    with django_assert_max_num_queries(18):
        page = client.get(panel_url(appointment))
    assert page.content.decode().count("$1.00 · Refunded") == 8


def test_front_desk_takes_the_balance_with_a_new_card_in_the_payment_element(staff_client, stripe_client):
    appointment = AppointmentFactory(**helpers.DEPOSIT_AND_FEES)
    client = staff_client("front_desk")
    response = client.post(
        panel_url(appointment) + "balance/", {"amount": "200", "method": "new", "card": "", "nonce": "abc123"}
    )
    payment = Payment.objects.get(appointment=appointment, kind=Payment.Kind.BALANCE)
    assert response.status_code == 302 and response["Location"] == f"/staff/payments/payment/{payment.pk}/collect/"

    page = client.get(response["Location"])
    assert f'data-client-secret="{payment.payment_intent_id}_secret_' in page.content.decode()
    assert "https://js.stripe.com" in csp_directives(page)["script-src"]

    helpers.confirm_like_stripe_js(stripe_client, payment.payment_intent_id)
    done = client.get(f"/staff/payments/payment/{payment.pk}/collect/done/", follow=True)
    assert "Balance paid." in done.content.decode()
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert not appointment.patient.saved_payment_methods.exists()  # a desk payment does not save the card


def test_balance_more_than_due_is_refused_with_a_message(staff_client):
    appointment = AppointmentFactory(**helpers.DEPOSIT_AND_FEES)
    response = staff_client("billing").post(
        panel_url(appointment) + "balance/", {"amount": "250", "method": "new", "nonce": "n1"}, follow=True
    )
    assert "more than the balance due" in response.content.decode()
    assert not Payment.objects.exists()


def test_billing_sends_a_pay_link_for_a_declined_fee(staff_client, stripe_client):
    appointment = AppointmentFactory(status=Appointment.Status.NO_SHOW, **helpers.DEPOSIT_AND_FEES)
    helpers.saved_card(stripe_client, appointment.patient, number=helpers.DECLINED_ON_CHARGE)
    client = staff_client("billing")
    declined = client.post(panel_url(appointment) + "fee/", {"kind": "no_show_fee"}, follow=True)
    assert "The card was declined." in declined.content.decode()
    fee = Payment.objects.get(appointment=appointment)

    page = client.post(f"/staff/payments/payment/{fee.pk}/pay-link/", follow=True)
    html = page.content.decode()
    assert "Pay link prepared for the patient." in html
    assert fee.pay_link_requests.count() == 1
    # Handed to the messaging outbox (the patient has a mobile), so nothing is left waiting.
    assert fee.pay_link_requests.get().handed_off_at is not None
    assert "Pay link waiting to be sent" not in html
    assert OutboundMessage.objects.filter(kind="pay_link", patient=fee.patient).count() == 1
