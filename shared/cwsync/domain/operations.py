"""A plan of ConnectWise writes: explicit operations carrying every value they will write."""
from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Mapping

from cwsync.errors import ConfigurationError
from cwsync.domain.money import format_money, format_quantity
from cwsync.vocabulary import Action

CREATE_ADDITION = Action.CREATE_ADDITION
CANCEL_ADDITION = Action.CANCEL_ADDITION
UPDATE_ADDITION = Action.UPDATE_ADDITION
CREATE_ADJUSTMENT = Action.CREATE_ADJUSTMENT
CREATE_CATALOG_ITEM = Action.CREATE_CATALOG_ITEM
TAG_MAX = 50  # ConnectWise addition serialNumber
_TAG_FIELDS = {"subscription_id", "order_number", "order_id"}

# Decimal fields that are money (rounded to the currency at the edge); other Decimals are quantities.
_MONEY_KEYS = {"unitPrice", "unitCost", "amount", "price", "cost", "recurringRevenue", "recurringCost"}


def check_tag_format(tag_format: str) -> None:
    """The subscription comes first (its additions are found again by the tag's prefix), then a
    separator, then the order (each order's additions need their own tag for idempotent retries)."""
    try:
        parts = [(literal, name) for literal, name, _, _ in string.Formatter().parse(tag_format)]
    except ValueError as error:
        raise ConfigurationError(f"Tag format {tag_format!r} is not a format string: {error}") from None
    names = [name for _, name in parts if name is not None]
    separated = len(parts) > 1 and bool(parts[1][0])
    if (names[:1] != ["subscription_id"] or not separated or not set(names[1:]) & {"order_number", "order_id"}
            or not set(names) <= _TAG_FIELDS):
        raise ConfigurationError(
            f"Tag format {tag_format!r} must be {{subscription_id}}, a separator, then {{order_number}} or "
            "{order_id} (like the default MP-{subscription_id}-{order_number})")


def ownership_tag(tag_format: str, *, subscription_id: str, order_number: str, order_id: str = "",
                  suffix: str = "") -> str:
    """The serialNumber that marks an addition as the sync's; ≤ 50 characters, deterministic.

    A tag that would be longer keeps its first 41 characters (the subscription part) and
    ends with 8 characters of a hash of the whole tag, so two long tags stay distinct.
    """
    tag = tag_format.format(subscription_id=subscription_id, order_number=order_number,
                            order_id=order_id) + suffix
    if len(tag) <= TAG_MAX:
        return tag
    digest = hashlib.sha256(tag.encode()).hexdigest()[:8]
    return f"{tag[:TAG_MAX - 9]}-{digest}"


def subscription_tag_prefix(tag_format: str, subscription_id: str) -> str:
    """The start every tag of a subscription shares: "MP-SUB-1-" for the default format."""
    prefix = ""
    for literal, name, _, _ in string.Formatter().parse(tag_format):
        prefix += literal
        if name != "subscription_id":
            break
        prefix += subscription_id
    return prefix


def has_subscription_tag(serial_number: str | None, prefix: str) -> bool:
    """Whether an addition's serial number is a tag of the subscription whose tags start with `prefix`."""
    serial = serial_number or ""
    # "MP-SUB-1" alone also counts (a tag typed by hand); "MP-SUB-10-…" does not.
    return serial.startswith(prefix) or (prefix[-1:] in "-_:/ " and serial == prefix[:-1])


ADJUSTMENT_DESCRIPTION_MAX = 1000  # ConnectWise agreement adjustment description


def adjustment_description(tag: str, text: str) -> str:
    """What ConnectWise keeps as an adjustment's description: the ownership tag, then the text as written.

    ConnectWise adjustments have no field for a tag, so the tag leads the description;
    the approver edits only the text, so no edit can remove the tag.
    """
    text = " ".join(str(text or "").split())
    return f"{tag} {text}"[:ADJUSTMENT_DESCRIPTION_MAX] if text else tag


def has_adjustment_tag(description: Any, tag: str) -> bool:
    """"MP-SUB-1-BO1:overuse:1 Overuse …" carries tag MP-SUB-1-BO1:overuse:1; "…:overuse:10 …" does not."""
    text = str(description or "")
    return text == tag or text.startswith(tag + " ")


def _json_value(key: str, value: Any, currency: str) -> Any:
    if isinstance(value, Decimal):
        return format_money(value, currency) if key in _MONEY_KEYS else format_quantity(value)
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {k: _json_value(k, v, currency) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_value(key, v, currency) for v in value]
    return value


@dataclass
class Operation:
    key: str
    action: str
    agreement_id: Any
    match: dict
    fields: dict
    explanation: str
    # Change to what the customer is billed (recurring per period, or one-time); for `total`.
    money_effect: Decimal = Decimal(0)
    # What the approver sees beside the fields (never written): the record as it is today
    # (`before`), and the price and cost each price source gives (`prices`: {"chosen", "options"}).
    before: dict = field(default_factory=dict)
    prices: dict = field(default_factory=dict)
    # The marketplace product (MPN) an addition bills: its quantity limit (MAX_QUANTITY_BY_PRODUCT).
    mpn: str | None = None

    def to_dict(self, currency: str) -> dict:
        result = {"key": self.key, "action": self.action, "agreementId": self.agreement_id,
                  "match": _json_value("match", self.match, currency),
                  "fields": _json_value("fields", self.fields, currency),
                  "explanation": self.explanation}
        if self.mpn:
            result["mpn"] = self.mpn
        if self.before:
            result["before"] = _json_value("before", self.before, currency)
        if self.prices:
            result["prices"] = _json_value("prices", self.prices, currency)
        return result


@dataclass
class Plan:
    task_id: str
    task_type: str
    currency: str
    agreement_id: Any
    summary: str
    operations: list[Operation] = field(default_factory=list)
    nothing_to_change: bool = False
    decrease: bool = False
    planned_at: datetime | None = None

    def __post_init__(self) -> None:
        keys = [op.key for op in self.operations]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise ValueError(f"Operation keys must be unique in a plan: {duplicates}")

    @property
    def total(self) -> Decimal:
        return sum((op.money_effect for op in self.operations), Decimal(0))

    def to_dict(self) -> dict:
        result = {
            "taskId": self.task_id, "taskType": str(self.task_type), "currency": self.currency,
            "agreementId": self.agreement_id, "summary": self.summary,
            "nothingToChange": self.nothing_to_change, "decrease": self.decrease,
            "total": format_money(self.total, self.currency),
            "operations": [op.to_dict(self.currency) for op in self.operations],
        }
        if self.planned_at is not None:
            result["plannedAt"] = _json_value("plannedAt", self.planned_at, self.currency)
        return result
