"""Demo retail shelf for `seed_demo` (idempotent): skincare products with stock at the demo
location, two of them low so the low-stock list has something to show."""

from appointments.models import Location
from cinrella.demo import DEMO_LOCATION
from inventory import services
from inventory.models import Product, StockLevel

PRODUCTS = [
    # sku, name, brand, category, price, cost, on hand, reorder at, taxable
    ("SKN-VITC30", "Vitamin C serum 30 ml", "SkinCeuticals", "Skincare", 16900, 8450, 9, 3, True),
    ("SKN-HA15", "Hyaluronic B5 serum", "SkinCeuticals", "Skincare", 11000, 5500, 2, 3, True),
    ("SKN-SPF50", "Daily SPF 50 tinted", "EltaMD", "Sun care", 4400, 2000, 14, 5, True),
    ("SKN-RET05", "Retinol 0.5 refining night cream", "SkinCeuticals", "Skincare", 7600, 3600, 6, 3, True),
    ("SKN-CLNS", "Gentle cleanser", "Alastin", "Skincare", 4800, 2100, 11, 4, True),
    ("SKN-RECOV", "Post-procedure recovery balm", "Alastin", "Aftercare", 6500, 2900, 1, 3, True),
    ("SKN-LASH", "Lash serum", "Revitalash", "Beauty", 9800, 4700, 4, 2, True),
    ("SKN-ARNICA", "Arnica bruise gel", "Arnicare", "Aftercare", 1500, 600, 20, 6, True),
]


def load(stdout) -> None:
    location = Location.objects.filter(name=DEMO_LOCATION["name"]).first() or Location.objects.order_by("pk").first()
    if location is None:
        return
    for sku, name, brand, category, price, cost, stock, reorder, taxable in PRODUCTS:
        product, _ = Product.objects.get_or_create(
            sku=sku,
            defaults={
                "name": name,
                "brand": brand,
                "category": category,
                "price_cents": price,
                "cost_cents": cost,
                "low_stock_threshold": reorder,
                "taxable": taxable,
            },
        )
        if not StockLevel.objects.filter(product=product, location=location).exists():
            services.receive_stock(product=product, location=location, quantity=stock, user=None, note="Opening stock")
    stdout.write(f"inventory: {len(PRODUCTS)} products\n")
