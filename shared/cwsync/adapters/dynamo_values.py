"""DynamoDB values: the one conversion between Python and the table, and the table's key names.

Times are stored as ISO 8601 UTC strings of one fixed width (`2026-01-31T10:00:00.000Z`)
so that string order is time order; money is Decimal (DynamoDB Number). `to_plain` gives a
stored value back as JSON-like data (whole numbers as int, others as their exact text).

Requests say what they want, never as expression text: conditions are boto3's
`Attr`/`Key` (`boto3.dynamodb.conditions`), an update is an `Update` (boto3 has no builder
for SET/REMOVE), and `expression_request` turns them into a request's expression
arguments with every name and value behind a placeholder. `conditional_write` sends a
conditional write and says whether it was applied: the one place a refused condition is
told apart from an error.
"""
from __future__ import annotations

import math
from datetime import datetime, timezone
from decimal import Decimal, DecimalException
from typing import Any, Callable, Iterable, Mapping, NamedTuple

from boto3.dynamodb.conditions import Attr, ConditionBase, ConditionExpressionBuilder, Key  # noqa: F401
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
        if any(str(k) == "" for k in value):  # DynamoDB names every attribute, nested ones too
            raise ValueError("a field has an empty name, which DynamoDB cannot store")
        return {str(k): to_dynamo(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_dynamo(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return [to_dynamo(v) for v in sorted(value)]
    if hasattr(value, "to_dict"):
        return to_dynamo(value.to_dict())
    return str(value)  # StrEnum and friends


def to_attribute_values(item: Mapping[str, Any]) -> dict:
    """An item as DynamoDB's wire format (`{"S": ...}`, `{"N": ...}`): the one conversion into the table.

    ValueError for a number DynamoDB cannot hold (more than 38 digits, beyond 1E+125), as for any
    other value it refuses: the caller keeps what it can (a task without its order detail)."""
    try:
        return {k: _serializer.serialize(to_dynamo(v)) for k, v in item.items()}
    except DecimalException:
        raise ValueError("a number has more digits or is larger than DynamoDB can store") from None


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


class Update:
    """One UpdateExpression, said as the changes it makes:

        Update().set({"status": "done"}).append("history", [entry]).increment("attempt").remove("decision")

    Names and values stand behind placeholders (`#u0`, `:u0`; boto3's condition builder uses
    `#n0`, `:v0`), so no value and no attribute name is ever part of the text."""

    def __init__(self) -> None:
        self._actions: dict[str, list[str]] = {"SET": [], "REMOVE": []}
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def set(self, fields: Mapping[str, Any]) -> "Update":
        """`name = value` for each field."""
        for name, value in fields.items():
            self._actions["SET"].append(f"{self._name(name)} = {self._value(value)}")
        return self

    def set_missing(self, fields: Mapping[str, Any]) -> "Update":
        """`name = value` for each field the item does not have yet (one that exists keeps its value)."""
        for name, value in fields.items():
            placeholder = self._name(name)
            self._actions["SET"].append(f"{placeholder} = if_not_exists({placeholder}, {self._value(value)})")
        return self

    def append(self, name: str, items: list) -> "Update":
        """Add `items` to the end of the list `name` (a missing list counts as empty)."""
        placeholder = self._name(name)
        self._actions["SET"].append(
            f"{placeholder} = list_append(if_not_exists({placeholder}, {self._value([])}), {self._value(list(items))})")
        return self

    def increment(self, name: str, amount: int | Decimal = 1, *, missing: int | Decimal = 0) -> "Update":
        """Add `amount` to the number `name`; a missing number counts as `missing` (DynamoDB's ADD
        can only start from 0)."""
        placeholder = self._name(name)
        self._actions["SET"].append(
            f"{placeholder} = if_not_exists({placeholder}, {self._value(missing)}) + {self._value(amount)}")
        return self

    def remove(self, *names: str) -> "Update":
        self._actions["REMOVE"].extend(self._name(name) for name in names)
        return self

    @property
    def expression(self) -> str:
        parts = [f"{action} {', '.join(clauses)}" for action, clauses in self._actions.items() if clauses]
        if not parts:
            raise ValueError("an update needs at least one change")
        return " ".join(parts)

    def _name(self, name: str) -> str:
        for placeholder, known in self.names.items():
            if known == name:
                return placeholder
        placeholder = f"#u{len(self.names)}"
        self.names[placeholder] = name
        return placeholder

    def _value(self, value: Any) -> str:
        placeholder = f":u{len(self.values)}"
        self.values[placeholder] = value
        return placeholder


def expression_request(*, update: Update | None = None, condition: ConditionBase | None = None,
                       key: ConditionBase | None = None, filter: ConditionBase | None = None,
                       attributes: Iterable[str] | None = None) -> dict:
    """The expression arguments of one request: `UpdateExpression`, `ConditionExpression`,
    `KeyConditionExpression`, `FilterExpression` and (for `attributes`) `ProjectionExpression`
    as given, with their names and values (the values in DynamoDB's wire format)."""
    builder = ConditionExpressionBuilder()
    request: dict[str, Any] = {}
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    if attributes is not None:
        projected = {f"#p{index}": name for index, name in enumerate(attributes)}
        request["ProjectionExpression"] = ", ".join(projected)
        names.update(projected)
    if update is not None:
        request["UpdateExpression"] = update.expression
        names.update(update.names)
        values.update(update.values)
    for argument, built_from, is_key in (("KeyConditionExpression", key, True),
                                         ("ConditionExpression", condition, False),
                                         ("FilterExpression", filter, False)):
        if built_from is not None:
            built = builder.build_expression(built_from, is_key_condition=is_key)
            request[argument] = built.condition_expression
            names.update(built.attribute_name_placeholders)
            values.update(built.attribute_value_placeholders)
    if names:
        request["ExpressionAttributeNames"] = names
    if values:
        request["ExpressionAttributeValues"] = to_attribute_values(values)
    return request


class Written(NamedTuple):
    """What a conditional write did. `item`: when applied, the attributes `ReturnValues` asked
    for; when refused, the item as it is if `ReturnValuesOnConditionCheckFailure` asked for it."""
    applied: bool
    item: dict


def conditional_write(call: Callable[..., dict], **request: Any) -> Written:
    """Send a conditional write (`put_item`, `update_item`, `delete_item`): applied, or refused
    because its condition did not hold (nothing was written); every other error is raised."""
    try:
        answer = call(**request)
    except ClientError as error:
        if not condition_failed(error):
            raise
        return Written(False, from_attribute_values(error.response.get("Item") or {}))
    return Written(True, from_attribute_values(answer.get("Attributes") or {}))
