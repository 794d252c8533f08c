"""Money rules: exact decimals, half-up rounding to the currency, proration by days."""
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from cwsync.domain.models import BillingPeriod
from cwsync.domain.money import format_quantity, prorate, round_money, to_decimal


@pytest.mark.parametrize("raw, expected", [
    ("6.00", Decimal("6.00")),
    (" 12.345 ", Decimal("12.345")),
    (0.1, Decimal("0.1")),          # through str: not 0.1000000000000000055…
    (7, Decimal("7")),
    (Decimal("1.50"), Decimal("1.50")),
])
def test_amounts_are_read_exactly(raw, expected):
    assert to_decimal(raw) == expected
    assert str(to_decimal(raw)) == str(expected)


@pytest.mark.parametrize("raw", ["abc", "", None, True, "NaN", "Infinity", [1]])
def test_what_is_not_an_amount_is_refused(raw):
    with pytest.raises(ValueError):
        to_decimal(raw)


@pytest.mark.parametrize("amount, currency, expected", [
    ("2.345", "USD", "2.35"),       # half-up, not banker's rounding
    ("2.344", "USD", "2.34"),
    ("-2.345", "EUR", "-2.35"),     # half away from zero for credits too
    ("2.5", None, "2.50"),          # unknown currency: two decimals
    ("1234.5", "JPY", "1235"),
    ("1.2345", "KWD", "1.235"),
])
def test_money_is_rounded_half_up_to_the_currency_decimals(amount, currency, expected):
    assert str(round_money(Decimal(amount), currency)) == expected


@pytest.mark.parametrize("amount, effective, start, end, expected", [
    # 15 February: 15 of 29 days in a leap year, 14 of 28 in a common year (the effective day counts).
    ("29.00", date(2028, 2, 15), date(2028, 2, 1), date(2028, 3, 1), Decimal("15")),
    ("28.00", date(2026, 2, 15), date(2026, 2, 1), date(2026, 3, 1), Decimal("14")),
    # Annual period: 321 of 366 days in 2028, 320 of 365 in 2026.
    ("366.00", date(2028, 2, 15), date(2028, 1, 1), date(2029, 1, 1), Decimal("321")),
    ("365.00", date(2026, 2, 15), date(2026, 1, 1), date(2027, 1, 1), Decimal("320")),
    # Before the period starts: the whole period; on or after its end: nothing.
    ("30.00", date(2026, 3, 20), date(2026, 4, 1), date(2026, 5, 1), Decimal("30")),
    ("30.00", date(2026, 5, 1), date(2026, 4, 1), date(2026, 5, 1), Decimal("0")),
])
def test_prorate_charges_the_days_left_in_the_period(amount, effective, start, end, expected):
    assert prorate(Decimal(amount), effective, start, end) == expected


@pytest.mark.parametrize("effective, start, end, rounded", [
    (date(2028, 2, 15), date(2028, 2, 1), date(2028, 3, 1), "5.17"),   # 10 × 15/29
    (date(2026, 2, 15), date(2026, 2, 1), date(2026, 3, 1), "5.00"),   # 10 × 14/28
    (date(2028, 2, 15), date(2028, 1, 1), date(2029, 1, 1), "8.77"),   # 10 × 321/366
    (date(2026, 2, 15), date(2026, 1, 1), date(2027, 1, 1), "8.77"),   # 10 × 320/365
])
def test_prorate_is_unrounded_until_the_edge(effective, start, end, rounded):
    raw = prorate(Decimal("10.00"), effective, start, end)
    assert str(round_money(raw, "USD")) == rounded


def test_prorate_accepts_aware_datetimes_and_uses_their_utc_day():
    effective = datetime(2028, 2, 15, 23, 30, tzinfo=timezone.utc)
    assert prorate(Decimal("29"), effective, date(2028, 2, 1), date(2028, 3, 1)) == Decimal("15")


def test_an_empty_period_is_refused():
    with pytest.raises(ValueError, match="empty"):
        prorate(Decimal("1"), date(2026, 1, 1), date(2026, 2, 1), date(2026, 2, 1))


@pytest.mark.parametrize("period, day, expected", [
    (BillingPeriod("month", 1), date(2028, 2, 15), (date(2028, 2, 1), date(2028, 3, 1))),
    (BillingPeriod("month", 1), date(2026, 12, 31), (date(2026, 12, 1), date(2027, 1, 1))),
    (BillingPeriod("month", 3), date(2026, 2, 15), (date(2026, 1, 1), date(2026, 4, 1))),
    (BillingPeriod("month", 3), date(2026, 11, 2), (date(2026, 10, 1), date(2027, 1, 1))),
    (BillingPeriod("month", 6), date(2026, 8, 1), (date(2026, 7, 1), date(2027, 1, 1))),
    (BillingPeriod("year", 1), date(2028, 2, 15), (date(2028, 1, 1), date(2029, 1, 1))),
    (BillingPeriod("statement_day", 15), date(2026, 2, 15), (date(2026, 2, 1), date(2026, 3, 1))),
])
def test_a_billing_period_without_stated_dates_is_the_calendar_period(period, day, expected):
    assert period.period_containing(day) == expected


@pytest.mark.parametrize("quantity, expected", [
    (Decimal("12"), "12"), (Decimal("12.0"), "12"), (Decimal("12.50"), "12.5"), (Decimal("1E+1"), "10"),
])
def test_quantities_print_without_trailing_zeros(quantity, expected):
    assert format_quantity(quantity) == expected
