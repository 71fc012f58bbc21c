"""The checkout pages as the desk uses them: open a visit's sale in one tap, add a product by SKU,
discount with a reason, tip, take cash, print the receipt; access per role; bad input answers with a
message, never a 500; fixed query counts on the day's sales."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from checkout import services
from checkout.models import Sale
from inventory.services import receive_stock
from tests.checkout.factories import CheckoutSettingsFactory, ProductFactory, ServicePricingFactory
from tests.consents.test_pages import pdf_text
from tests.factories import AppointmentFactory, LocationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def visit():
    location = LocationFactory()
    CheckoutSettingsFactory(location=location, sales_tax_percent=Decimal("7.75"))
    pricing = ServicePricingFactory()
    return AppointmentFactory(location=location, service=pricing.service, status="checked_in")


def _post(client, sale, action, **data):
    return client.post(f"/staff/checkout/sale/{sale.pk}/do/{action}/", data, follow=True)


def test_desk_checks_a_visit_out_with_cash_in_a_few_posts(staff_client, visit):
    product = ProductFactory(sku="SPF-50", name="Daily SPF 50", price_cents=4000)
    receive_stock(product=product, location=visit.location, quantity=3, user=None)
    desk = staff_client("front_desk")
    response = desk.post(f"/staff/checkout/appointment/{visit.pk}/", follow=True)
    sale = Sale.objects.get(appointment=visit)
    assert response.redirect_chain[-1][0] == f"/staff/checkout/sale/{sale.pk}/"
    page = response.content.decode()
    assert visit.service.name in page and "20" in page and "$280.00" in page

    page = _post(desk, sale, "add-product", code="spf-50", quantity=1).content.decode()
    assert "Added Daily SPF 50" in page
    page = _post(desk, sale, "discount", kind="percent", value="5", reason="Service recovery").content.decode()
    assert "Discount of $16.00 applied" in page
    page = _post(desk, sale, "tip-percent", provider=visit.provider.pk, percent=20).content.decode()
    sale.refresh_from_db()
    assert sale.tip_cents == 5320  # 20% of the service's $266.00
    due = services.due_cents(sale)
    page = _post(desk, sale, "cash", amount=f"{due / 100:.2f}", received="400", nonce="page-cash-1").content.decode()
    sale.refresh_from_db()
    assert sale.status == Sale.Status.PAID
    assert "Change due" in page and "Paid" in page
    assert "Print receipt" in page

    pdf = desk.get(f"/staff/checkout/sale/{sale.pk}/receipt.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert "Daily SPF 50" in text and visit.service.name in text


def test_bad_input_gets_a_message_not_an_error(staff_client, visit):
    desk = staff_client("front_desk")
    desk.post(f"/staff/checkout/appointment/{visit.pk}/")
    sale = Sale.objects.get(appointment=visit)
    for action, data, expected in [
        ("add-product", {"code": "NOPE", "quantity": 1}, "No product has that SKU"),
        ("quantity", {"line": sale.lines.get().pk, "quantity": "lots"}, "Enter a quantity"),
        ("discount", {"kind": "percent", "value": "250", "reason": "x"}, "at most 100"),
        ("discount", {"kind": "percent", "value": "50", "reason": "Because"}, "discount limit"),
        ("cash", {"amount": "1,000,000.001", "nonce": "bad-cash-1"}, "two decimals"),
        ("cash", {"amount": "99999", "nonce": "bad-cash-2"}, "more than the"),
        ("gift-card", {"code": "WRONG-CODE", "nonce": "bad-gift-1"}, "No active gift card"),
        ("tips", {f"tip_{visit.provider.pk}": "-3"}, "positive"),
    ]:
        response = _post(desk, sale, action, **data)
        assert response.status_code == 200, action
        assert expected in response.content.decode(), action
    assert _post(desk, sale, "no-such-action").status_code == 404


@pytest.mark.parametrize(
    ("role", "sees", "pays", "refunds"),
    [
        ("front_desk", True, True, False),
        ("billing", True, True, True),
        ("manager", True, False, False),
        ("provider", False, False, False),
    ],
)
def test_who_may_do_what_at_checkout(staff_client, visit, role, sees, pays, refunds):
    sale = services.open_sale_for_appointment(appointment=visit, user=UserFactory(role="front_desk"))
    client = staff_client(role)
    page = client.get(f"/staff/checkout/sale/{sale.pk}/")
    assert page.status_code == (200 if sees else 404)
    cash = _post(client, sale, "cash", amount="1.00", nonce=f"role-{role}-1")
    assert cash.status_code == (200 if pays else 404)
    if pays:
        services.take_cash(
            sale=sale, amount_cents=services.due_cents(sale), received_cents=None, nonce="rest-1", user=client.user
        )
    else:
        services.take_cash(
            sale=sale,
            amount_cents=services.due_cents(sale),
            received_cents=None,
            nonce="rest-2",
            user=UserFactory(role="front_desk"),
        )
    page = client.get(f"/staff/checkout/sale/{sale.pk}/")
    assert ("Give money back" in page.content.decode()) == refunds if sees else page.status_code == 404
    refund = client.post(f"/staff/checkout/sale/{sale.pk}/void/", {"reason": "test"})
    assert refund.status_code == (302 if refunds else 404)


def test_sales_list_runs_a_fixed_number_of_queries(staff_client, visit):
    desk = staff_client("front_desk")
    user = desk.user

    def make_sale():
        sale = services.open_walk_in_sale(location=visit.location, user=user)
        services.add_product_line(sale=sale, product=ProductFactory(), user=user)
        sale.refresh_from_db()
        services.take_cash(
            sale=sale, amount_cents=services.due_cents(sale), received_cents=None, nonce=f"q{sale.pk}xxxx", user=user
        )

    make_sale()
    url = f"/staff/checkout/?location={visit.location.pk}"
    with CaptureQueriesContext(connection) as one:
        assert desk.get(url).status_code == 200
    for _ in range(5):
        make_sale()
    with CaptureQueriesContext(connection) as six:
        page = desk.get(url).content.decode()
    assert len(six) == len(one)
    assert len(re.findall(r"S-\d{6}", page)) == 6


def test_the_day_list_has_a_check_out_button_for_the_desk(staff_client, visit):
    from django.utils import timezone

    visit.starts_at = timezone.now()
    visit.ends_at = visit.starts_at + timezone.timedelta(minutes=30)
    visit.save()
    page = staff_client("front_desk").get(f"/staff/?location={visit.location.pk}").content.decode()
    assert f"/staff/checkout/appointment/{visit.pk}/" in page
    page = staff_client("provider").get(f"/staff/?location={visit.location.pk}").content.decode()
    assert f"/staff/checkout/appointment/{visit.pk}/" not in page
