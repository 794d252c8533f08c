"""What marketplace records say, as plain typed values.

The marketplace adapter (`cwsync.adapters.mp_orders`, `cwsync.adapters.mp_records`) is the
only place that reads the marketplace's JSON; everything after it works on these values.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Mapping


@dataclass(frozen=True)
class BillingPeriod:
    """How often a subscription bills: `month`×1, `month`×3, `year`×1, `statement_day`…"""

    type: str
    duration: int

    KNOWN_TYPES = ("day", "month", "year", "statement_day")

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


@dataclass(frozen=True)
class OrderReading:
    """A detailed order as the marketplace adapter read it for the check (`classify_order`).

    The status is read apart from the rest, so an unfinished order is judged by its status
    alone. `order` is the parsed order, or None with `problem` saying why (naming the field);
    `not_an_order` says why the record or its status cannot be read at all. Product lines that
    state no quantity are read as 0 and listed in `unstated_quantities` (by index): a missing
    quantity is never billed as 0."""

    number: str  # orderNumber, else id, else "(no number)": how reasons name the order
    status: str | None  # the marketplace's word; None when missing
    status_code: str | None = None
    order: Order | None = None
    problem: str | None = None
    not_an_order: str | None = None
    unstated_quantities: frozenset[int] = frozenset()


def last_day(period_end: date) -> date:
    """The last billed day of a period whose end is exclusive (for descriptions)."""
    return period_end - timedelta(days=1)

