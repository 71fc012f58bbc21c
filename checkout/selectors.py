"""Reads: a sale with everything its page needs, the day's sales, and the day sheet (tenders, tips,
tax) that the takings page shows beside card payments. Query counts are fixed per page."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, Q, Sum

from checkout.models import ReturnTender, Sale, SaleLine, SaleReturn, SaleTip, Tender


def sale_for_page(pk: int) -> Sale:
    return (
        Sale.objects.select_related(
            "location", "patient", "appointment__service", "appointment__provider", "created_by"
        )
        .prefetch_related(
            Prefetch("lines", queryset=SaleLine.objects.select_related("provider", "product", "service")),
            "discounts",
            Prefetch("tips", queryset=SaleTip.objects.select_related("provider")),
            Prefetch(
                "tenders",
                queryset=Tender.objects.select_related("payment__payment_method", "gift_card", "package__plan"),
            ),
            Prefetch(
                "returns",
                queryset=SaleReturn.objects.select_related("created_by").prefetch_related(
                    "lines__line", Prefetch("tenders", queryset=ReturnTender.objects.select_related("tender", "refund"))
                ),
            ),
            "receipt_deliveries",
        )
        .get(pk=pk)
    )


def returned_quantities(sale: Sale) -> dict[int, int]:
    rows = SaleLine.objects.filter(sale=sale).annotate(q=Sum("returned__quantity")).values_list("pk", "q")
    return {pk: q or 0 for pk, q in rows}


def sales_of_day(location, day: dt.date):
    """Open sales (any day) first, then the day's paid and cancelled sales at the location."""
    return (
        Sale.objects.filter(location=location)
        .filter(
            Q(status=Sale.Status.OPEN) | Q(business_date=day) | Q(status=Sale.Status.CANCELLED, created_at__date=day)
        )
        .select_related("patient", "appointment__service")
        .annotate(line_count=Count("lines"))
        .order_by("status", "-created_at")[:200]
    )


def sales_of_patient(patient):
    return Sale.objects.filter(patient=patient).exclude(status=Sale.Status.CANCELLED).order_by("-created_at")


@dataclass
class DaySheet:
    """The desk's end-of-day sheet for one location (local business date)."""

    location: object
    sales: int = 0
    tenders: dict = field(default_factory=dict)  # kind label → cents
    cash_cents: int = 0
    card_cents: int = 0
    tips: list = field(default_factory=list)  # (provider, cents)
    tax_cents: int = 0
    returned_cents: int = 0
    returned_cash_cents: int = 0

    @property
    def expected_cash_cents(self) -> int:
        return self.cash_cents - self.returned_cash_cents


def day_sheet(day: dt.date, locations) -> list[DaySheet]:
    """Per location: tenders taken, tips per provider, tax collected and what was given back on a
    local business day (4 queries whatever the number of sales)."""
    ids = [loc.pk for loc in locations]
    sheets = {loc.pk: DaySheet(location=loc) for loc in locations}
    labels = dict(Tender.Kind.choices)
    tenders = (
        Tender.objects.filter(sale__location_id__in=ids, status=Tender.Status.SUCCEEDED, business_date=day)
        .values("sale__location_id", "kind")
        .annotate(total=Sum("amount_cents"))
    )
    for row in tenders:
        sheet = sheets[row["sale__location_id"]]
        sheet.tenders[labels[row["kind"]]] = row["total"]
        if row["kind"] == Tender.Kind.CASH:
            sheet.cash_cents += row["total"]
        elif row["kind"] in (Tender.Kind.CARD, Tender.Kind.CARD_ON_FILE):
            sheet.card_cents += row["total"]
    sales = (
        Sale.objects.filter(location_id__in=ids, status=Sale.Status.PAID, business_date=day)
        .values("location_id")
        .annotate(n=Count("pk"), tax=Sum("tax_cents"))
    )
    for row in sales:
        sheets[row["location_id"]].sales = row["n"]
        sheets[row["location_id"]].tax_cents = row["tax"] or 0
    tips = (
        SaleTip.objects.filter(sale__location_id__in=ids, locked=True, business_date=day)
        .values("sale__location_id", "provider__display_name")
        .annotate(total=Sum("amount_cents"))
        .order_by("provider__display_name")
    )
    for row in tips:
        sheets[row["sale__location_id"]].tips.append((row["provider__display_name"], row["total"]))
    returns = (
        ReturnTender.objects.filter(sale_return__location_id__in=ids, sale_return__business_date=day)
        .values("sale_return__location_id", "tender__kind")
        .annotate(total=Sum("amount_cents"))
    )
    for row in returns:
        sheet = sheets[row["sale_return__location_id"]]
        sheet.returned_cents += row["total"]
        if row["tender__kind"] == Tender.Kind.CASH:
            sheet.returned_cash_cents += row["total"]
    return [sheets[pk] for pk in ids]


def tip_suggestions(sale: Sale, percents=(15, 18, 20, 25)) -> dict:
    """Per provider: their service lines' net, and tips at the usual percentages of it."""
    from cinrella.money import percent_of

    nets: dict = defaultdict(int)
    for line in sale.lines.all():
        if line.provider_id and line.kind in (SaleLine.Kind.SERVICE, SaleLine.Kind.ADDON):
            nets[line.provider_id] += line.net_cents
    return {pid: [(p, percent_of(net, p)) for p in percents] for pid, net in nets.items()}
