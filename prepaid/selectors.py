"""Reads: a patient's balances (packages, membership, gift cards), member pricing, the gift-card
liability."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q, Sum
from django.utils import timezone

from prepaid.models import GiftCard, GiftCardTransaction, MemberPrice, Membership, PatientPackage


def live_membership(patient) -> Membership | None:
    if patient is None:
        return None
    return (
        Membership.objects.filter(patient=patient)
        .exclude(status=Membership.Status.CANCELLED)
        .select_related("plan")
        .first()
    )


def benefit_membership(patient) -> Membership | None:
    membership = live_membership(patient)
    return membership if membership and membership.gives_benefits else None


def usable_packages(patient, *, service=None, now=None):
    """Packages with sessions left, not expired or refunded, soonest expiry first (use those first)."""
    if patient is None:
        return []
    now = now or timezone.now()
    packages = (
        PatientPackage.objects.filter(patient=patient, voided_at__isnull=True, expires_at__gt=now)
        .select_related("plan", "service")
        .annotate(used=Sum("redemptions__sessions"))
        .order_by("expires_at")
    )
    if service is not None:
        packages = packages.filter(service=service)
    result = []
    for package in packages:
        package.left = package.sessions_total + (package.used or 0)
        if package.left > 0:
            result.append(package)
    return result


@dataclass
class MemberTerms:
    """What a membership changes at checkout, read once per sale."""

    membership: Membership | None = None
    percent: Decimal = Decimal(0)
    services: bool = False
    retail: bool = False
    service_prices: dict = field(default_factory=dict)  # service id → cents
    product_prices: dict = field(default_factory=dict)  # product id → cents

    @property
    def plan_name(self) -> str:
        return self.membership.plan.name if self.membership else ""


def member_terms(patient) -> MemberTerms:
    membership = benefit_membership(patient)
    if membership is None:
        return MemberTerms()
    plan = membership.plan
    prices = list(MemberPrice.objects.filter(plan=plan).values_list("service_id", "product_id", "price_cents"))
    return MemberTerms(
        membership=membership,
        percent=plan.discount_percent,
        services=plan.discount_services,
        retail=plan.discount_retail,
        service_prices={s: c for s, p, c in prices if s},
        product_prices={p: c for s, p, c in prices if p},
    )


@dataclass
class Balances:
    membership: Membership | None
    credit_cents: int
    packages: list
    gift_cards: list


def patient_balances(patient) -> Balances:
    from prepaid.services import credit_balance

    membership = live_membership(patient)
    cards = list(
        GiftCard.objects.filter(purchaser=patient, status=GiftCard.Status.ACTIVE).annotate(
            balance=Sum("transactions__amount_cents")
        )
    )
    return Balances(
        membership=membership,
        credit_cents=credit_balance(membership) if membership else 0,
        packages=usable_packages(patient),
        gift_cards=[c for c in cards if (c.balance or 0) > 0],
    )


def gift_card_liability(as_of: dt.datetime | None = None) -> dict:
    """What the clinic owes on gift cards: the sum of every card's balance (as of a moment), with
    the count of cards holding money and the balance by month of issue (for the report)."""
    txns = GiftCardTransaction.objects.all()
    if as_of is not None:
        txns = txns.filter(created_at__lte=as_of)
    per_card = dict(txns.values("gift_card_id").annotate(b=Sum("amount_cents")).values_list("gift_card_id", "b"))
    holding = {card_id: b for card_id, b in per_card.items() if b}
    by_month: dict[str, int] = {}
    issued = GiftCard.objects.filter(pk__in=holding).values_list("pk", "issued_at")
    for card_id, issued_at in issued:
        key = issued_at.strftime("%Y-%m") if issued_at else "—"
        by_month[key] = by_month.get(key, 0) + holding[card_id]
    return {
        "total_cents": sum(holding.values()),
        "cards": len(holding),
        "by_month": sorted(by_month.items()),
    }


def gift_cards_list(query: str = ""):
    cards = GiftCard.objects.exclude(status=GiftCard.Status.PENDING).annotate(balance=Sum("transactions__amount_cents"))
    if query:
        cards = cards.filter(Q(last4=query.upper()[-4:]))
    return cards.order_by("-issued_at")
