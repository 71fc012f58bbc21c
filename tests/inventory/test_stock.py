"""Retail stock: every change is a move with its reason, levels equal the sum of their moves, the
low-stock list, and who may see costs or change stock."""

import pytest

from inventory import selectors, services
from inventory.models import StockMove
from tests.checkout.factories import ProductFactory
from tests.factories import LocationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_deliveries_adjustments_and_counts_are_moves_and_levels_add_up():
    location, user = LocationFactory(), UserFactory(role="manager")
    product = ProductFactory(low_stock_threshold=3)
    services.receive_stock(product=product, location=location, quantity=10, user=user, note="invoice 1042")
    services.adjust_stock(product=product, location=location, quantity=-2, user=user, note="broken in delivery")
    with pytest.raises(services.InventoryError, match="why"):
        services.adjust_stock(product=product, location=location, quantity=-1, user=user, note=" ")
    services.record_count(product=product, location=location, counted=5, user=user)
    assert services.record_count(product=product, location=location, counted=5, user=user) is None  # nothing to fix
    assert selectors.on_hand(product, location) == 5
    assert list(StockMove.objects.order_by("id").values_list("reason", "quantity", "on_hand_after")) == [
        ("received", 10, 10),
        ("adjustment", -2, 8),
        ("count", -3, 5),
    ]
    assert selectors.stock_drift(location) == []


def test_low_stock_lists_products_at_or_below_their_level_emptiest_first():
    location, user = LocationFactory(), UserFactory()
    plenty, low, out = ProductFactory(name="Plenty"), ProductFactory(name="Low"), ProductFactory(name="Never stocked")
    services.receive_stock(product=plenty, location=location, quantity=9, user=user)
    services.receive_stock(product=low, location=location, quantity=2, user=user)
    ProductFactory(name="Retired", active=False)
    assert [p.name for p in selectors.low_stock(location)] == ["Never stocked", "Low"]
    assert plenty not in selectors.low_stock(location)
    assert out.pk  # counted as 0 on hand without a level row


def test_moves_are_append_only():
    from django.db import InternalError, ProgrammingError, transaction

    move = services.receive_stock(product=ProductFactory(), location=LocationFactory(), quantity=1, user=None)
    with pytest.raises((InternalError, ProgrammingError)), transaction.atomic():
        StockMove.objects.filter(pk=move.pk).update(quantity=5)


@pytest.mark.parametrize(
    ("role", "sees_list", "sees_cost", "receives", "adjusts"),
    [
        ("front_desk", True, False, True, False),
        ("billing", True, True, False, False),
        ("manager", True, True, True, True),
        ("provider", False, False, False, False),
    ],
)
def test_inventory_pages_by_role(staff_client, role, sees_list, sees_cost, receives, adjusts):
    location = LocationFactory()
    product = ProductFactory(cost_cents=2345)
    client = staff_client(role)
    page = client.get(f"/staff/inventory/?location={location.pk}")
    assert page.status_code == (200 if sees_list else 404)
    if sees_list:
        assert ("$23.45" in page.content.decode()) == sees_cost
    url = f"/staff/inventory/{product.pk}/stock/"
    response = client.post(url, {"location": location.pk, "action": "receive", "quantity": 4})
    assert response.status_code == (302 if receives else 404)
    response = client.post(url, {"location": location.pk, "action": "adjust", "quantity": -1, "note": "tester"})
    assert response.status_code == (302 if adjusts else 404)
    expected = (4 if receives else 0) - (1 if adjusts else 0)
    assert selectors.on_hand(product, location) == expected


def test_manager_creates_a_product_and_bad_input_is_explained(staff_client):
    manager = staff_client("manager")
    response = manager.post(
        "/staff/inventory/new/",
        {"sku": "skn spf 30", "name": "SPF 30", "category": "Sun care", "price": "abc", "low_stock_threshold": 3},
    )
    assert response.status_code == 400
    assert "Enter an amount like 25" in response.content.decode()
    response = manager.post(
        "/staff/inventory/new/",
        {
            "sku": "skn-spf30",
            "name": "SPF 30",
            "category": "Sun care",
            "price": "38.50",
            "taxable": "on",
            "low_stock_threshold": 3,
        },
    )
    assert response.status_code == 302
    from inventory.models import Product

    product = Product.objects.get(sku="SKN-SPF30")
    assert (product.price_cents, product.cost_cents, product.taxable) == (3850, 0, True)
