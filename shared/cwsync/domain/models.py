"""What a detailed marketplace order says, as plain typed values.

`Order.from_api` is the only place that reads the marketplace's order JSON; everything
after it works on these values. It raises `InvalidOrder` with a message a billing person
can act on.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any, Mapping

from cwsync import dates
from cwsync.errors import InvalidOrder, shown
from cwsync.domain.money import to_decimal
from cwsync.vocabulary import MONEY_FIELDS


@dataclass(frozen=True)
class BillingPeriod:
    """How often a subscription bills: `month`×1, `month`×3, `year`×1, `statement_day`…"""

    type: str
    duration: int

    KNOWN_TYPES = ("day", "month", "year", "statement_day")

    @classmethod
    def from_api(cls, value: Any, where: str = "billingPeriod") -> BillingPeriod:
        if not isinstance(value, Mapping):
            raise InvalidOrder(f"{where} is missing or not an object: {shown(value)}")
        kind, duration = value.get("type"), value.get("duration")
        if kind not in cls.KNOWN_TYPES:
            raise InvalidOrder(
                f"{where} has an unknown billing period type {shown(kind)}; "
                f"expected one of {', '.join(cls.KNOWN_TYPES)}")
        try:
            number = to_decimal(duration)
        except ValueError:
            raise InvalidOrder(f"{where} duration {shown(duration)} is not a number") from None
        if number != number.to_integral_value() or (kind != "statement_day" and number < 1):
            raise InvalidOrder(f"{where} duration {shown(duration)} is not a positive whole number")
        return cls(kind, int(number))

    @property
    def months(self) -> int:
        """Length in months; a statement-day period bills monthly on a fixed day."""
        if self.type == "month":
            return self.duration
        if self.type == "year":
            return 12 * self.duration
        if self.type == "statement_day":
            return 1
        raise ValueError(f"A {self} period is not a whole number of months")

    def period_containing(self, day: date) -> tuple[date, date]:
        """Calendar-aligned period [start, end) holding `day` (months, quarters, half-years, years).

        Used when the order does not state its billing dates: ConnectWise agreements bill
        on calendar cycles, so that is the period a billing person prorates against.
        """
        months = self.months
        index = (day.year * 12 + day.month - 1) // months * months
        start = date(index // 12, index % 12 + 1, 1)
        end_index = index + months
        return start, date(end_index // 12, end_index % 12 + 1, 1)

    def __str__(self) -> str:
        return f"{self.type}×{self.duration}"


@dataclass(frozen=True)
class CustomerRecord:
    """A marketplace customer (`GET /customers/{id}`): what customer matching reads, and the
    address and contact a new ConnectWise company is filled in from."""

    id: str
    name: str | None = None
    external_id: str | None = None  # externalId
    street: str | None = None  # address.streetAddress
    street_extra: str | None = None  # address.addressExtension
    postal_code: str | None = None  # address.postalCode
    city: str | None = None
    state: str | None = None
    country_code: str | None = None  # address.countryCode ("US")
    phone: str | None = None  # the first contact person's phoneNumber
    website: str | None = None  # attributes.website, where the marketplace keeps one


@dataclass(frozen=True)
class OrderSummary:
    """An order as the marketplace lists it (`GET /orders`, no products or charges): what the
    check reads before it asks for an order's detail. Fields the list leaves out are None."""

    id: str
    number: str | None = None  # orderNumber
    type: str | None = None
    status: str | None = None
    status_code: str | None = None  # statusCode, e.g. why an order ended in error
    created_at: datetime | None = None  # creationDate
    customer_id: str | None = None
    subscription_id: str | None = None
    problem: str | None = None  # set when a field cannot be read: the reason, naming the field

    @property
    def label(self) -> str:
        """How reasons name the order: its number, else its id."""
        return self.number or self.id


@dataclass(frozen=True)
class OrderLine:
    """A product line of the order (`products[]`): what the subscription is made of."""

    mpn: str
    name: str
    quantity: Decimal
    type: str | None
    subscription_id: str | None
    billing_period: BillingPeriod | None
    new_mpn: str | None = None
    vendor: str | None = None

    @property
    def is_recurring(self) -> bool:
        return self.type not in ("ONE_TIME_FEE",)


@dataclass(frozen=True)
class Charge:
    """A charge line of the order (`details[]`): money the marketplace billed for it."""

    type: str
    mpn: str | None
    description: str
    quantity: Decimal
    currency: str
    amounts: Mapping[str, Decimal] = field(default_factory=dict)
    duration: BillingPeriod | None = None

    def amount(self, field_name: str) -> Decimal | None:
        """The per-unit or extended amount named by its marketplace field (`unitPrice`, …)."""
        return self.amounts.get(field_name)


@dataclass(frozen=True)
class Order:
    id: str
    number: str
    type: str
    customer_id: str
    created_at: datetime
    status: str
    currency: str
    subscription_id: str | None
    billing_period: BillingPeriod | None
    billing_model: str | None
    lines: tuple[OrderLine, ...]
    charges: tuple[Charge, ...]
    provisioned_at: datetime | None = None
    period_start: date | None = None
    period_end: date | None = None
    total: Decimal | None = None

    @property
    def effective_date(self) -> datetime:
        """Midnight UTC of the day the order took effect (provisioned, else created)."""
        when = self.provisioned_at or self.created_at
        return datetime.combine(when.date(), time(), tzinfo=timezone.utc)

    @property
    def recurring_lines(self) -> tuple[OrderLine, ...]:
        return tuple(line for line in self.lines if line.is_recurring)

    def charges_of(self, *types: str, mpn: str | None = None) -> list[Charge]:
        return [c for c in self.charges if c.type in types
                and (mpn is None or (c.mpn or "").casefold() == mpn.casefold())]

    @classmethod
    def from_api(cls, detail: Any) -> Order:
        """Parse a detailed order (`GET /orders/{id}`); InvalidOrder names what is wrong."""
        if not isinstance(detail, Mapping):
            raise InvalidOrder(f"The order is not a JSON object: {shown(detail)}")
        ref = detail.get("orderNumber") or detail.get("id") or "(no number)"
        try:
            return _parse_order(detail)
        except InvalidOrder as error:
            raise InvalidOrder(f"Order {ref}: {error}") from None


def _text(detail: Mapping, key: str, *, required: bool = True) -> str | None:
    value = detail.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidOrder(f"{key} is missing")
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidOrder(f"{key} should be a string, got {shown(value)}")
    return str(value).strip()


def parse_datetime(value: Any, where: str) -> datetime:
    """ISO 8601 to an aware UTC datetime; a naive value is taken as UTC (the API's zone)."""
    if not isinstance(value, str):
        raise InvalidOrder(f"{where} should be an ISO 8601 date-time, got {shown(value)}")
    try:
        return dates.parse_datetime(value)
    except ValueError:
        raise InvalidOrder(f"{where} {shown(value)} is not an ISO 8601 date-time") from None


def _money(value: Any, where: str) -> tuple[Decimal, str | None]:
    if not isinstance(value, Mapping):
        raise InvalidOrder(f"{where} should be an object with amount and currency, got {shown(value)}")
    try:
        amount = to_decimal(value.get("amount"))
    except ValueError:
        raise InvalidOrder(f"{where}.amount {shown(value.get('amount'))} is not a number") from None
    currency = value.get("currency")
    return amount, (currency.strip().upper() if isinstance(currency, str) and currency.strip() else None)


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
    mpn = _text(raw, "mpn", required=False)
    if not mpn:
        raise InvalidOrder(f"{where} has no mpn (manufacturer part number)")
    period = raw.get("billingPeriod")
    return OrderLine(
        mpn=mpn,
        name=_text(raw, "name", required=False) or mpn,
        quantity=_quantity(raw.get("quantity", 0), f"{where}.quantity"),
        type=_text(raw, "type", required=False),
        subscription_id=_text(raw, "subscriptionId", required=False),
        billing_period=BillingPeriod.from_api(period, f"{where}.billingPeriod") if period is not None else None,
        new_mpn=_text(raw, "newMPN", required=False),
        vendor=_text(raw, "vendor", required=False),
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
        type=_text(raw, "type", required=False) or "unknown",
        mpn=_text(raw, "mpn", required=False),
        description=_text(raw, "description", required=False) or "",
        quantity=_quantity(raw.get("quantity", 1), f"{where}.quantity"),
        currency="",
        amounts=amounts,
        duration=BillingPeriod.from_api(duration, f"{where}.duration") if duration is not None else None,
    )
    return charge, currencies


def _optional_date(detail: Mapping, key: str) -> date | None:
    value = detail.get(key)
    return None if value in (None, "") else parse_datetime(value, key).date()


def _parse_order(detail: Mapping) -> Order:
    number = _text(detail, "orderNumber")
    customer_id = _text(detail, "customerId")
    order_type = _text(detail, "type")
    status = _text(detail, "status")
    order_id = _text(detail, "id")
    created_at = parse_datetime(detail.get("creationDate"), "creationDate")
    provisioned = detail.get("provisioningDate")
    provisioned_at = parse_datetime(provisioned, "provisioningDate") if provisioned else None

    raw_lines = detail.get("products") or []
    raw_charges = detail.get("details") or []
    if not isinstance(raw_lines, list) or not isinstance(raw_charges, list):
        raise InvalidOrder("products and details should be lists")
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


def last_day(period_end: date) -> date:
    """The last billed day of a period whose end is exclusive (for descriptions)."""
    return period_end - timedelta(days=1)

