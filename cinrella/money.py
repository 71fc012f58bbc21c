"""Money arithmetic (checkout, retail, prepaid, reports): integer cents everywhere, and one rounding rule.

THE RULE: an amount computed from a percentage or a rate is rounded to the nearest cent, halves
away from zero (ROUND_HALF_UP: 3.345 → 3.35), once, where it is computed — never on intermediate
values. Amounts split across several parts (a sale discount over its lines, the tax over the taxed
lines, a tip over providers) are split by the largest-remainder method, so the parts always add up
to exactly the whole and the leftover cents go to the parts with the largest fractions (ties: the
earlier part). Percentages and rates are `Decimal` (never float)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

HUNDRED = Decimal(100)


def round_cents(value: Decimal) -> int:
    """Decimal cents → int cents, halves away from zero."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def percent_of(cents: int, percent: Decimal | int | str) -> int:
    """`percent`% of `cents`, rounded once: percent_of(4320, "7.75") == 335 (334.8 → 335)."""
    return round_cents(Decimal(cents) * Decimal(str(percent)) / HUNDRED)


def allocate(total: int, weights: list[int]) -> list[int]:
    """Split `total` cents in proportion to `weights` (largest remainder). Sum is exactly `total`.

    allocate(100, [1, 1, 1]) == [34, 33, 33]; zero weights get nothing unless all are zero (then
    the split is even)."""
    if not weights:
        if total:
            raise ValueError("nothing to allocate to")
        return []
    if any(w < 0 for w in weights):
        raise ValueError("weights must not be negative")
    basis = sum(weights)
    if basis == 0:
        weights = [1] * len(weights)
        basis = len(weights)
    sign = -1 if total < 0 else 1
    magnitude = abs(total)
    shares = [magnitude * w // basis for w in weights]
    remainders = [(magnitude * w % basis, -i) for i, w in enumerate(weights)]
    leftover = magnitude - sum(shares)
    for _, negative_index in sorted(remainders, reverse=True)[:leftover]:
        shares[-negative_index] += 1
    return [sign * s for s in shares]


def parse_amount(text: str) -> int:
    """'$1,234.50' / '1234.5' / '12' → cents. Raises ValueError with a message a person can act on."""
    cleaned = (text or "").strip().replace("$", "").replace(",", "")
    if not cleaned:
        raise ValueError("Enter an amount.")
    try:
        value = Decimal(cleaned)
    except InvalidOperation as exc:
        raise ValueError("Enter an amount like 25 or 25.50.") from exc
    if not value.is_finite():
        raise ValueError("Enter an amount like 25 or 25.50.")
    if value.as_tuple().exponent < -2:
        raise ValueError("Amounts have at most two decimals (cents).")
    if value < 0:
        raise ValueError("Enter a positive amount.")
    if value > Decimal("1000000"):
        raise ValueError("That amount is too large.")
    return int(value * 100)


def parse_percent(text: str) -> Decimal:
    cleaned = (text or "").strip().rstrip("%").strip()
    try:
        value = Decimal(cleaned)
    except InvalidOperation as exc:
        raise ValueError("Enter a percentage like 10 or 12.5.") from exc
    if not value.is_finite() or value <= 0 or value > 100:
        raise ValueError("A percentage is more than 0 and at most 100.")
    if value.as_tuple().exponent < -2:
        raise ValueError("Percentages have at most two decimals.")
    return value


def format_cents(cents: int, currency: str = "usd") -> str:
    sign = "−" if cents < 0 else ""
    cents = abs(int(cents))
    symbol = "$" if currency.lower() == "usd" else f"{currency.upper()} "
    return f"{sign}{symbol}{cents // 100:,}.{cents % 100:02d}"
