"""Reconciliation: what customers have in the marketplace against what ConnectWise bills.

Pure rules over typed values: marketplace subscriptions (`Subscription`, parsed by the
marketplace adapter's `mp_records.subscription` from `GET /subscriptions/{id}`: products with
quantity, unit price and unit cost) and ConnectWise agreements and additions
(`AgreementRecord`, `AdditionRecord`, parsed by `cw_records`). `compare_customer` compares one
customer's subscriptions with the additions of the customer's agreements and returns, per subscription line, what was found (`LineFinding`)
and every difference (`Difference`) with its money impact per billing period:
positive = money the customer is not billed, negative = money billed too much.

What "live" means: an addition bills from the next period to be invoiced (the agreement's
`nextInvoiceDate`, else today) when it has no cancel date or one after that day, and it is
on an agreement that invoices (Active, not cancelled). Only the next period is compared:
periods already invoiced are never repaired (see `reconcile_repair`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Mapping, Sequence

from cwsync import dates
from cwsync.domain.agreements import billing_cycle_name, _problems
from cwsync.domain.models import BillingPeriod
from cwsync.domain.money import format_money, format_quantity
from cwsync.domain.operations import has_subscription_tag, subscription_tag_prefix
from cwsync.domain.records import AdditionRecord, AgreementRecord, utc_text
from cwsync.errors import InvalidOrder
from cwsync.vocabulary import DIFFERENCE_KIND_LABELS, DifferenceKind

# Difference kinds (docs/RECONCILIATION.md), in a billing person's words: the vocabulary's.
NOT_BILLED = DifferenceKind.NOT_BILLED
STILL_BILLED = DifferenceKind.STILL_BILLED
QUANTITY_DIFFERS = DifferenceKind.QUANTITY_DIFFERS
UNIT_PRICE_DIFFERS = DifferenceKind.UNIT_PRICE_DIFFERS
UNIT_COST_DIFFERS = DifferenceKind.UNIT_COST_DIFFERS
WRONG_AGREEMENT = DifferenceKind.WRONG_AGREEMENT
CANCELLED_AGREEMENT = DifferenceKind.CANCELLED_AGREEMENT
BILLED_TWICE = DifferenceKind.BILLED_TWICE
ADOPT_CANDIDATE = DifferenceKind.ADOPT_CANDIDATE
EDITED_IN_CONNECTWISE = DifferenceKind.EDITED_IN_CONNECTWISE
KINDS = tuple(DifferenceKind)
KIND_LABELS = DIFFERENCE_KIND_LABELS
# Subscription statuses: billed while active or on hold; ended ones must not be billed.
BILLED_STATUSES = {"active", "hold"}
ENDED_STATUSES = {"terminated", "removed"}
# Fields compared with what cwsync wrote (the baseline), field by field.
EDITABLE_FIELDS = ("description", "invoiceDescription", "effectiveDate", "cancelledDate", "billCustomer",
                   "taxableFlag")


@dataclass(frozen=True)
class SubscriptionLine:
    mpn: str
    name: str
    quantity: Decimal
    unit_price: Decimal
    unit_cost: Decimal | None


class _Status:
    """Billed while active or on hold; ended when terminated or removed."""

    status: str

    @property
    def billed(self) -> bool:
        return self.status in BILLED_STATUSES

    @property
    def ended(self) -> bool:
        return self.status in ENDED_STATUSES


@dataclass(frozen=True)
class Subscription(_Status):
    id: str
    customer_id: str
    name: str
    status: str
    currency: str
    period: BillingPeriod
    lines: tuple[SubscriptionLine, ...]
    created: date | None = None
    billing_model: str | None = None


@dataclass(frozen=True)
class SubscriptionSummary(_Status):
    """A subscription as the marketplace lists it (no products): what decides whether it is compared."""

    id: str
    customer_id: str
    status: str
    changed: date | None = None  # lastModifiedDate, else expirationDate (None when neither is readable)


def _day(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).date()
    if isinstance(value, date):
        return value
    parsed = dates.parse_datetime_or_none(str(value))
    return parsed.date() if parsed is not None else None


def next_billed_day(agreement: AgreementRecord | None, today: date) -> date:
    """The first day not invoiced yet: the agreement's nextInvoiceDate, else today (never earlier,
    never before the agreement starts billing)."""
    if agreement is None:
        return today
    return max(d for d in (today, agreement.next_invoice_date, agreement.bill_start_date) if d is not None)


def invoices(agreement: AgreementRecord | None) -> bool:
    """An agreement that still invoices: Active and not cancelled."""
    return agreement is not None and agreement.invoices


def is_live(addition: AdditionRecord, day: date) -> bool:
    cancelled = _day(addition.cancelled_date)
    return cancelled is None or cancelled > day


def billed(addition: AdditionRecord) -> Decimal:
    """What the addition bills a period: quantity × unit price (no price bills nothing)."""
    return addition.quantity * (addition.unit_price or Decimal(0))


@dataclass
class Difference:
    kind: str
    customer: str
    subscription_id: str | None
    mpn: str | None
    agreement_id: Any
    addition_id: Any
    field: str | None
    marketplace: Any
    connectwise: Any
    impact_per_period: Decimal
    currency: str
    months: int = 1
    explanation: str = ""

    @property
    def impact_per_month(self) -> Decimal:
        return self.impact_per_period / self.months

    def to_dict(self) -> dict:
        return {"kind": self.kind, "customer": self.customer, "subscriptionId": self.subscription_id,
                "mpn": self.mpn, "agreementId": _text(self.agreement_id), "additionId": _text(self.addition_id),
                "field": self.field, "marketplace": _json(self.marketplace), "connectwise": _json(self.connectwise),
                "impactPerPeriod": format_money(self.impact_per_period, self.currency), "currency": self.currency,
                "periodMonths": self.months, "label": KIND_LABELS[self.kind], "explanation": self.explanation}


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format_quantity(value) if value == value.to_integral_value() else f"{value.normalize():f}"
    if isinstance(value, datetime):
        return utc_text(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


@dataclass
class LineFinding:
    """What ConnectWise holds for one subscription line (or an ended subscription)."""

    subscription: Subscription
    line: SubscriptionLine | None
    target_agreement: Any = None
    primary: AdditionRecord | None = None    # the live tagged (or adoptable) addition that bills the line
    primary_agreement: str | None = None     # the agreement primary is on
    adopt: bool = False                      # primary is a hand-made addition to tag
    extras: list = field(default_factory=list)      # more live additions for the line (billed twice)
    elsewhere: AgreementRecord | None = None  # primary's agreement, when it is not the one to bill on
    dead: list = field(default_factory=list)        # tagged additions on agreements that no longer invoice
    ended: list = field(default_factory=list)       # live additions of an ended subscription / removed line
    edits: dict = field(default_factory=dict)       # field -> (cwsync wrote, ConnectWise has)
    differences: list = field(default_factory=list)


@dataclass(frozen=True)
class CustomerContext:
    """One customer's ConnectWise side, as read by the reconciliation service."""

    customer: str                                   # a name for people
    agreements: Mapping[str, AgreementRecord]       # id -> agreement (the linked company's)
    additions: Mapping[str, Sequence[AdditionRecord]]  # agreement id -> its additions
    products: Mapping[str, Any]                     # MPN (casefolded) -> catalog item id
    targets: Mapping[str, Any]                      # subscription id -> the agreement it belongs on (or None)
    baselines: Mapping[str, Mapping] = field(default_factory=dict)  # addition id -> fields cwsync wrote
    tag_format: str = "MP-{subscription_id}-{order_number}"
    today: date = field(default_factory=lambda: datetime.now(timezone.utc).date())


def compare_customer(subscriptions: Sequence[Subscription], ctx: CustomerContext) -> list[LineFinding]:
    from cwsync.domain.reconcile_compare import Comparison

    return Comparison(subscriptions, ctx).run()


def eligibility_problems(agreement: AgreementRecord, subscription: Subscription, today: date | None = None) -> list[str]:
    """Why the agreement cannot bill the subscription (billing cycle, currency, status, end date); [] when it can."""
    try:
        cycle = billing_cycle_name(subscription.period)
    except InvalidOrder:
        cycle = None
    return _problems(agreement, cycle, subscription.currency or "", today)


def tag_prefix(tag_format: str, subscription_id: str) -> str:
    return subscription_tag_prefix(tag_format, subscription_id)


def carries_tag(addition: AdditionRecord, prefix: str) -> bool:
    return has_subscription_tag(addition.serial_number, prefix)
