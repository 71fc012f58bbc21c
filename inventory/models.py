"""Retail products and their stock per location (issue 22).

Stock is a running count per (product, location) kept in `StockLevel`, and every change to it is an
append-only `StockMove` written in the same transaction (sale, refund, adjustment, delivery,
count). The level is therefore always the sum of its moves (`selectors.stock_drift` checks it).

Nothing here is about a patient: products are the clinic's catalogue. A move made by a sale names
the sale line it came from by id (`source`/`source_id`), not by a foreign key, because sales live in
a higher layer (checkout) that this app must not import."""

import pghistory
import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q


@pghistory.track()  # price and cost changes are kept (who changed a price, when)
class Product(models.Model):
    sku = models.CharField("SKU", max_length=40, unique=True)
    name = models.CharField(max_length=120)
    brand = models.CharField(max_length=80, blank=True)
    category = models.CharField(max_length=80, default="Retail")
    price_cents = models.PositiveIntegerField()
    cost_cents = models.PositiveIntegerField(default=0)
    # California taxes tangible goods; a non-taxable product (e.g. a prescription item) says so.
    taxable = models.BooleanField(default=True)
    low_stock_threshold = models.PositiveIntegerField(
        default=3, help_text="Listed as low stock at or below this many on hand."
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(sku__regex=r"^[A-Z0-9][A-Z0-9._-]*$"), name="product_sku_format")
        ]

    def __str__(self):
        return f"{self.name} ({self.sku})"


class StockLevel(models.Model):
    """On hand at one location. Negative means more was sold than the system knew of: the count is
    wrong, and the low-stock list says to count it."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="stock_levels")
    location = models.ForeignKey("appointments.Location", on_delete=models.PROTECT, related_name="stock_levels")
    on_hand = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["product", "location"], name="one_stock_level_per_location")]

    def __str__(self):
        return f"{self.product.sku} @ location #{self.location_id}: {self.on_hand}"


class StockMove(models.Model):
    class Reason(models.TextChoices):
        SALE = "sale", "Sold"
        REFUND = "refund", "Returned (refund)"
        RECEIVED = "received", "Delivery received"
        ADJUSTMENT = "adjustment", "Adjustment"
        COUNT = "count", "Stock count"

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="moves")
    location = models.ForeignKey("appointments.Location", on_delete=models.PROTECT, related_name="+")
    quantity = models.IntegerField(help_text="Signed: negative leaves the shelf.")
    reason = models.CharField(max_length=16, choices=Reason.choices)
    note = models.CharField(max_length=200, blank=True)
    # What caused it, by id (e.g. "sale_line", 42): sales live in a higher layer.
    source = models.CharField(max_length=32, blank=True)
    source_id = models.BigIntegerField(null=True, blank=True)
    on_hand_after = models.IntegerField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["product", "location", "-created_at"], name="stockmove_product_loc")]
        constraints = [models.CheckConstraint(condition=~Q(quantity=0), name="stockmove_nonzero")]
        triggers = [pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self):
        return f"{self.quantity:+d} {self.product_id} ({self.reason})"
