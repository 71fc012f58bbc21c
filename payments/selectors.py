"""Reads: amounts due, refundable amounts, the day's takings."""

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db.models import Prefetch, Q, Sum

from payments.models import PayLinkRequest, Payment, Refund, SavedPaymentMethod

COUNTED_REFUNDS = (Refund.Status.PENDING, Refund.Status.SUCCEEDED)


def refunded_cents(payment: Payment) -> int:
    """Refunds sent or about to be sent (a pending refund already reserves its amount)."""
    if "refunds" in getattr(payment, "_prefetched_objects_cache", {}):
        return sum(r.amount_cents for r in payment.refunds.all() if r.status in COUNTED_REFUNDS)
    total = payment.refunds.filter(status__in=COUNTED_REFUNDS).aggregate(s=Sum("amount_cents"))["s"]
    return total or 0


def refundable_cents(payment: Payment) -> int:
    if payment.status != Payment.Status.SUCCEEDED:
        return 0
    return max(payment.amount_cents - refunded_cents(payment), 0)


def net_paid_cents(appointment, kinds) -> int:
    total = 0
    paid = appointment.payments.filter(kind__in=kinds, status=Payment.Status.SUCCEEDED).prefetch_related("refunds")
    for payment in paid:
        total += payment.amount_cents - refunded_cents(payment)
    return total


def balance_due_cents(appointment) -> int:
    """Service price minus what was paid towards it (deposit and earlier balance payments)."""
    paid = net_paid_cents(appointment, [Payment.Kind.DEPOSIT, Payment.Kind.BALANCE])
    return max(appointment.service.price_cents - paid, 0)


def fee_due_cents(appointment, kind: str) -> int:
    """The location's fee for this kind, less a deposit the clinic kept (it counts towards the fee)."""
    location = appointment.location
    fee = location.no_show_fee_cents if kind == Payment.Kind.NO_SHOW_FEE else location.late_cancellation_fee_cents
    kept = net_paid_cents(appointment, [Payment.Kind.DEPOSIT])
    return max(fee - kept, 0)


def usable_cards(patient):
    return SavedPaymentMethod.objects.filter(patient=patient, detached_at__isnull=True)


def payments_of_appointment(appointment):
    return (
        Payment.objects.filter(appointment=appointment)
        .select_related("payment_method")
        .prefetch_related(
            Prefetch("refunds", queryset=Refund.objects.select_related("created_by")),
            Prefetch(
                "pay_link_requests",
                queryset=PayLinkRequest.objects.filter(handed_off_at__isnull=True),
                to_attr="pending_links",
            ),
        )
        .order_by("created_at")
    )


def payments_of_patient(patient):
    return (
        Payment.objects.filter(patient=patient)
        .select_related("payment_method", "appointment__service", "appointment__location")
        .prefetch_related("refunds")
        .order_by("-created_at")
    )


@dataclass
class LocationTakings:
    location: object
    payments: list = field(default_factory=list)
    refunds: list = field(default_factory=list)
    by_kind: dict = field(default_factory=dict)
    gross_cents: int = 0
    refunded_cents: int = 0

    @property
    def net_cents(self) -> int:
        return self.gross_cents - self.refunded_cents


def local_day_bounds(day: dt.date, tz_name: str) -> tuple[dt.datetime, dt.datetime]:
    tz = ZoneInfo(tz_name)
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start, end


def takings_for_day(day: dt.date, locations) -> list[LocationTakings]:
    """Money taken and refunded on a local calendar day, per location (each in its own zone)."""
    report = []
    for location in locations:
        start, end = local_day_bounds(day, location.time_zone)
        row = LocationTakings(location=location)
        row.payments = list(
            Payment.objects.filter(
                appointment__location=location,
                status=Payment.Status.SUCCEEDED,
                succeeded_at__gte=start,
                succeeded_at__lt=end,
            )
            .select_related("appointment__service")
            .order_by("succeeded_at")
        )
        row.refunds = list(
            Refund.objects.filter(
                Q(payment__appointment__location=location),
                status=Refund.Status.SUCCEEDED,
                succeeded_at__gte=start,
                succeeded_at__lt=end,
            )
            .select_related("payment")
            .order_by("succeeded_at")
        )
        for payment in row.payments:
            row.gross_cents += payment.amount_cents
            row.by_kind[payment.get_kind_display()] = row.by_kind.get(payment.get_kind_display(), 0) + (
                payment.amount_cents
            )
        row.refunded_cents = sum(r.amount_cents for r in row.refunds)
        report.append(row)
    return report
