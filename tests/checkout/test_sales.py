"""Sales through the services: lines, member pricing, discounts within a role's limit, tax on retail
only, tips per provider, cash / gift card / package / membership-credit tenders, frozen paid
sales, refunds and voids as records of their own, and stock moving with them."""

from decimal import Decimal

import pytest
from django.db import InternalError, ProgrammingError, connection, transaction

from checkout import services
from checkout.models import Sale, SaleLine, SaleReturn, Tender
from inventory.models import StockMove
from inventory.selectors import on_hand
from inventory.services import receive_stock
from prepaid import services as prepaid
from prepaid.models import GiftCard
from tests.checkout.factories import (
    CheckoutSettingsFactory,
    MembershipCreditFactory,
    MembershipFactory,
    PackagePlanFactory,
    PatientPackageFactory,
    ProductFactory,
    ServicePricingFactory,
)
from tests.factories import AppointmentFactory, LocationFactory, ProviderFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def location():
    location = LocationFactory()
    CheckoutSettingsFactory(location=location, sales_tax_percent=Decimal("7.75"))
    return location


@pytest.fixture
def tox_visit(location):
    pricing = ServicePricingFactory()
    return AppointmentFactory(location=location, service=pricing.service, status="checked_in")


def _raw(sql, *params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _pay_cash(sale, user, amount=None):
    sale.refresh_from_db()
    return services.take_cash(
        sale=sale, amount_cents=amount or services.due_cents(sale), received_cents=None, nonce=f"n{amount}", user=user
    )


def test_checkout_of_a_visit_starts_with_its_service_by_the_unit_and_is_found_again(tox_visit, desk):
    sale = services.open_sale_for_appointment(appointment=tox_visit, user=desk)
    line = sale.lines.get()
    assert (line.kind, line.quantity, line.unit_label, line.unit_price_cents) == ("service", 20, "units", 1400)
    assert line.provider == tox_visit.provider
    assert services.open_sale_for_appointment(appointment=tox_visit, user=desk) == sale  # second click, same sale
    services.change_quantity(line=line, quantity=24, user=desk)
    sale.refresh_from_db()
    assert sale.total_cents == 33600


def test_member_discount_and_tax_on_retail_only(tox_visit, desk, location):
    membership = MembershipFactory(patient=tox_visit.patient, location=location)
    sale = services.open_sale_for_appointment(appointment=tox_visit, user=desk)
    services.change_quantity(line=sale.lines.get(), quantity=24, user=desk)
    services.add_product_line(sale=sale, product=ProductFactory(price_cents=4800), user=desk)
    sale.refresh_from_db()
    assert membership.plan.discount_percent == 10
    assert (sale.subtotal_cents, sale.member_discount_cents, sale.taxable_cents, sale.tax_cents) == (
        38400,
        3840,
        4320,
        335,
    )
    assert sale.total_cents == 30240 + 4320 + 335


def test_front_desk_discount_is_limited_and_needs_a_reason(tox_visit, desk, billing):
    sale = services.open_sale_for_appointment(appointment=tox_visit, user=desk)  # 20 × $14 = $280
    with pytest.raises(services.CheckoutError, match="reason"):
        services.add_discount(sale=sale, kind="percent", value=Decimal(5), reason=" ", user=desk)
    with pytest.raises(services.CheckoutError, match="limit"):
        services.add_discount(sale=sale, kind="amount", value=2900, reason="Service recovery", user=desk)
    assert not sale.discounts.exists()  # the refused discount was rolled back
    services.add_discount(sale=sale, kind="percent", value=Decimal(10), reason="Service recovery", user=desk)
    sale.refresh_from_db()
    assert sale.total_cents == 25200
    services.add_discount(sale=sale, kind="amount", value=5000, reason="Manager courtesy", user=billing)
    sale.refresh_from_db()
    assert sale.discount_cents == 2800 + 5000
    assert sale.total_cents == 28000 - 7800


def test_tips_per_provider_are_added_untaxed(tox_visit, desk):
    sale = services.open_sale_for_appointment(appointment=tox_visit, user=desk)
    other = ProviderFactory()
    services.set_tips(sale=sale, tips={tox_visit.provider: 4000, other: 1500}, user=desk)
    sale.refresh_from_db()
    assert sale.tip_cents == 5500
    assert sale.total_cents == 28000 + 5500
    services.set_tips(sale=sale, tips={other: 0}, user=desk)
    assert list(sale.tips.values_list("provider", "amount_cents")) == [(tox_visit.provider.pk, 4000)]


def test_cash_pays_the_sale_freezes_it_and_moves_stock(location, desk):
    product = ProductFactory(price_cents=2000)
    receive_stock(product=product, location=location, quantity=5, user=desk)
    sale = services.open_walk_in_sale(location=location, user=desk)
    services.add_product_line(sale=sale, product=product, quantity=2, user=desk)
    sale.refresh_from_db()
    assert sale.total_cents == 4310  # 40.00 + 3.10 tax
    tender = services.take_cash(sale=sale, amount_cents=4310, received_cents=5000, nonce="abc12345", user=desk)
    assert tender.change_cents == 690
    sale.refresh_from_db()
    assert sale.status == Sale.Status.PAID and sale.business_date is not None
    assert on_hand(product, location) == 3
    move = StockMove.objects.get(reason=StockMove.Reason.SALE)
    assert (move.quantity, move.source, move.source_id) == (-2, "sale_line", sale.lines.get().pk)
    # A repeated submit of the same form takes nothing more.
    assert services.take_cash(sale=sale, amount_cents=4310, received_cents=5000, nonce="abc12345", user=desk) == tender
    assert sale.tenders.count() == 1


def test_a_paid_sale_cannot_be_edited_even_with_sql(location, desk):
    sale = services.open_walk_in_sale(location=location, user=desk)
    services.add_product_line(sale=sale, product=ProductFactory(), user=desk)
    _pay_cash(sale, desk)
    line = SaleLine.objects.get(sale=sale)
    with pytest.raises(services.CheckoutError, match="paid"):
        services.change_quantity(line=line, quantity=3, user=desk)
    for attempt in (
        lambda: SaleLine.objects.filter(pk=line.pk).update(net_cents=1),
        lambda: SaleLine.objects.filter(pk=line.pk).delete(),
        lambda: Sale.objects.filter(pk=sale.pk).update(total_cents=1),
        lambda: Tender.objects.filter(sale=sale).update(amount_cents=1),
        lambda: _raw("DELETE FROM checkout_sale WHERE id = %s", sale.pk),
        lambda: _raw("DELETE FROM checkout_saleline WHERE sale_id = %s", sale.pk),
    ):
        with pytest.raises((InternalError, ProgrammingError)), transaction.atomic():
            attempt()


def test_money_taken_locks_the_items(location, desk):
    sale = services.open_walk_in_sale(location=location, user=desk)
    line = services.add_product_line(sale=sale, product=ProductFactory(price_cents=10000), user=desk)
    _pay_cash(sale, desk, amount=2000)
    with pytest.raises(services.CheckoutError, match="Payment has started"):
        services.change_quantity(line=line, quantity=2, user=desk)
    with pytest.raises(services.CheckoutError, match="more than"):
        services.take_cash(sale=sale, amount_cents=99999, received_cents=None, nonce="toomuch1", user=desk)


def test_package_session_pays_for_its_service_and_a_refund_gives_it_back(location, desk, billing):
    package = PatientPackageFactory()
    visit = AppointmentFactory(location=location, patient=package.patient, service=package.service, status="completed")
    sale = services.open_sale_for_appointment(appointment=visit, user=desk)
    line = sale.lines.get()
    services.take_package_session(sale=sale, line=line, package=package, nonce="pkg00001", user=desk)
    sale.refresh_from_db()
    assert sale.status == Sale.Status.PAID
    assert prepaid.sessions_left(package) == 5
    services.refund_sale(sale=sale, line_quantities={line.pk: 1}, reason="Treatment redone", user=billing)
    assert prepaid.sessions_left(package) == 6


def test_package_must_match_the_service(location, desk):
    package = PatientPackageFactory()
    visit = AppointmentFactory(location=location, patient=package.patient, status="completed")
    sale = services.open_sale_for_appointment(appointment=visit, user=desk)
    with pytest.raises(services.CheckoutError, match="This package is for"):
        services.take_package_session(sale=sale, line=sale.lines.get(), package=package, nonce="pkg00002", user=desk)


def test_membership_credit_pays_part_and_cash_the_rest(tox_visit, desk, location):
    credit = MembershipCreditFactory(membership=MembershipFactory(patient=tox_visit.patient, location=location))
    sale = services.open_sale_for_appointment(appointment=tox_visit, user=desk)  # 280 − 10% = 252
    tender = services.take_membership_credit(sale=sale, amount_cents=None, nonce="credit01", user=desk)
    assert tender.amount_cents == 5000
    assert prepaid.credit_balance(credit.membership) == 0
    _pay_cash(sale, desk)
    sale.refresh_from_db()
    assert sale.status == Sale.Status.PAID
    assert sorted(sale.tenders.values_list("kind", "amount_cents")) == [("cash", 20200), ("membership_credit", 5000)]


def test_selling_a_package_and_a_gift_card_issues_them_when_paid(tox_visit, desk, location):
    plan = PackagePlanFactory()
    sale = services.open_sale_for_appointment(appointment=tox_visit, user=desk)
    services.add_package_line(sale=sale, plan=plan, user=desk)
    services.add_gift_card_line(sale=sale, amount_cents=10000, user=desk)
    services.add_discount(sale=sale, kind="percent", value=Decimal(5), reason="Promotion", user=desk)
    sale.refresh_from_db()
    gift_line = sale.lines.get(kind="gift_card")
    assert gift_line.net_cents == 10000  # never discounted
    assert not tox_visit.patient.packages.exists() and not GiftCard.objects.exists()
    _pay_cash(sale, desk)
    package = tox_visit.patient.packages.get()
    assert (package.sessions_total, prepaid.sessions_left(package)) == (6, 6)
    card = services.gift_cards_of(sale)[0]
    assert (card.status, prepaid.gift_card_balance(card)) == ("active", 10000)


def test_refund_part_of_a_sale_restocks_and_gives_cash_back_then_void_the_rest(location, desk, billing):
    product = ProductFactory(price_cents=1000)
    receive_stock(product=product, location=location, quantity=10, user=desk)
    sale = services.open_walk_in_sale(location=location, user=desk)
    line = services.add_product_line(sale=sale, product=product, quantity=3, user=desk)
    _pay_cash(sale, desk)
    sale.refresh_from_db()
    line.refresh_from_db()
    assert (line.net_cents, line.tax_cents, sale.total_cents) == (3000, 233, 3233)  # 30 × 7.75% = 2.325 → 2.33
    with pytest.raises(services.CheckoutError, match="billing"):
        services.refund_sale(sale=sale, line_quantities={line.pk: 1}, reason="Changed mind", user=desk)
    first = services.refund_sale(sale=sale, line_quantities={line.pk: 1}, reason="Changed mind", user=billing)
    assert (first.net_cents, first.tax_cents, first.total_cents) == (1000, 78, 1078)  # 2.33 / 3 = 0.7767 → 0.78
    assert on_hand(product, location) == 8
    assert first.tenders.get().tender.kind == "cash"
    void = services.void_sale(sale=sale, reason="Wrong customer", user=billing)
    assert void.kind == SaleReturn.Kind.VOID
    assert (void.net_cents, void.tax_cents) == (2000, 155)  # the rest exactly: 233 − 78
    assert on_hand(product, location) == 10
    sale.refresh_from_db()
    assert sale.status == Sale.Status.PAID  # the sale itself is never edited
    with pytest.raises(services.CheckoutError, match="at most 0"):
        services.refund_sale(sale=sale, line_quantities={line.pk: 1}, reason="Again", user=billing)


def test_cancelling_a_partly_paid_sale_gives_the_money_back_as_a_void(location, desk):
    sale = services.open_walk_in_sale(location=location, user=desk)
    services.add_product_line(sale=sale, product=ProductFactory(price_cents=10000), user=desk)
    _pay_cash(sale, desk, amount=3000)
    services.cancel_sale(sale=sale, reason="Customer left", user=desk)
    sale.refresh_from_db()
    assert sale.status == Sale.Status.CANCELLED
    void = sale.returns.get()
    assert (void.kind, void.total_cents) == ("void", 3000)
    assert void.tenders.get().status == "succeeded"


def test_two_desks_cannot_take_more_than_the_total(location, desk):
    sale = services.open_walk_in_sale(location=location, user=desk)
    services.add_product_line(sale=sale, product=ProductFactory(price_cents=1000), user=desk)
    other_desk = UserFactory(role="front_desk")
    _pay_cash(sale, desk)
    with pytest.raises(services.CheckoutError):
        services.take_cash(sale=sale, amount_cents=100, received_cents=None, nonce="second01", user=other_desk)
