"""What patients pay for in advance (issue 22): packages of sessions, memberships (a monthly Stripe
subscription with benefits) and gift cards.

Balances are ledgers, never a number edited in place: a package's sessions left, a membership's
credit and a gift card's balance are each the sum of append-only ledger rows (issue, redeem,
restore…), written in the transaction of their cause. A sale that uses a balance names its row by
id (`source`/`source_id`): sales live in a higher layer (checkout) that this app must not import.

Gift-card codes are bearer credentials: stored encrypted, found by a keyed blind index, shown as
their last four characters everywhere except on the buyer's receipt and email."""

import pghistory
import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q

from cinrella.crypto import EncryptedCharField, EncryptedEmailField

APPEND_ONLY = pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)


class LedgerKind(models.TextChoices):
    ISSUE = "issue", "Issued"
    REDEEM = "redeem", "Used at checkout"
    RESTORE = "restore", "Given back (refund)"
    GRANT = "grant", "Monthly credit"
    CASH_OUT = "cash_out", "Cashed out / refunded"
    VOID = "void", "Voided"
    EXPIRE = "expire", "Expired"


# --- packages ---------------------------------------------------------------------------------------


class PackagePlan(models.Model):
    """A package on the menu: e.g. 6 laser hair removal sessions for $1,200, valid a year."""

    name = models.CharField(max_length=120)
    service = models.ForeignKey("appointments.Service", on_delete=models.PROTECT, related_name="package_plans")
    sessions = models.PositiveIntegerField()
    price_cents = models.PositiveIntegerField()
    valid_days = models.PositiveIntegerField(default=365)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.CheckConstraint(condition=Q(sessions__gt=0), name="package_plan_sessions_positive")]

    def __str__(self):
        return self.name


@pghistory.track()
class PatientPackage(models.Model):
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="packages")
    plan = models.ForeignKey(PackagePlan, on_delete=models.PROTECT, related_name="+")
    service = models.ForeignKey("appointments.Service", on_delete=models.PROTECT, related_name="+")
    sessions_total = models.PositiveIntegerField()
    price_cents = models.PositiveIntegerField()
    purchased_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    voided_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=32, blank=True)
    source_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["expires_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "source_id"], condition=~Q(source=""), name="one_package_per_source"
            )
        ]

    def __str__(self):
        return f"Package #{self.pk}"


class PackageRedemption(models.Model):
    """Sessions used (−1) or given back (+1) by a refund."""

    package = models.ForeignKey(PatientPackage, on_delete=models.PROTECT, related_name="redemptions")
    sessions = models.IntegerField(help_text="−1 used, +1 restored")
    kind = models.CharField(max_length=16, choices=LedgerKind.choices)
    source = models.CharField(max_length=32, blank=True)
    source_id = models.BigIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.CheckConstraint(condition=~Q(sessions=0), name="package_redemption_nonzero")]
        triggers = [APPEND_ONLY]

    def __str__(self):
        return f"{self.sessions:+d} session(s) on package #{self.package_id}"


# --- memberships ------------------------------------------------------------------------------------


class MembershipPlan(models.Model):
    """A monthly membership: a fee billed by Stripe, and what it gives at checkout."""

    name = models.CharField(max_length=120, unique=True)
    monthly_fee_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="usd")
    monthly_credit_cents = models.PositiveIntegerField(
        default=0, help_text="Credit added at each paid month, usable at checkout."
    )
    discount_percent = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    discount_services = models.BooleanField(default=True, help_text="The % off applies to services and add-ons.")
    discount_retail = models.BooleanField(default=True, help_text="The % off applies to retail products.")
    # Stripe's recurring price for this plan (created on first use, with no health data in it).
    stripe_price_id = models.CharField(max_length=64, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["monthly_fee_cents"]
        constraints = [
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0, discount_percent__lte=100), name="membership_discount_percent"
            )
        ]

    def __str__(self):
        return self.name


class MemberPrice(models.Model):
    """A fixed member price for one service or product (instead of the plan's % off)."""

    plan = models.ForeignKey(MembershipPlan, on_delete=models.CASCADE, related_name="member_prices")
    service = models.ForeignKey("appointments.Service", null=True, blank=True, on_delete=models.CASCADE)
    product = models.ForeignKey("inventory.Product", null=True, blank=True, on_delete=models.CASCADE)
    price_cents = models.PositiveIntegerField(help_text="Per unit for services priced by the unit.")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(service__isnull=False, product__isnull=True)
                | Q(service__isnull=True, product__isnull=False),
                name="member_price_one_item",
            ),
            models.UniqueConstraint(fields=["plan", "service"], name="one_member_price_per_service"),
            models.UniqueConstraint(fields=["plan", "product"], name="one_member_price_per_product"),
        ]

    def __str__(self):
        return f"Member price #{self.pk}"


@pghistory.track()
class Membership(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Starting (waiting for the first payment)"
        ACTIVE = "active", "Active"
        PAST_DUE = "past_due", "Payment failed (past due)"
        CANCELLED = "cancelled", "Cancelled"

    BENEFIT_STATUSES = (Status.ACTIVE, Status.PAST_DUE)  # Stripe retries a failed renewal for a while

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="memberships")
    plan = models.ForeignKey(MembershipPlan, on_delete=models.PROTECT, related_name="memberships")
    location = models.ForeignKey("appointments.Location", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    monthly_fee_cents = models.PositiveIntegerField(help_text="The fee when the patient joined.")
    stripe_subscription_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    idempotency_key = models.CharField(max_length=100, unique=True)
    failure_reason = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One live membership per patient: a second sign-up while one runs is refused.
            models.UniqueConstraint(
                fields=["patient"], condition=~Q(status="cancelled"), name="one_live_membership_per_patient"
            )
        ]

    def __str__(self):
        return f"Membership #{self.pk} ({self.status})"

    @property
    def gives_benefits(self) -> bool:
        return self.status in self.BENEFIT_STATUSES


class MembershipCredit(models.Model):
    """The membership's credit ledger (cents). A monthly grant is keyed by the Stripe invoice it
    came from, so a replayed or reconciled invoice grants once."""

    membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="credits")
    amount_cents = models.IntegerField()
    kind = models.CharField(max_length=16, choices=LedgerKind.choices)
    stripe_invoice_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    source = models.CharField(max_length=32, blank=True)
    source_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.CheckConstraint(condition=~Q(amount_cents=0), name="membership_credit_nonzero")]
        triggers = [APPEND_ONLY]

    def __str__(self):
        return f"{self.amount_cents:+d} on membership #{self.membership_id}"


class MembershipInvoice(models.Model):
    """Each Stripe invoice of a membership (paid or failed), for MRR, churn and reconciliation."""

    membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="invoices")
    stripe_invoice_id = models.CharField(max_length=64, unique=True)
    amount_cents = models.PositiveIntegerField()
    status = models.CharField(max_length=16)  # paid, open, uncollectible, void
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-period_start"]

    def __str__(self):
        return self.stripe_invoice_id


# --- gift cards -------------------------------------------------------------------------------------


@pghistory.track(exclude=["code"])
class GiftCard(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Not paid yet"
        ACTIVE = "active", "Active"
        VOID = "void", "Void"

    class Channel(models.TextChoices):
        CHECKOUT = "checkout", "At the desk"
        ONLINE = "online", "Online"

    code = EncryptedCharField(max_length=32)
    code_bidx = models.CharField(max_length=64, unique=True, editable=False)
    last4 = models.CharField(max_length=4)
    initial_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="usd")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    purchaser = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="gift_cards_bought"
    )
    # Online buyers need not be patients: their name and email, encrypted like a patient's.
    buyer_name = EncryptedCharField(max_length=200, blank=True)
    buyer_email = EncryptedEmailField(max_length=254, blank=True)
    recipient_name = EncryptedCharField(max_length=200, blank=True)
    recipient_email = EncryptedEmailField(max_length=254, blank=True)
    payment = models.ForeignKey(
        "payments.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="gift_cards"
    )
    source = models.CharField(max_length=32, blank=True)
    source_id = models.BigIntegerField(null=True, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(initial_cents__gt=0), name="gift_card_amount_positive"),
            models.UniqueConstraint(
                fields=["source", "source_id"], condition=~Q(source=""), name="one_gift_card_per_source"
            ),
        ]

    def __str__(self):
        return f"Gift card ••••{self.last4}"

    @property
    def masked(self) -> str:
        return f"•••• {self.last4}"


class GiftCardTransaction(models.Model):
    gift_card = models.ForeignKey(GiftCard, on_delete=models.PROTECT, related_name="transactions")
    amount_cents = models.IntegerField()
    kind = models.CharField(max_length=16, choices=LedgerKind.choices)
    source = models.CharField(max_length=32, blank=True)
    source_id = models.BigIntegerField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["gift_card", "created_at"], name="giftcard_txn_card")]
        constraints = [models.CheckConstraint(condition=~Q(amount_cents=0), name="gift_card_txn_nonzero")]
        triggers = [APPEND_ONLY]

    def __str__(self):
        return f"{self.amount_cents:+d} on gift card #{self.gift_card_id}"
