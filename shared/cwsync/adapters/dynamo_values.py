"""DynamoDB values: the one conversion between Python and the table, and the table's key names.

Times are stored as ISO 8601 UTC strings of one fixed width (`2026-01-31T10:00:00.000Z`)
so that string order is time order; money is Decimal (DynamoDB Number). `to_plain` gives a
stored value back as JSON-like data (whole numbers as int, others as their exact text).
"""
from __future__ import annotations

import math
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Mapping

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from cwsync.dates import parse_datetime

PK, SK = "PK", "SK"
GSI1, GSI1PK, GSI1SK = "GSI1", "GSI1PK", "GSI1SK"
TTL_ATTRIBUTE = "ttl"
KEY_ATTRIBUTES = (PK, SK, GSI1PK, GSI1SK)
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def format_time(value: datetime | str) -> str:
    """Aware datetime (or ISO string) → fixed-width ISO UTC string, sortable as text."""
    if isinstance(value, str):
        value = parse_time(value)
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: times must be timezone-aware")
    return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(value: str) -> datetime:
    """ISO 8601 → aware UTC datetime (a value without a zone is taken as UTC)."""
    return parse_datetime(value)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def to_dynamo(value: Any) -> Any:
    """Plain Python → what DynamoDB stores: floats as Decimal, datetimes as ISO, tuples as lists."""
    if isinstance(value, bool) or value is None or isinstance(value, (str, Decimal)):
        return value
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else repr(value)
    if isinstance(value, int):
        return value
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, Mapping):
        return {str(k): to_dynamo(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_dynamo(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return [to_dynamo(v) for v in sorted(value)]
    if hasattr(value, "to_dict"):
        return to_dynamo(value.to_dict())
    return str(value)  # StrEnum and friends


def to_attribute_values(item: Mapping[str, Any]) -> dict:
    """An item as DynamoDB's wire format (`{"S": ...}`, `{"N": ...}`): the one conversion into the table."""
    return {k: _serializer.serialize(to_dynamo(v)) for k, v in item.items()}


def from_attribute_values(item: Mapping[str, Any]) -> dict:
    """DynamoDB's wire format back to Python (numbers as Decimal): the one conversion out of the table."""
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def to_plain(value: Any) -> Any:
    """A stored value as JSON-like data: whole numbers as int, other numbers as their exact text
    ("6.00" stays "6.00"), the rest as it is. For plans and payloads read back from the table."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and "." not in str(value) else str(value)
    if isinstance(value, Mapping):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    return value


def without_keys(item: Mapping[str, Any]) -> dict:
    """An item without its table keys (callers see business fields only)."""
    return {k: v for k, v in item.items() if k not in KEY_ATTRIBUTES}


def condition_failed(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"
