"""A sale's arithmetic as one pure function (no database): lines, member pricing, discounts, tax,
tips → every line's amounts and the totals. `services` stores exactly what this returns, so what
the page shows, what is charged and what the receipt prints cannot disagree.

Order (each step rounds once, see cinrella.money):
1. gross = quantity × unit price (unit price already the member price where the plan has one);
2. member discount: the membership's % off, per line (lines the plan covers);
3. manual line discounts (amount, or % of what is left on the line);
4. manual sale discounts (amount, or % of what is left on all discountable lines), spread over the
   discountable lines in proportion to what is left on each (largest remainder);
5. sales tax: rate × the sum of the taxable lines' nets, rounded once for the sale, then spread
   over the taxable lines (so a refunded line returns exactly its share);
6. tips are added last: never discounted, never taxed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from cinrella.money import allocate, percent_of

AMOUNT, PERCENT = "amount", "percent"


@dataclass(frozen=True)
class LineIn:
    key: object
    quantity: int
    unit_price_cents: int
    taxable: bool = False
    discountable: bool = True  # gift cards sold are cash-equivalents: never discounted
    member_percent: Decimal = Decimal(0)


@dataclass(frozen=True)
class DiscountIn:
    key: object
    kind: str  # AMOUNT or PERCENT
    value: Decimal | int  # cents for AMOUNT, percent for PERCENT
    line_key: object = None  # None: the whole sale


@dataclass
class LineOut:
    key: object
    gross_cents: int
    member_discount_cents: int = 0
    discount_cents: int = 0  # manual discounts (line and share of sale discounts)
    tax_cents: int = 0

    @property
    def net_cents(self) -> int:
        return self.gross_cents - self.member_discount_cents - self.discount_cents


@dataclass
class SaleTotals:
    lines: dict = field(default_factory=dict)  # key → LineOut
    discounts: dict = field(default_factory=dict)  # discount key → cents actually taken
    tax_rate: Decimal = Decimal(0)
    tip_cents: int = 0

    @property
    def subtotal_cents(self) -> int:
        return sum(line.gross_cents for line in self.lines.values())

    @property
    def member_discount_cents(self) -> int:
        return sum(line.member_discount_cents for line in self.lines.values())

    @property
    def discount_cents(self) -> int:
        return sum(line.discount_cents for line in self.lines.values())

    @property
    def net_cents(self) -> int:
        return sum(line.net_cents for line in self.lines.values())

    @property
    def tax_cents(self) -> int:
        return sum(line.tax_cents for line in self.lines.values())

    @property
    def taxable_cents(self) -> int:
        return self._taxable

    _taxable: int = 0

    @property
    def total_cents(self) -> int:
        return self.net_cents + self.tax_cents + self.tip_cents


def price_sale(
    lines: list[LineIn], discounts: list[DiscountIn] = (), tax_rate: Decimal = Decimal(0), tips: list[int] = ()
) -> SaleTotals:
    if any(line.quantity <= 0 or line.unit_price_cents < 0 for line in lines):
        raise ValueError("quantities are positive and prices not negative")
    out = {line.key: LineOut(key=line.key, gross_cents=line.quantity * line.unit_price_cents) for line in lines}
    by_key = {line.key: line for line in lines}
    totals = SaleTotals(lines=out, tax_rate=Decimal(tax_rate), tip_cents=sum(tips))

    for line in lines:  # 2. member discount
        if line.discountable and line.member_percent:
            out[line.key].member_discount_cents = percent_of(out[line.key].gross_cents, line.member_percent)

    for discount in discounts:  # 3. line discounts
        if discount.line_key is None:
            continue
        line = out[discount.line_key]
        if not by_key[discount.line_key].discountable:
            totals.discounts[discount.key] = 0
            continue
        taken = min(_amount(discount, line.net_cents), line.net_cents)
        line.discount_cents += taken
        totals.discounts[discount.key] = taken

    for discount in discounts:  # 4. sale discounts, spread over what is left
        if discount.line_key is not None:
            continue
        eligible = [out[line.key] for line in lines if line.discountable]
        left = sum(line.net_cents for line in eligible)
        taken = min(_amount(discount, left), left)
        for line, share in zip(eligible, allocate(taken, [line.net_cents for line in eligible]), strict=True):
            line.discount_cents += share
        totals.discounts[discount.key] = taken

    taxed = [out[line.key] for line in lines if line.taxable]  # 5. tax
    totals._taxable = sum(line.net_cents for line in taxed)
    tax = percent_of(totals._taxable, tax_rate) if taxed else 0
    for line, share in zip(taxed, allocate(tax, [line.net_cents for line in taxed]) if taxed else [], strict=True):
        line.tax_cents = share
    return totals


def _amount(discount: DiscountIn, base: int) -> int:
    if discount.kind == PERCENT:
        return percent_of(base, discount.value)
    if discount.kind == AMOUNT:
        return int(discount.value)
    raise ValueError(f"unknown discount kind {discount.kind!r}")
