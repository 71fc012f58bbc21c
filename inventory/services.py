"""Writes to the catalogue and to stock. Keyword-only; each write is one transaction and leaves its
audit trail (Product history by pghistory, every stock change an append-only StockMove)."""

from django.db import transaction
from django.db.models import F

from inventory.models import Product, StockLevel, StockMove


class InventoryError(Exception):
    """Something a person can act on; the message is safe to show."""


def _level_for_update(*, product, location) -> StockLevel:
    level, _ = StockLevel.objects.get_or_create(product=product, location=location)
    return StockLevel.objects.select_for_update().get(pk=level.pk)


@transaction.atomic
def move_stock(
    *, product, location, quantity: int, reason: str, user=None, note: str = "", source: str = "", source_id=None
) -> StockMove:
    """Change on-hand by `quantity` (signed) and record why. The level row is locked, so two sales
    of the last item at once leave −1 (and a move each), never a lost update."""
    if quantity == 0:
        raise InventoryError("Enter a quantity other than zero.")
    level = _level_for_update(product=product, location=location)
    StockLevel.objects.filter(pk=level.pk).update(on_hand=F("on_hand") + quantity)
    level.refresh_from_db(fields=["on_hand"])
    return StockMove.objects.create(
        product=product,
        location=location,
        quantity=quantity,
        reason=reason,
        note=note[:200],
        source=source,
        source_id=source_id,
        on_hand_after=level.on_hand,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )


def receive_stock(*, product, location, quantity: int, user, note: str = "") -> StockMove:
    if quantity <= 0:
        raise InventoryError("A delivery adds at least one item.")
    return move_stock(
        product=product, location=location, quantity=quantity, reason=StockMove.Reason.RECEIVED, user=user, note=note
    )


def adjust_stock(*, product, location, quantity: int, user, note: str) -> StockMove:
    """A correction (breakage, tester, theft) with a reason."""
    if not note.strip():
        raise InventoryError("Say why the stock changes (e.g. 'broken in delivery').")
    return move_stock(
        product=product,
        location=location,
        quantity=quantity,
        reason=StockMove.Reason.ADJUSTMENT,
        user=user,
        note=note.strip(),
    )


@transaction.atomic
def record_count(*, product, location, counted: int, user, note: str = "") -> StockMove | None:
    """A shelf count: the move is the difference between what was counted and what we thought."""
    if counted < 0:
        raise InventoryError("A count cannot be negative.")
    level = _level_for_update(product=product, location=location)
    difference = counted - level.on_hand
    if difference == 0:
        return None
    return move_stock(
        product=product,
        location=location,
        quantity=difference,
        reason=StockMove.Reason.COUNT,
        user=user,
        note=note or f"Counted {counted}",
    )


@transaction.atomic
def save_product(*, product: Product | None = None, user=None, **fields) -> Product:
    """Create or update a product from a validated form's data."""
    product = product or Product()
    for name, value in fields.items():
        setattr(product, name, value)
    product.save()
    return product
