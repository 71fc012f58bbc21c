"""Issue 22, "a full visit": book, check in, complete with 24 units + a retail product + a tip + the
10% member discount, pay part cash and part card (Stripe's Payment Element, on the local Stripe
API), receipt by email (a real SMTP server) and as a PDF, stock down by one, and the takings and
dashboard figures equal to the hand computation below.

By hand (San Diego, 7.75% on retail only):
    neuromodulator 24 units × $14.00          = $336.00
    serum                                     =  $48.00
    member discount 10%:  −$33.60, −$4.80      →  $302.40 + $43.20 = $345.60
    tax 7.75% × $43.20 = $3.348               →   $3.35
    tip for the provider                      =  $60.00
    total                                     = $408.95  = cash $100.00 + card $308.95
"""

import datetime as dt
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from appointments import services as scheduling
from checkout import receipts, services
from checkout.models import ReceiptDelivery, Sale
from checkout.selectors import day_sheet
from inventory.selectors import on_hand
from inventory.services import receive_stock
from payments.models import Payment
from privacy.models import Disclosure
from tests.appointments.factories import clinic
from tests.checkout.factories import (
    CheckoutSettingsFactory,
    MembershipFactory,
    ProductFactory,
    ServicePricingFactory,
)
from tests.consents.test_pages import pdf_text
from tests.factories import PatientFactory
from tests.payments.helpers import confirm_like_stripe_js

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_full_visit_from_booking_to_receipt(stripe_ready, stripe_client, smtp, desk, staff_client):
    pricing = ServicePricingFactory(service__name="Neuromodulator", service__category="Injectables")
    location, provider = clinic(services=[pricing.service])
    CheckoutSettingsFactory(location=location, sales_tax_percent=Decimal("7.75"))
    serum = ProductFactory(name="Vitamin C serum", price_cents=4800)
    receive_stock(product=serum, location=location, quantity=5, user=desk)
    patient = PatientFactory(first_name="Maya", email="maya@example.com")
    MembershipFactory(patient=patient, location=location, plan__discount_percent=Decimal(10))

    # Book, check in, complete.
    tomorrow_10am = dt.datetime.combine(
        timezone.localdate(timezone=ZoneInfo(location.time_zone)) + dt.timedelta(days=1),
        dt.time(10),
        tzinfo=ZoneInfo(location.time_zone),
    )
    visit = scheduling.book_appointment(
        patient=patient, service=pricing.service, location=location, provider=provider, starts_at=tomorrow_10am
    )
    scheduling.check_in_appointment(appointment=visit)
    scheduling.complete_appointment(appointment=visit)

    # Checkout: 24 units, the serum, the provider's tip; the receipt to be emailed when paid.
    sale = services.open_sale_for_appointment(appointment=visit, user=desk)
    services.change_quantity(line=sale.lines.get(), quantity=24, user=desk)
    services.add_product_line(sale=sale, product=serum, user=desk)
    services.set_tips(sale=sale, tips={provider: 6000}, user=desk)
    services.request_receipt_email(sale=sale, user=desk)
    sale.refresh_from_db()
    assert (sale.subtotal_cents, sale.member_discount_cents, sale.tax_cents, sale.tip_cents) == (38400, 3840, 335, 6000)
    assert sale.total_cents == 40895

    # Split tender: $100 cash, the rest on a card typed into the Payment Element.
    services.take_cash(sale=sale, amount_cents=10000, received_cents=10000, nonce="cash0001", user=desk)
    tender, secret = services.start_card(sale=sale, amount_cents=30895, nonce="card0001", user=desk)
    assert secret and tender.payment.amount_cents == 30895
    confirm_like_stripe_js(stripe_client, tender.payment.payment_intent_id)
    tender = services.refresh_card(tender=tender, user=desk)
    assert tender.status == "succeeded"

    sale.refresh_from_db()
    assert sale.status == Sale.Status.PAID
    assert on_hand(serum, location) == 4  # stock down by one

    # Stripe got the amount and our ids only: no treatment name in the PaymentIntent.
    intent = stripe_client.v1.payment_intents.retrieve(tender.payment.payment_intent_id)
    assert intent.amount == 30895
    assert "Neuromodulator" not in str(intent)
    assert Disclosure.objects.filter(recipient__key="stripe", patient=patient).exists()

    # The receipt email reached the SMTP server: amounts, no service name (docs/checkout.md).
    delivery = ReceiptDelivery.objects.get(sale=sale)
    assert delivery.status == ReceiptDelivery.Status.SENT
    [received] = smtp.messages
    assert received["to"] == ["maya@example.com"]
    message = received["message"]
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "$408.95" in body and "Treatment" in body and "$3.35" in body
    assert "Neuromodulator" not in body and "Vitamin C serum" not in body
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    emailed_pdf = pdf_text(attachment.get_content())
    assert "408.95" in emailed_pdf and "Neuromodulator" not in emailed_pdf
    assert Disclosure.objects.filter(recipient__key="email", patient=patient, categories__contains=["payment"]).exists()

    # The printed receipt is itemised (handed to the patient).
    printed = pdf_text(receipts.render_receipt(sale, receipts.PRINT).pdf)
    for text in ("Neuromodulator", "24 units x $14.00", "Vitamin C serum", "Total", "408.95", "100.00", "308.95"):
        assert text in printed

    # Takings of the day: cash and card at the desk, the tip for the provider, the tax.
    day = sale.business_date
    [sheet] = day_sheet(day, [location])
    assert (sheet.cash_cents, sheet.card_cents, sheet.tax_cents, sheet.sales) == (10000, 30895, 335, 1)
    assert sheet.tips == [(provider.display_name, 6000)]
    assert Payment.objects.get(tender__sale=sale).kind == "sale"
    billing = staff_client("billing")
    page = billing.get(f"/staff/payments/takings/?date={day:%Y-%m-%d}").content.decode()
    assert re.search(r"Cash</dt><dd>\$100\.00", page)
    assert re.search(r"Card \(entered\)</dt><dd>\$308\.95", page)
