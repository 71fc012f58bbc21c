"""The one rounding rule (cinrella.money) and the sale arithmetic (checkout.pricing), by hand-computed
examples and by properties that must hold for every input."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checkout import pricing
from checkout.pricing import AMOUNT, PERCENT, DiscountIn, LineIn
from cinrella.money import allocate, format_cents, parse_amount, parse_percent, percent_of


@pytest.mark.parametrize(
    ("cents", "percent", "expected"),
    [
        (4320, "7.75", 335),  # 334.80 → 335
        (4300, "7.75", 333),  # 333.25 → 333
        (200, "7.75", 16),  # 15.50 → 16: halves go up
        (100, "0.5", 1),  # 0.5 → 1
        (33600, "10", 3360),
        (0, "7.75", 0),
        (-200, "7.75", -16),  # halves away from zero for refunds too
    ],
)
def test_percent_rounds_half_up_once(cents, percent, expected):
    assert percent_of(cents, percent) == expected


def test_allocation_gives_leftover_cents_to_largest_remainders_then_earlier_parts():
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate(10, [3, 3, 4]) == [3, 3, 4]
    assert allocate(1, [1, 2]) == [0, 1]
    assert allocate(-100, [1, 1, 1]) == [-34, -33, -33]
    assert allocate(5, [0, 0]) == [3, 2]
    assert allocate(0, []) == []


@settings(deadline=None)  # a busy 2-core machine: no per-example time limit
@given(total=st.integers(-(10**7), 10**7), weights=st.lists(st.integers(0, 10**6), min_size=1, max_size=12))
def test_allocation_always_adds_up_exactly(total, weights):
    parts = allocate(total, weights)
    assert sum(parts) == total
    assert len(parts) == len(weights)
    if total >= 0 and sum(weights):
        for part, weight in zip(parts, weights, strict=True):
            exact = Decimal(total) * weight / sum(weights)
            assert abs(part - exact) < 1


@pytest.mark.parametrize(
    ("text", "cents"), [("12", 1200), ("$1,234.50", 123450), ("0.5", 50), (" 7.05 ", 705), ("0", 0)]
)
def test_amounts_typed_in_dollars_become_cents(text, cents):
    assert parse_amount(text) == cents


@pytest.mark.parametrize("text", ["", "abc", "1.234", "-5", "1e9", "NaN"])
def test_bad_amounts_are_refused_with_a_message(text):
    with pytest.raises(ValueError, match="."):
        parse_amount(text)


def test_percentages_between_0_and_100():
    assert parse_percent("12.5%") == Decimal("12.5")
    for bad in ("0", "101", "x", "-3", "inf"):
        with pytest.raises(ValueError):
            parse_percent(bad)


def test_money_is_formatted_with_a_real_minus():
    assert format_cents(123456) == "$1,234.56"
    assert format_cents(-5) == "−$0.05"


def test_the_issue_example_by_hand():
    """24 units × $14 + a $48 serum, 10% member discount, California tax 7.75% on retail only,
    a $60 tip: 302.40 + 43.20 + 3.35 + 60.00 = 408.95."""
    totals = pricing.price_sale(
        [
            LineIn(key="tox", quantity=24, unit_price_cents=1400, member_percent=Decimal(10)),
            LineIn(key="serum", quantity=1, unit_price_cents=4800, taxable=True, member_percent=Decimal(10)),
        ],
        tax_rate=Decimal("7.75"),
        tips=[6000],
    )
    assert totals.lines["tox"].net_cents == 30240
    assert totals.lines["serum"].net_cents == 4320
    assert totals.lines["serum"].tax_cents == 335  # 43.20 × 7.75% = 3.348 → 3.35
    assert totals.lines["tox"].tax_cents == 0  # services are not taxed
    assert (totals.subtotal_cents, totals.member_discount_cents, totals.tax_cents) == (38400, 3840, 335)
    assert totals.total_cents == 40895


def test_sale_discount_is_spread_over_lines_and_reduces_the_taxed_amount():
    totals = pricing.price_sale(
        [
            LineIn(key="a", quantity=1, unit_price_cents=10000),
            LineIn(key="b", quantity=1, unit_price_cents=5000, taxable=True),
            LineIn(key="gift", quantity=1, unit_price_cents=5000, discountable=False),
        ],
        [DiscountIn(key=1, kind=AMOUNT, value=1000)],
        tax_rate=Decimal("7.75"),
    )
    assert totals.lines["a"].discount_cents == 667  # 1000 × 2/3 = 666.67 → 667 (largest remainder)
    assert totals.lines["b"].discount_cents == 333
    assert totals.lines["gift"].discount_cents == 0  # a gift card is never discounted
    assert totals.taxable_cents == 4667
    assert totals.tax_cents == 362  # 46.67 × 7.75% = 3.6169 → 3.62
    assert totals.discounts == {1: 1000}


def test_line_discount_then_percent_sale_discount_on_what_is_left():
    totals = pricing.price_sale(
        [LineIn(key="a", quantity=2, unit_price_cents=2500), LineIn(key="b", quantity=1, unit_price_cents=1000)],
        [DiscountIn(key=1, kind=AMOUNT, value=1000, line_key="a"), DiscountIn(key=2, kind=PERCENT, value=Decimal(15))],
    )
    # a: 5000 − 1000 = 4000; sale 15% of (4000 + 1000) = 750 → a 600, b 150
    assert totals.discounts == {1: 1000, 2: 750}
    assert totals.lines["a"].net_cents == 3400
    assert totals.lines["b"].net_cents == 850


def test_a_discount_bigger_than_the_sale_takes_only_what_is_there():
    totals = pricing.price_sale(
        [LineIn(key="a", quantity=1, unit_price_cents=500)], [DiscountIn(key=1, kind=AMOUNT, value=900)]
    )
    assert totals.lines["a"].net_cents == 0
    assert totals.discounts == {1: 500}


lines_strategy = st.lists(
    st.builds(
        LineIn,
        key=st.uuids(),
        quantity=st.integers(1, 40),
        unit_price_cents=st.integers(0, 200_000),
        taxable=st.booleans(),
        discountable=st.booleans(),
        member_percent=st.sampled_from([Decimal(0), Decimal(10), Decimal("12.5"), Decimal(100)]),
    ),
    min_size=1,
    max_size=8,
)


@settings(deadline=None)
@given(
    lines=lines_strategy,
    percent=st.decimals(min_value=Decimal("0.01"), max_value=Decimal(100), places=2),
    amount=st.integers(0, 500_000),
    rate=st.decimals(min_value=Decimal(0), max_value=Decimal("12.5"), places=4),
    tips=st.lists(st.integers(0, 50_000), max_size=3),
)
def test_every_sale_adds_up(lines, percent, amount, rate, tips):
    totals = pricing.price_sale(
        lines,
        [DiscountIn(key="p", kind=PERCENT, value=percent), DiscountIn(key="a", kind=AMOUNT, value=amount)],
        rate,
        tips,
    )
    for line in totals.lines.values():
        assert 0 <= line.net_cents <= line.gross_cents
        assert line.tax_cents >= 0
    assert totals.net_cents == totals.subtotal_cents - totals.member_discount_cents - totals.discount_cents
    assert totals.discount_cents == sum(totals.discounts.values())
    assert totals.tax_cents == percent_of(totals.taxable_cents, rate)
    assert totals.total_cents == totals.net_cents + totals.tax_cents + sum(tips)
    untaxed = [line.key for line in lines if not line.taxable]
    assert all(totals.lines[key].tax_cents == 0 for key in untaxed)
