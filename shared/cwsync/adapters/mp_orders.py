"""Marketplace orders → typed values, once, at the edge.

`order_summary` reads an entry of `GET /orders` (the check's list). A list entry without an
id cannot be an order's task: it is an `InvalidRecord`. Any other field cwsync cannot read
makes a summary whose `problem` names the order and the field, so that one order gets a
stated outcome and the check goes on. Fields cwsync does not read are ignored.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from cwsync import dates
from cwsync.domain.models import OrderSummary
from cwsync.errors import InvalidRecord, shown
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
