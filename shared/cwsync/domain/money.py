"""Money arithmetic: exact decimals inside, rounding only at the edge."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# ISO 4217 currencies whose minor unit is not 2 decimals; every other code uses 2.
_CURRENCY_DECIMALS = {
    **dict.fromkeys(
        ["BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF",
         "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"], 0),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
}


def to_decimal(value: object) -> Decimal:
    """An exact Decimal from a string, int, float or Decimal; ValueError for anything else.

    Floats go through `str` so 0.1 becomes Decimal("0.1"), not its binary expansion.
    """
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{value!r} is not an amount")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, (int, float, str)):
        try:
            result = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a number") from None
    else:
        raise ValueError(f"{value!r} is not a number")
    if not result.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    return result


def currency_decimals(currency: str | None) -> int:
    return _CURRENCY_DECIMALS.get((currency or "").upper(), 2)


def round_money(amount: Decimal, currency: str | None = None) -> Decimal:
    """Round half-up to the currency's minor unit (2 decimals unless the currency says otherwise)."""
    exponent = Decimal(1).scaleb(-currency_decimals(currency))
    return to_decimal(amount).quantize(exponent, rounding=ROUND_HALF_UP)


def format_money(amount: Decimal, currency: str | None = None) -> str:
    """The JSON form of an amount: rounded, as a string, never exponent notation."""
    return f"{round_money(amount, currency):f}"


def format_quantity(quantity: Decimal) -> str:
    """'12' for whole quantities, '12.5' otherwise (quantities are not money: no rounding)."""
    quantity = to_decimal(quantity)
    if quantity == quantity.to_integral_value():
        return str(int(quantity))
    return f"{quantity.normalize():f}"


def _as_date(value: date | datetime) -> date:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc)
        return value.date()
    return value


def days_left(effective: date | datetime, period_start: date | datetime,
              period_end: date | datetime) -> tuple[int, int]:
    """(days the customer has the change in the period, days in the period).

    `period_end` is exclusive (the day the next period starts) and the effective day
    counts as a day of service: a change on 15 February 2028 in the period
    1 February – 1 March is 15 days of 29.
    """
    start, end, day = _as_date(period_start), _as_date(period_end), _as_date(effective)
    if end <= start:
        raise ValueError(f"Billing period {start} – {end} is empty")
    total = (end - start).days
    remaining = (end - max(day, start)).days
    return max(0, min(remaining, total)), total


def prorate(amount: Decimal, effective: date | datetime, period_start: date | datetime,
            period_end: date | datetime) -> Decimal:
    """amount × days left in the period from the effective date ÷ days in the period, unrounded."""
    remaining, total = days_left(effective, period_start, period_end)
    return to_decimal(amount) * remaining / total
