"""Marketplace orders → typed values, once, at the edge.

`order` reads a detailed order (`GET /orders/{id}`, stored with its task) into an `Order`, or
raises `InvalidOrder` naming the order and the field; `read_order` reads one for the check's
classification (`OrderReading`: the status apart, and what the `Order` cannot carry).
`order_summary` reads an entry of `GET /orders` (the check's list). A list entry without an
id cannot be an order's task: it is an `InvalidRecord`. Any other field cwsync cannot read
makes a summary whose `problem` names the order and the field, so that one order gets a
stated outcome and the check goes on. Fields cwsync does not read are ignored.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Mapping

from cwsync import dates
from cwsync.domain.models import BillingPeriod, Charge, Order, OrderLine, OrderReading, OrderSummary
from cwsync.domain.money import to_decimal
from cwsync.errors import InvalidOrder, InvalidRecord, shown
from cwsync.vocabulary import MONEY_FIELDS
from cwsync.vocabulary import MarketplaceRecord as Kind

SYSTEM = "The marketplace"
ORDER_FIX = "check the order in the marketplace and handle it by hand in ConnectWise"
NO_ID = "(no id)"


class _Unreadable(Exception):
    def __init__(self, field: str, problem: str):
        super().__init__(field, problem)
        self.field, self.problem = field, problem


def order_summary(raw: Any) -> OrderSummary:
    """An entry of `GET /orders`: id, orderNumber, type, status, statusCode, creationDate,
    customerId and subscriptionId (each optional but the id; `null` is missing)."""
    if not isinstance(raw, Mapping):
        raise InvalidRecord(SYSTEM, Kind.ORDER, NO_ID, "(record)", f"is {shown(raw)}, not an object", ORDER_FIX)
    try:
        order_id = _key(raw, "id")
    except _Unreadable as error:
        raise InvalidRecord(SYSTEM, Kind.ORDER, _listed_number(raw), error.field, error.problem, ORDER_FIX) from None
    if order_id is None:
        raise InvalidRecord(SYSTEM, Kind.ORDER, _listed_number(raw), "id", "is missing", ORDER_FIX)
    fields: dict[str, Any] = {}
    try:
        fields["number"] = _key(raw, "orderNumber")
        fields["type"] = _word(raw, "type")
        fields["status"] = _word(raw, "status")
        fields["status_code"] = _key(raw, "statusCode")
        fields["created_at"] = _time(raw, "creationDate")
        fields["customer_id"] = _key(raw, "customerId")
        fields["subscription_id"] = _key(raw, "subscriptionId")
    except _Unreadable as error:
        number = fields.get("number")
        label = f"{number} ({order_id})" if number and number != order_id else order_id
        reason = str(InvalidRecord(SYSTEM, Kind.ORDER, label, error.field, error.problem, ORDER_FIX))
        return OrderSummary(id=order_id, number=number, problem=reason)
    return OrderSummary(id=order_id, **fields)


def _listed_number(raw: Mapping) -> str:
    """How an entry without a readable id is named: by its number when it has one."""
    try:
        number = _key(raw, "orderNumber")
    except _Unreadable:
        number = None
    return f"{number} {NO_ID}" if number else NO_ID


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _key(raw: Mapping, field: str) -> str | None:
    """An identifier or number: text or a whole number, kept as text; None when missing or empty."""
    value = raw.get(field)
    if _missing(value):
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise _Unreadable(field, f"is {shown(value)}, not an identifier")
    return str(value).strip()


def _word(raw: Mapping, field: str) -> str | None:
    """A value from the API's list of words (`sales`, `completed`): text; None when missing."""
    value = raw.get(field)
    if _missing(value):
        return None
    if not isinstance(value, str):
        raise _Unreadable(field, f"is {shown(value)}, not text")
    return value.strip()


def _time(raw: Mapping, field: str) -> datetime | None:
    value = raw.get(field)
    if _missing(value):
        return None
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return dates.parse_datetime(value)
    except (ValueError, OverflowError):
        raise _Unreadable(field, f"is {shown(value)}, not an ISO 8601 date-time") from None


# --- the order detail (`GET /orders/{id}`) ---------------------------------------------------

def order(detail: Any) -> Order:
    """A detailed order, as the steps read it (stored with its task or fetched); InvalidOrder names
    the order and the field cwsync cannot read."""
    if not isinstance(detail, Mapping):
        raise InvalidOrder(f"The order is not a JSON object: {shown(detail)}")
    ref = _label(detail.get("orderNumber")) or _label(detail.get("id")) or "(no number)"
    try:
        return _parse_order(detail)
    except InvalidOrder as error:
        raise InvalidOrder(f"Order {ref}: {error}") from None


def read_order(detail: Any) -> OrderReading:
    """A detailed order as the check classifies it: its status apart from the rest (an unfinished
    order is judged by its status alone), and the parsed order or why it cannot be parsed."""
    if not isinstance(detail, Mapping):
        return OrderReading(number="(no number)", status=None, not_an_order="The order is not a JSON object")
    number = _label(detail.get("orderNumber")) or _label(detail.get("id")) or "(no number)"
    status, code = detail.get("status"), detail.get("statusCode")
    if status is not None and not isinstance(status, str):
        return OrderReading(number=number, status=None,
                            not_an_order=f"Order {number} has an unknown status {shown(status)}")
    try:
        parsed, problem = order(detail), None
    except InvalidOrder as error:
        parsed, problem = None, str(error)
    lines = detail.get("products") if isinstance(detail.get("products"), list) else []
    return OrderReading(number=number, status=status, status_code=_label(code) if code else None,
                        order=parsed, problem=problem,
                        unstated_quantities=frozenset(i for i, line in enumerate(lines)
                                                      if isinstance(line, Mapping) and "quantity" not in line))


def _label(value: Any) -> str | None:
    """An order number, id or status code as a reason names it."""
    if value is None or value == "":
        return None
    return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else shown(value)


INT32_MAX = 2**31 - 1  # the contract's durations are int32 (`Period.duration`, `Duration.duration` a double of one)


def is_duration(kind: str, number: Decimal) -> bool:
    """Whether `number` is a duration the marketplace can give a billing period of `kind`: a whole
    number within the contract's int32, at least 1 except for a `statement_day` period (a day, not a count)."""
    return number == number.to_integral_value() and (kind == "statement_day" or number >= 1) and number <= INT32_MAX


def billing_period(value: Any, where: str = "billingPeriod") -> BillingPeriod:
    """`billingPeriod` / `duration` objects: `{type, duration}`; InvalidOrder names what is wrong."""
    if not isinstance(value, Mapping):
        raise InvalidOrder(f"{where} is missing or not an object: {shown(value)}")
    kind, duration = value.get("type"), value.get("duration")
    if kind not in BillingPeriod.KNOWN_TYPES:
        raise InvalidOrder(
            f"{where} has an unknown billing period type {shown(kind)}; "
            f"expected one of {', '.join(BillingPeriod.KNOWN_TYPES)}")
    try:
        number = to_decimal(duration)
    except ValueError:
        raise InvalidOrder(f"{where} duration {shown(duration)} is not a number") from None
    if not is_duration(kind, number):
        raise InvalidOrder(f"{where} duration {shown(duration)} is not a positive whole number")
    return BillingPeriod(kind, int(number))


def _text(detail: Mapping, key: str, *, required: bool = True, where: str = "") -> str | None:
    """A text field of the order (or of its line or charge `where`, e.g. `products[0]`)."""
    value = detail.get(key)
    name = f"{where}.{key}" if where else key
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidOrder(f"{name} is missing")
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidOrder(f"{name} should be a string, got {shown(value)}")
    return str(value).strip()


def _datetime(value: Any, where: str) -> datetime:
    """ISO 8601 to an aware UTC datetime; a naive value is taken as UTC (the API's zone)."""
    if not isinstance(value, str):
        raise InvalidOrder(f"{where} should be an ISO 8601 date-time, got {shown(value)}")
    try:
        return dates.parse_datetime(value)
    except (ValueError, OverflowError):
        raise InvalidOrder(f"{where} {shown(value)} is not an ISO 8601 date-time") from None


def _money(value: Any, where: str) -> tuple[Decimal, str | None]:
    if not isinstance(value, Mapping):
        raise InvalidOrder(f"{where} should be an object with amount and currency, got {shown(value)}")
    try:
        amount = to_decimal(value.get("amount"))
    except ValueError:
        raise InvalidOrder(f"{where}.amount {shown(value.get('amount'))} is not a number") from None
    currency = value.get("currency")
    if currency is not None and not isinstance(currency, str):
        raise InvalidOrder(f"{where}.currency should be a currency code such as \"USD\", got {shown(currency)}")
    code = currency.strip().upper() if currency and currency.strip() else None
    if code is not None and not (len(code) == 3 and code.isascii() and code.isalpha()):
        raise InvalidOrder(f"{where}.currency {shown(currency)} is not a currency code (three letters, such as \"USD\")")
    return amount, code


def _quantity(value: Any, where: str) -> Decimal:
    try:
        quantity = to_decimal(value)
    except ValueError:
        raise InvalidOrder(f"{where} {shown(value)} is not a number") from None
    if quantity < 0:
        raise InvalidOrder(f"{where} {shown(value)} is negative")
    return quantity


def _parse_line(raw: Any, index: int) -> OrderLine:
    where = f"products[{index}]"
    if not isinstance(raw, Mapping):
        raise InvalidOrder(f"{where} is not an object")
    mpn = _text(raw, "mpn", required=False, where=where)
    if not mpn:
        raise InvalidOrder(f"{where} has no mpn (manufacturer part number)")
    period = raw.get("billingPeriod")
    return OrderLine(
        mpn=mpn,
        name=_text(raw, "name", required=False, where=where) or mpn,
        quantity=_quantity(raw.get("quantity", 0), f"{where}.quantity"),
        type=_text(raw, "type", required=False, where=where),
        subscription_id=_text(raw, "subscriptionId", required=False, where=where),
        billing_period=billing_period(period, f"{where}.billingPeriod") if period is not None else None,
        new_mpn=_text(raw, "newMPN", required=False, where=where),
        vendor=_text(raw, "vendor", required=False, where=where),
    )


def _parse_charge(raw: Any, index: int) -> tuple[Charge, set[str]]:
    where = f"details[{index}]"
    if not isinstance(raw, Mapping):
        raise InvalidOrder(f"{where} is not an object")
    amounts: dict[str, Decimal] = {}
    currencies: set[str] = set()
    for name in MONEY_FIELDS:
        if raw.get(name) is not None:
            amounts[name], currency = _money(raw[name], f"{where}.{name}")
            currencies.update([currency] if currency else [])
    duration = raw.get("duration")
    charge = Charge(
        type=_text(raw, "type", required=False, where=where) or "unknown",
        mpn=_text(raw, "mpn", required=False, where=where),
        description=_text(raw, "description", required=False, where=where) or "",
        quantity=_quantity(raw.get("quantity", 1), f"{where}.quantity"),
        currency="",
        amounts=amounts,
        duration=billing_period(duration, f"{where}.duration") if duration is not None else None,
    )
    return charge, currencies


def _optional_date(detail: Mapping, key: str) -> date | None:
    value = detail.get(key)
    return None if value in (None, "") else _datetime(value, key).date()


def _parse_order(detail: Mapping) -> Order:
    number = _text(detail, "orderNumber")
    customer_id = _text(detail, "customerId")
    order_type = _text(detail, "type")
    status = _text(detail, "status")
    order_id = _text(detail, "id")
    created_at = _datetime(detail.get("creationDate"), "creationDate")
    provisioned = detail.get("provisioningDate")
    provisioned_at = _datetime(provisioned, "provisioningDate") if provisioned else None

    raw_lines = [] if detail.get("products") is None else detail["products"]  # "" or {} is not "no lines"
    raw_charges = [] if detail.get("details") is None else detail["details"]
    for key, value in (("products", raw_lines), ("details", raw_charges)):
        if not isinstance(value, list):
            raise InvalidOrder(f"{key} should be a list, got {shown(value)}")
    lines = tuple(_parse_line(raw, i) for i, raw in enumerate(raw_lines))

    currencies: set[str] = set()
    total = None
    if detail.get("total") is not None:
        total, total_currency = _money(detail["total"], "total")
        currencies.update([total_currency] if total_currency else [])
    parsed = [_parse_charge(raw, i) for i, raw in enumerate(raw_charges)]
    for _, charge_currencies in parsed:
        currencies |= charge_currencies
    if len(currencies) > 1:
        raise InvalidOrder(f"mixes currencies {', '.join(sorted(currencies))}; "
                           "an agreement bills in one currency")
    if not currencies:
        raise InvalidOrder("names no currency (neither total nor any charge line has one)")
    currency = currencies.pop()
    charges = tuple(replace(c, currency=currency) for c, _ in parsed)

    periods = {line.billing_period for line in lines if line.is_recurring and line.billing_period}
    if len(periods) > 1:
        raise InvalidOrder(
            f"its product lines bill on different periods ({', '.join(sorted(map(str, periods)))}); "
            "one order must fit one agreement billing cycle")

    subscription_id = _text(detail, "subscriptionId", required=False)
    if subscription_id is None:
        line_subscriptions = {line.subscription_id for line in lines if line.subscription_id}
        if len(line_subscriptions) == 1:
            subscription_id = line_subscriptions.pop()

    period_start, period_end = _optional_date(detail, "lastBillingDate"), _optional_date(detail, "nextBillingDate")
    if period_start and period_end and period_end <= period_start:
        raise InvalidOrder(f"nextBillingDate {period_end} is not after lastBillingDate {period_start}")

    return Order(
        id=order_id, number=number, type=order_type, customer_id=customer_id,
        created_at=created_at, status=status, currency=currency,
        subscription_id=subscription_id,
        billing_period=periods.pop() if periods else None,
        billing_model=_text(detail, "billingModel", required=False),
        lines=lines, charges=charges, provisioned_at=provisioned_at,
        period_start=period_start if period_end else None,
        period_end=period_end if period_start else None,
        total=total,
    )
