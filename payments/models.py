"""Payments: what the clinic keeps about money (policy §2C) — Stripe ids, card brand/last4/expiry,
amounts in integer cents and statuses. Never a card number, CVC or billing address: cards are
entered in Stripe's Payment Element and never touch our servers."""

import pghistory
import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q

from patients.models import Patient


@pghistory.track()
class StripeCustomer(models.Model):
    """The Stripe Customer that holds a patient's saved cards."""

    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="stripe_customer")
    customer_id = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.customer_id


@pghistory.track()
class SavedPaymentMethod(models.Model):
    """A card saved at Stripe for later off-session use. Only what identifies it to a person."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="saved_payment_methods")
    payment_method_id = models.CharField(max_length=64, unique=True)
    brand = models.CharField(max_length=24, blank=True)
    last4 = models.CharField(max_length=4)
    exp_month = models.PositiveSmallIntegerField()
    exp_year = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    detached_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(last4__regex=r"^[0-9]{4}$"), name="saved_pm_last4_digits"),
            models.CheckConstraint(condition=Q(exp_month__gte=1, exp_month__lte=12), name="saved_pm_exp_month"),
        ]

    def __str__(self):
        return f"{self.brand or 'card'} •••• {self.last4}"

    @property
    def label(self) -> str:
        return f"{(self.brand or 'card').title()} •••• {self.last4}, exp {self.exp_month:02d}/{self.exp_year}"


class CancellationPolicyAgreement(models.Model):
    """Proof the patient agreed to the cancellation policy before a card was saved (append-only)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="cancellation_agreements")
    appointment = models.ForeignKey(
        "appointments.Appointment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField()
    version = models.CharField(max_length=32)
    agreed_at = models.DateTimeField(auto_now_add=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-agreed_at"]
        triggers = [pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self):
        return f"Cancellation policy {self.version} agreed by patient #{self.patient_id}"


@pghistory.track()
class Payment(models.Model):
    class Kind(models.TextChoices):
        DEPOSIT = "deposit", "Deposit"
        BALANCE = "balance", "Balance"
        NO_SHOW_FEE = "no_show_fee", "No-show fee"
        LATE_CANCEL_FEE = "late_cancel_fee", "Late-cancellation fee"
        SALE = "sale", "Checkout sale"
        GIFT_CARD = "gift_card", "Gift card (online)"

    class Status(models.TextChoices):
        PENDING = "pending", "Not sent yet"
        REQUIRES_PAYMENT_METHOD = "requires_payment_method", "Awaiting card"
        REQUIRES_ACTION = "requires_action", "Needs the patient (pay link)"
        PROCESSING = "processing", "Processing"
        SUCCEEDED = "succeeded", "Paid"
        FAILED = "failed", "Declined"
        CANCELED = "canceled", "Cancelled"

    FEE_KINDS = (Kind.NO_SHOW_FEE, Kind.LATE_CANCEL_FEE)
    OPEN_STATUSES = (Status.PENDING, Status.REQUIRES_PAYMENT_METHOD, Status.REQUIRES_ACTION, Status.PROCESSING)

    appointment = models.ForeignKey(
        "appointments.Appointment", null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    # Empty only for a buyer who is not a patient (a walk-in retail sale, a gift card bought online).
    patient = models.ForeignKey(Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="payments")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="usd")
    payment_intent_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.PENDING)
    # Derived from what is being paid (e.g. "fee:<appointment>:no_show_fee"), sent to Stripe as the
    # Idempotency-Key too: a double click or a retry finds this row instead of charging again.
    idempotency_key = models.CharField(max_length=100, unique=True)
    failure_reason = models.CharField(max_length=200, blank=True)
    payment_method = models.ForeignKey(
        SavedPaymentMethod, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    # A deposit kept because the patient cancelled inside the paid window.
    kept_as_late_fee = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    succeeded_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["patient", "-created_at"], name="payment_patient_created")]
        constraints = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(condition=Q(currency__regex=r"^[a-z]{3}$"), name="payment_currency_lowercase_iso"),
        ]

    def __str__(self):
        return f"Payment #{self.pk} ({self.kind}, {self.status})"

    @property
    def stripe_idempotency_key(self) -> str:
        """Our key plus the row's creation time: stable for retries of this row, and never
        colliding with a row of an earlier database on the same Stripe account."""
        return f"{self.idempotency_key}:{self.created_at.timestamp():.6f}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


@pghistory.track()
class Refund(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Not sent yet"
        SUCCEEDED = "succeeded", "Refunded"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Cancelled"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount_cents = models.PositiveIntegerField()
    # Internal note for the clinic; never sent to Stripe (it could mention a treatment).
    reason = models.CharField(max_length=300)
    stripe_refund_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    idempotency_key = models.CharField(max_length=100, unique=True)
    failure_reason = models.CharField(max_length=200, blank=True)
    automatic = models.BooleanField(default=False, help_text="Made by the system (timely cancellation).")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    succeeded_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=Q(amount_cents__gt=0), name="refund_amount_positive")]

    def __str__(self):
        return f"Refund #{self.pk} ({self.status})"

    @property
    def stripe_idempotency_key(self) -> str:
        return f"{self.idempotency_key}:{self.created_at.timestamp():.6f}"


class PayLinkRequest(models.Model):
    """A pay link that must reach the patient (off-session charge needed authentication or was
    declined). `payments.notifications.send_pay_link` writes one; the messaging outbox sends it."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="pay_link_requests")
    body = models.CharField(max_length=320)
    created_at = models.DateTimeField(auto_now_add=True)
    handed_off_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Pay link for payment #{self.payment_id}"


class ProcessedStripeEvent(models.Model):
    """One row per Stripe event applied, written in the same transaction as the event's effects,
    so a redelivered event (same id) changes nothing."""

    event_id = models.CharField(max_length=100, unique=True)
    type = models.CharField(max_length=100)
    processed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-processed_at"]

    def __str__(self):
        return self.event_id
