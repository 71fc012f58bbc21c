"""Reads: the stock list of a location, the low-stock list, product look-up for checkout."""

from django.db.models import OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce

from inventory.models import Product, StockLevel, StockMove


def products_with_stock(location, *, include_inactive=False, query: str = ""):
    """Every product with its on-hand at `location` (0 when never stocked there): one query."""
    level = StockLevel.objects.filter(product=OuterRef("pk"), location=location).values("on_hand")[:1]
    products = Product.objects.all() if include_inactive else Product.objects.filter(active=True)
    if query:
        products = products.filter(Q(name__icontains=query) | Q(sku__icontains=query) | Q(brand__icontains=query))
    return products.annotate(on_hand=Coalesce(Subquery(level), 0)).order_by("name")


def low_stock(location) -> list[Product]:
    """Active products at or below their threshold here, emptiest first (negative = count it)."""
    rows = [p for p in products_with_stock(location) if p.on_hand <= p.low_stock_threshold]
    return sorted(rows, key=lambda p: (p.on_hand, p.name))


def on_hand(product, location) -> int:
    level = StockLevel.objects.filter(product=product, location=location).values_list("on_hand", flat=True).first()
    return level or 0


def recent_moves(product, location, limit=50):
    return StockMove.objects.filter(product=product, location=location).select_related("created_by")[:limit]


def stock_drift(location) -> list[StockLevel]:
    """Levels whose on-hand differs from the sum of their moves (there should be none)."""
    sums = dict(
        StockMove.objects.filter(location=location)
        .values("product_id")
        .annotate(total=Sum("quantity"))
        .values_list("product_id", "total")
    )
    return [
        level
        for level in StockLevel.objects.filter(location=location)
        if level.on_hand != sums.get(level.product_id, 0)
    ]


def find_product(code: str) -> Product | None:
    """Exact SKU (what a barcode scanner types), case-insensitive."""
    code = (code or "").strip().upper()
    return Product.objects.filter(sku=code, active=True).first() if code else None
