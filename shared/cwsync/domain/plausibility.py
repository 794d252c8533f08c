"""Plausibility rules for money, quantities and dates: what no invoice should carry.

Each rule is a named function returning `Problem`s whose reason names the field in a
billing person's words. The same rules check a marketplace order before it becomes a
task (`order_problems`) and an approver's edit on the confirm page (`edit_problems`).
Nothing here raises Python's decimal errors: a value that is not a plain finite number is
a `Problem` like any other.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable, Mapping

from cwsync.domain.models import BillingPeriod, Order, OrderSummary
from cwsync.domain.money import currency_decimals
from cwsync.vocabulary import DEFAULT_PRICE_FIELD, MONEY_FIELDS, ChargeType, OrderType, TaskType

# Charge line types that are credits: the only ones whose amounts may be negative.
CREDIT_CHARGE_TYPES = frozenset({ChargeType.DOWNGRADE, ChargeType.DISCOUNT, ChargeType.ADJUSTMENT, ChargeType.REFUND,
                                 ChargeType.CREDIT})
# Charge line types the plans bill from: each needs the customer price (a missing one is not 0.00).
BILLED_CHARGE_TYPES = frozenset({ChargeType.SETUP, ChargeType.RECURRING, ChargeType.RENEW, ChargeType.OVERUSE,
                                 ChargeType.CANCELLATION, ChargeType.SWITCH})
# Order types whose product lines may say 0 (a cancellation ends at 0; usage may be 0).
ZERO_QUANTITY_TASKS = frozenset({TaskType.CANCELLATION, TaskType.BILLING})
# Unit prices may be finer than the currency (0.0125 per GB): this many more decimals.
UNIT_PRICE_EXTRA_DECIMALS = 4
FIELD_NAMES = {"quantity": "quantity", "unitPrice": "unit price", "unitCost": "unit cost",
               "amount": "amount", "price": "price", "cost": "cost", "description": "description",
               "salesUnitPrice": "sales unit price", "extendedPrice": "extended price",
               "salesExtendedPrice": "sales extended price"}


@dataclass(frozen=True)
class Limits:
    """The sane maxima (settings MAX_QUANTITY, MAX_QUANTITY_BY_PRODUCT, MAX_PRICE_DIGITS,
    EFFECTIVE_DATE_WINDOW_DAYS)."""

    max_quantity: int = 10000
    max_quantity_by_product: Mapping[str, int] = field(default_factory=dict)
    max_price_digits: int = 9  # digits before the decimal point: up to 999,999,999
    effective_date_window_days: int = 92

    def quantity_limit(self, mpn: object) -> int:
        wanted = str(mpn if mpn is not None else "").strip().casefold()  # an MPN may come as a number
        for key, value in self.max_quantity_by_product.items():
            if key.strip().casefold() == wanted:
                return int(value)
        return self.max_quantity


@dataclass(frozen=True)
class Problem:
    rule: str    # the rule's name, e.g. "quantity-whole"
    field: str   # where: "products[0].quantity", or an operation key and field
    reason: str  # a sentence naming the field and what to fix

    def __str__(self) -> str:
        return self.reason


# --- the rules ---------------------------------------------------------------------------

def number(value: Any) -> Decimal | None:
    """A Decimal for a plain finite number (int, str, Decimal, float), else None; never raises."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float):
        value = repr(value)
    if not isinstance(value, (int, str, Decimal)):
        return None
    try:
        result = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return result if result.is_finite() else None


def _shown(value: Any) -> str:
    """A value in a reason: text and amounts quoted ('6.00'), whole numbers as they are."""
    text = f"'{value}'" if isinstance(value, (str, Decimal)) else repr(value)
    return text if len(text) <= 40 else text[:37] + "…'"


def _digits(amount: Decimal) -> int:
    """Digits before the decimal point (0 for 0.5)."""
    exponent = amount.adjusted()
    return max(0, exponent + 1)


def _decimals(amount: Decimal) -> int:
    exponent = amount.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def check_quantity(value: Any, where: str, *, allow_zero: bool = False, maximum: int = 10000,
                   whole: bool = True) -> list[Problem]:
    """Rules quantity-missing, quantity-number, quantity-whole, quantity-positive, quantity-maximum."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return [Problem("quantity-missing", where, f"{where} is missing; a missing quantity is never taken as 0")]
    amount = number(value)
    if amount is None:
        return [Problem("quantity-number", where, f"{where} {_shown(value)} is not a plain finite number")]
    if amount.is_signed() and not (allow_zero and amount == 0):
        return [Problem("quantity-positive", where, f"{where} {_shown(value)} is negative; "
                                                    "a quantity must be more than 0")]
    if whole and amount != amount.to_integral_value():
        return [Problem("quantity-whole", where, f"{where} {_shown(value)} is not a whole number; "
                                                 "licences are counted in whole units")]
    if amount == 0 and not allow_zero:
        return [Problem("quantity-positive", where, f"{where} is 0; this order type needs a quantity of 1 or more")]
    if amount > maximum:
        return [Problem("quantity-maximum", where, f"{where} {_shown(value)} is more than the maximum of "
                                                   f"{maximum} (setting MAX_QUANTITY or MAX_QUANTITY_BY_PRODUCT)")]
    return []


def check_amount(value: Any, where: str, currency: str | None, *, allow_negative: bool = False,
                 max_digits: int = 9, unit: bool = True, required: bool = True) -> list[Problem]:
    """Rules price-missing, price-number, price-digits, price-decimals, price-negative."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if not required:
            return []
        return [Problem("price-missing", where, f"{where} is missing; a missing price is never billed as 0.00")]
    amount = number(value)
    if amount is None:
        return [Problem("price-number", where, f"{where} {_shown(value)} is not a plain finite number")]
    if _digits(amount) > max_digits:
        return [Problem("price-digits", where, f"{where} {_shown(value)} has more than {max_digits} digits before "
                                               "the decimal point (setting MAX_PRICE_DIGITS)")]
    decimals = currency_decimals(currency) + (UNIT_PRICE_EXTRA_DECIMALS if unit else 0)
    if _decimals(amount.normalize() if amount else amount) > decimals:
        return [Problem("price-decimals", where, f"{where} {_shown(value)} has more than {decimals} decimals "
                                                 f"for {currency or 'the currency'}")]
    if amount.is_signed() and not allow_negative:
        return [Problem("price-negative", where, f"{where} {_shown(value)} is negative; only a credit may be")]
    return []


def check_period(period: BillingPeriod | None, where: str) -> list[Problem]:
    """Rule period-duration: a billing period lasts a whole number of 1 or more (a statement day 1 to 31)."""
    if period is None:
        return []
    top = 31 if period.type == "statement_day" else 120
    if not 1 <= period.duration <= top:
        return [Problem("period-duration", f"{where}.duration",
                        f"{where}.duration {_shown(period.duration)} is not a whole number from 1 to {top}")]
    return []


def check_effective_date(effective: datetime | None, ordered: datetime | None, where: str,
                         window_days: int) -> list[Problem]:
    """Rule effective-date-window: the effective date lies within the window around the order date."""
    if effective is None or ordered is None:
        return []
    window = timedelta(days=window_days)
    if abs(effective - ordered) > window:
        return [Problem("effective-date-window", where,
                        f"{where} {effective.date()} is more than {window_days} days from the order date "
                        f"{ordered.date()} (setting EFFECTIVE_DATE_WINDOW_DAYS); it cannot be the effective date")]
    return []


class DuplicateOrders:
    """Rule duplicate-order: two different orders under one id or one order number are flagged.

    The same order listed twice (same id, number, type and creation time: offset paging
    repeats rows) is not a duplicate. `add` returns {order id: reason} of the orders newly
    flagged by this summary; both orders of a pair are flagged, so neither is silently
    merged into the other.
    """

    def __init__(self) -> None:
        self.by_id: dict[str, tuple[str, str, str]] = {}  # id → (number, creation time, type)
        self.by_number: dict[str, str] = {}

    def add(self, summary: OrderSummary) -> dict[str, str]:
        flagged: dict[str, str] = {}
        order_id = summary.id
        number_ = summary.number or ""
        identity = (number_, summary.created_at.isoformat() if summary.created_at else "", summary.type or "")
        seen = self.by_id.setdefault(order_id, identity)
        if seen != identity:
            flagged[order_id] = (f"Two different marketplace orders carry the id {order_id} "
                                 f"({seen[0] or 'no number'} and {number_ or 'no number'}); neither is synced "
                                 "automatically: check the orders in the marketplace and sync them by hand")
        other = self.by_number.setdefault(number_, order_id) if number_ else order_id
        if other != order_id:
            reason = (f"The order number {number_} is carried by two marketplace orders ({other} and {order_id}); "
                      "neither is synced automatically: check the orders in the marketplace")
            flagged.setdefault(order_id, reason)
            flagged.setdefault(other, reason)
        return flagged


def duplicate_orders(summaries: Iterable[OrderSummary]) -> dict[str, str]:
    """{order id: reason} of every flagged order among `summaries` (see DuplicateOrders)."""
    rule, flagged = DuplicateOrders(), {}
    for summary in summaries:
        for order_id, reason in rule.add(summary).items():
            flagged.setdefault(order_id, reason)
    return flagged


# --- orders ------------------------------------------------------------------------------

def order_problems(order: Order, task_type: str, *, price_field: str = DEFAULT_PRICE_FIELD,
                   limits: Limits = Limits(), unstated_quantities: Iterable[int] = ()) -> list[Problem]:
    """Every plausibility problem of a detailed marketplace order (empty: it may be synced).

    `unstated_quantities`: product lines (by index) whose quantity the marketplace left out."""
    problems: list[Problem] = []
    unstated = set(unstated_quantities)
    allow_zero = str(task_type) in ZERO_QUANTITY_TASKS or order.type == OrderType.CANCELLATION
    for index, line in enumerate(order.lines):
        where = f"products[{index}]"
        label = f"{where}.quantity ({line.name})" if line.name else f"{where}.quantity"
        problems += check_quantity(None if index in unstated else line.quantity, label,
                                   allow_zero=allow_zero or line.type == "CANCEL",
                                   maximum=limits.quantity_limit(line.new_mpn or line.mpn))
        problems += check_period(line.billing_period, f"{where}.billingPeriod")
    for index, charge in enumerate(order.charges):
        where = f"details[{index}]"
        credit = charge.type in CREDIT_CHARGE_TYPES
        problems += check_quantity(charge.quantity, f"{where}.quantity ({charge.type} charge)", allow_zero=True,
                                   maximum=10 ** limits.max_price_digits, whole=False)
        for name in MONEY_FIELDS:
            required = name == price_field and charge.type in BILLED_CHARGE_TYPES
            problems += check_amount(charge.amount(name), f"{where}.{name} ({charge.type} charge)", order.currency,
                                     allow_negative=credit, max_digits=limits.max_price_digits, required=required)
        problems += check_period(charge.duration, f"{where}.duration")
    problems += check_amount(order.total, "total.amount", order.currency, allow_negative=True,
                             max_digits=limits.max_price_digits, required=False)
    problems += check_effective_date(order.provisioned_at, order.created_at, "provisioningDate",
                                     limits.effective_date_window_days)
    return problems


# --- approver edits ------------------------------------------------------------------------

def edit_problems(action: str, field_name: str, text: str, *, currency: str | None, current: Any = None,
                  mpn: str | None = None, where: str | None = None, limits: Limits = Limits()) -> list[Problem]:
    """The rules for one value an approver typed on the confirm page."""
    where = where or FIELD_NAMES.get(field_name, field_name)
    if field_name == "quantity":
        return check_quantity(text, where, maximum=limits.quantity_limit(mpn))
    if field_name in ("unitPrice", "unitCost", "price", "cost", "amount"):
        was = number(current)
        # An adjustment that credits (a negative amount) may stay a credit; nothing else turns negative.
        credit = field_name == "amount" and was is not None and was < 0
        return check_amount(text, where, currency, allow_negative=credit, max_digits=limits.max_price_digits,
                            unit=field_name != "amount")
    return []
