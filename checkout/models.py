"""Checkout (POS): a sale with its lines, discounts, tips and tenders (issue 22).

A sale is one record. While it is open its lines can change; the first tender that takes money
locks the lines, and a paid sale is frozen: database triggers refuse any change to a locked line,
tip, discount or settled tender, and to a paid sale's amounts. Refunds and voids never edit a sale:
they are `SaleReturn` records of their own, with the lines, tax, tips and tenders they give back.

Money is integer cents (cinrella.money holds the one rounding rule). Each line keeps what reports
need, copied when the sale is paid (location, local business date, provider, category), because a
paid line never changes: the dashboard reads one narrow table instead of joining six."""

import pghistory
import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import F, Q

LOCKED_ROW = pgtrigger.Protect(
    name="locked_rows_are_immutable",
    operation=pgtrigger.Update | pgtrigger.Delete,
    condition=pgtrigger.Q(old__locked=True),
)
APPEND_ONLY = pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)


def default_sales_tax_percent():
    return settings.CHECKOUT_DEFAULT_SALES_TAX_PERCENT


class CheckoutSettings(models.Model):
    """Per-location checkout settings (admin → Checkout settings)."""

    location = models.OneToOneField("appointments.Location", on_delete=models.CASCADE, related_name="checkout_settings")
    # California: state + local district rate of the location's address (San Diego 7.75% in 2026).
    sales_tax_percent = models.DecimalField(max_digits=6, decimal_places=4, default=default_sales_tax_percent)
    receipt_footer = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name_plural = "checkout settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(sales_tax_percent__gte=0, sales_tax_percent__lt=20), name="sales_tax_percent_range"
            )
        ]

    def __str__(self):
        return f"Checkout settings of location #{self.location_id}"


class ServicePricing(models.Model):
    """How a service is charged at checkout when it is not one price per visit: injectables by the
    unit (24 units × $14). Without a row, a service is one visit at its list price."""

    service = models.OneToOneField("appointments.Service", on_delete=models.CASCADE, related_name="pricing")
    unit_label = models.CharField(max_length=20, default="units")
    unit_price_cents = models.PositiveIntegerField()
    default_units = models.PositiveIntegerField(default=20)

    def __str__(self):
        return f"{self.unit_price_cents}¢ per {self.unit_label}"


class AddOn(models.Model):
    """A small extra done with a service (numbing cream, LED mask): a service line, not taxed."""

    name = models.CharField(max_length=120, unique=True)
    category = models.CharField(max_length=80, default="Add-ons")
    price_cents = models.PositiveIntegerField()
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


@pghistory.track()
class Sale(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PAID = "paid", "Paid"
        CANCELLED = "cancelled", "Cancelled"

    location = models.ForeignKey("appointments.Location", on_delete=models.PROTECT, related_name="sales")
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="sales"
    )
    appointment = models.ForeignKey(
        "appointments.Appointment", null=True, blank=True, on_delete=models.PROTECT, related_name="sales"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    currency = models.CharField(max_length=3, default="usd")
    # Snapshot of the pricing when the lines were last priced; frozen once paid.
    tax_percent = models.DecimalField(max_digits=6, decimal_places=4, default=0)
    subtotal_cents = models.IntegerField(default=0)
    member_discount_cents = models.IntegerField(default=0)
    discount_cents = models.IntegerField(default=0)
    taxable_cents = models.IntegerField(default=0)
    tax_cents = models.IntegerField(default=0)
    tip_cents = models.IntegerField(default=0)
    total_cents = models.IntegerField(default=0)
    # Set when the first tender takes money: the lines can no longer change.
    locked_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    business_date = models.DateField(null=True, blank=True, help_text="Local date the sale was paid.")
    receipt_email_requested = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["location", "business_date"], name="sale_location_day"),
            models.Index(fields=["patient", "-created_at"], name="sale_patient"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(total_cents__gte=0), name="sale_total_not_negative"),
            models.CheckConstraint(
                condition=Q(status="paid", paid_at__isnull=False, business_date__isnull=False) | ~Q(status="paid"),
                name="paid_sale_has_date",
            ),
            # At most one open sale per appointment: a second "Check out" click finds the first.
            models.UniqueConstraint(
                fields=["appointment"], condition=Q(status="open"), name="one_open_sale_per_appointment"
            ),
        ]
        triggers = [
            pgtrigger.Protect(
                name="paid_sale_is_frozen",
                operation=pgtrigger.Update,
                condition=pgtrigger.Q(old__status="paid")
                & (
                    pgtrigger.Q(new__status__df=pgtrigger.F("old__status"))
                    | pgtrigger.Q(new__total_cents__df=pgtrigger.F("old__total_cents"))
                    | pgtrigger.Q(new__subtotal_cents__df=pgtrigger.F("old__subtotal_cents"))
                    | pgtrigger.Q(new__discount_cents__df=pgtrigger.F("old__discount_cents"))
                    | pgtrigger.Q(new__tax_cents__df=pgtrigger.F("old__tax_cents"))
                    | pgtrigger.Q(new__tip_cents__df=pgtrigger.F("old__tip_cents"))
                    | pgtrigger.Q(new__patient_id__df=pgtrigger.F("old__patient_id"))
                    | pgtrigger.Q(new__location_id__df=pgtrigger.F("old__location_id"))
                ),
            ),
            pgtrigger.Protect(name="sales_are_never_deleted", operation=pgtrigger.Delete),
        ]

    def __str__(self):
        return self.number

    @property
    def number(self) -> str:
        return f"S-{self.pk:06d}" if self.pk else "S-new"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None or self.status != self.Status.OPEN


class SaleLine(models.Model):
    class Kind(models.TextChoices):
        SERVICE = "service", "Service"
        ADDON = "addon", "Add-on"
        PRODUCT = "product", "Retail"
        PACKAGE = "package", "Package"
        GIFT_CARD = "gift_card", "Gift card"

    REVENUE_KINDS = (Kind.SERVICE, Kind.ADDON, Kind.PRODUCT)  # packages and gift cards are prepaid

    sale = models.ForeignKey(Sale, on_delete=models.PROTECT, related_name="lines")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    description = models.CharField(max_length=160)
    category = models.CharField(max_length=80)
    service = models.ForeignKey(
        "appointments.Service", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    addon = models.ForeignKey(AddOn, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey("inventory.Product", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    package_plan = models.ForeignKey(
        "prepaid.PackagePlan", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    provider = models.ForeignKey(
        "appointments.Provider", null=True, blank=True, on_delete=models.PROTECT, related_name="sale_lines"
    )
    quantity = models.PositiveIntegerField(default=1)
    unit_label = models.CharField(max_length=20, blank=True)
    list_unit_price_cents = models.PositiveIntegerField(help_text="Before any member price.")
    unit_price_cents = models.PositiveIntegerField()
    gross_cents = models.IntegerField(default=0)
    member_discount_cents = models.IntegerField(default=0)
    discount_cents = models.IntegerField(default=0)
    net_cents = models.IntegerField(default=0)
    taxable = models.BooleanField(default=False)
    tax_cents = models.IntegerField(default=0)
    # Copied when the sale is paid (reports read these; a locked line never changes).
    location = models.ForeignKey(
        "appointments.Location", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    business_date = models.DateField(null=True, blank=True)
    locked = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            # The dashboard's revenue queries: paid lines of a location by day (covering the sums).
            models.Index(
                fields=["location", "business_date"],
                include=["kind", "provider", "category", "net_cents"],
                condition=Q(locked=True, business_date__isnull=False),
                name="saleline_report",
            )
        ]
        constraints = [
            models.CheckConstraint(condition=Q(net_cents__gte=0), name="sale_line_net_not_negative"),
            models.CheckConstraint(
                condition=Q(net_cents=F("gross_cents") - F("member_discount_cents") - F("discount_cents")),
                name="sale_line_net_adds_up",
            ),
        ]
        triggers = [LOCKED_ROW]

    def __str__(self):
        return f"Line #{self.pk} of sale #{self.sale_id}"

    @property
    def is_service(self) -> bool:
        return self.kind in (self.Kind.SERVICE, self.Kind.ADDON)


class SaleDiscount(models.Model):
    """A manual discount with its reason and who gave it (member discounts are on the lines)."""

    class Kind(models.TextChoices):
        AMOUNT = "amount", "Amount"
        PERCENT = "percent", "Percent"

    sale = models.ForeignKey(Sale, on_delete=models.PROTECT, related_name="discounts")
    line = models.ForeignKey(SaleLine, null=True, blank=True, on_delete=models.PROTECT, related_name="discounts")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    amount_cents = models.IntegerField(default=0, help_text="For a % discount: what it came to.")
    reason = models.CharField(max_length=200)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    locked = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]
        triggers = [LOCKED_ROW]

    def __str__(self):
        return f"Discount #{self.pk}"


class SaleTip(models.Model):
    sale = models.ForeignKey(Sale, on_delete=models.PROTECT, related_name="tips")
    provider = models.ForeignKey("appointments.Provider", on_delete=models.PROTECT, related_name="tips")
    amount_cents = models.PositiveIntegerField()
    # Copied at payment, like the lines.
    business_date = models.DateField(null=True, blank=True)
    locked = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["sale", "provider"], name="one_tip_per_provider")]
        triggers = [LOCKED_ROW]

    def __str__(self):
        return f"Tip #{self.pk}"


class Tender(models.Model):
    """One way part of a sale was paid."""

    class Kind(models.TextChoices):
        CARD_ON_FILE = "card_on_file", "Card on file"
        CARD = "card", "Card (entered)"
        CASH = "cash", "Cash"
        GIFT_CARD = "gift_card", "Gift card"
        PACKAGE = "package", "Package session"
        MEMBERSHIP_CREDIT = "membership_credit", "Membership credit"

    class Status(models.TextChoices):
        PENDING = "pending", "In progress"
        SUCCEEDED = "succeeded", "Taken"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    MONEY_KINDS = (Kind.CARD_ON_FILE, Kind.CARD, Kind.CASH)  # money in the till or at Stripe

    sale = models.ForeignKey(Sale, on_delete=models.PROTECT, related_name="tenders")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    amount_cents = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    payment = models.OneToOneField(
        "payments.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="tender"
    )
    gift_card = models.ForeignKey("prepaid.GiftCard", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    package = models.ForeignKey(
        "prepaid.PatientPackage", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    package_line = models.ForeignKey(SaleLine, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    membership = models.ForeignKey(
        "prepaid.Membership", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cash_received_cents = models.PositiveIntegerField(null=True, blank=True)
    failure_message = models.CharField(max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=100, unique=True)
    business_date = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    # Set with status=succeeded: a taken tender never changes again.
    locked = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="tender_amount_positive"),
            models.CheckConstraint(
                condition=Q(cash_received_cents__isnull=True) | Q(cash_received_cents__gte=F("amount_cents")),
                name="tender_cash_covers_amount",
            ),
        ]
        triggers = [LOCKED_ROW]

    def __str__(self):
        return f"Tender #{self.pk} ({self.kind}, {self.status})"

    @property
    def change_cents(self) -> int:
        return (self.cash_received_cents or self.amount_cents) - self.amount_cents


class SaleReturn(models.Model):
    """A refund (some lines) or a void (everything) of a paid sale — a record of its own."""

    class Kind(models.TextChoices):
        REFUND = "refund", "Refund"
        VOID = "void", "Void"

    sale = models.ForeignKey(Sale, on_delete=models.PROTECT, related_name="returns")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    reason = models.CharField(max_length=300)
    restock = models.BooleanField(default=True)
    net_cents = models.IntegerField(default=0)
    tax_cents = models.IntegerField(default=0)
    tip_cents = models.IntegerField(default=0)
    total_cents = models.IntegerField(default=0)
    location = models.ForeignKey("appointments.Location", on_delete=models.PROTECT, related_name="+")
    business_date = models.DateField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        triggers = [APPEND_ONLY]

    def __str__(self):
        return f"{self.get_kind_display()} R-{self.pk:06d}"


class SaleReturnLine(models.Model):
    sale_return = models.ForeignKey(SaleReturn, on_delete=models.PROTECT, related_name="lines")
    line = models.ForeignKey(SaleLine, on_delete=models.PROTECT, related_name="returned")
    quantity = models.PositiveIntegerField()
    net_cents = models.IntegerField()
    tax_cents = models.IntegerField(default=0)
    # Copied from the line for reports (what the refund takes back, and where).
    kind = models.CharField(max_length=16, choices=SaleLine.Kind.choices)
    category = models.CharField(max_length=80)
    provider = models.ForeignKey(
        "appointments.Provider", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    location = models.ForeignKey("appointments.Location", on_delete=models.PROTECT, related_name="+")
    business_date = models.DateField()

    class Meta:
        indexes = [
            models.Index(
                fields=["location", "business_date"],
                include=["kind", "provider", "category", "net_cents"],
                name="salereturnline_report",
            )
        ]
        triggers = [APPEND_ONLY]

    def __str__(self):
        return f"Returned line #{self.line_id}"


class SaleReturnTip(models.Model):
    sale_return = models.ForeignKey(SaleReturn, on_delete=models.PROTECT, related_name="tips")
    tip = models.ForeignKey(SaleTip, on_delete=models.PROTECT, related_name="returned")
    amount_cents = models.PositiveIntegerField()

    class Meta:
        triggers = [APPEND_ONLY]

    def __str__(self):
        return f"Returned tip #{self.tip_id}"


class ReturnTender(models.Model):
    """Where a return's money goes back: the original tender's card, the till, the gift card…"""

    class Status(models.TextChoices):
        PENDING = "pending", "Being sent"
        SUCCEEDED = "succeeded", "Given back"
        FAILED = "failed", "Failed"

    sale_return = models.ForeignKey(SaleReturn, on_delete=models.PROTECT, related_name="tenders")
    tender = models.ForeignKey(Tender, on_delete=models.PROTECT, related_name="returned")
    amount_cents = models.PositiveIntegerField()
    refund = models.OneToOneField(
        "payments.Refund", null=True, blank=True, on_delete=models.PROTECT, related_name="return_tender"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"Back to tender #{self.tender_id}"


class ReceiptDelivery(models.Model):
    """A receipt emailed (or its failure): the address is not kept here, only the outcome."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        REFUSED = "refused", "Refused by the privacy policy"

    sale = models.ForeignKey(Sale, on_delete=models.PROTECT, related_name="receipt_deliveries")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    error = models.CharField(max_length=200, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Receipt email #{self.pk} ({self.status})"
