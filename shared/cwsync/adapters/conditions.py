r"""ConnectWise `conditions` strings built safely from Python values.

Grammar (API notes): strings in double quotes with `\"` for a quote (and `\\` for a
backslash, so a value ending in a backslash cannot swallow its closing quote), bare
numbers, `True`/`False`, `null`, datetimes in brackets `[2026-01-31T00:00:00Z]`, operators
`= != < <= > >= contains like in not`, `and`/`or` with parentheses, nested fields `a/b`.

    str(field("company/id").eq(250) & field("name").eq('O"Brien & Sons (EU)'))
    == 'company/id=250 and name="O\"Brien & Sons (EU)"'

Values are quoted here and nowhere else; field names are checked against a strict
pattern, so neither can change the meaning of a condition.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from decimal import Decimal
from enum import Enum
from typing import Any, Iterable

_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(/[A-Za-z_][A-Za-z0-9_]*)*$")


def quote(value: Any) -> str:
    """The conditions literal for a Python value."""
    if isinstance(value, Enum):
        value = value.value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"{value} cannot be used in a condition")
        return repr(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} cannot be used in a condition")
        return format(value, "f")
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"datetime {value.isoformat()} has no timezone; conditions need UTC datetimes")
        return "[" + value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") + "]"
    if isinstance(value, date):
        return f"[{value.isoformat()}T00:00:00Z]"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    raise TypeError(f"cannot use a {type(value).__name__} value in a ConnectWise condition")


class Condition:
    """A finished condition; combine with `&` (and) and `|` (or)."""

    __slots__ = ("text", "_compound")

    def __init__(self, text: str, *, compound: bool = False):
        self.text = text
        self._compound = compound

    def _grouped(self) -> str:
        return f"({self.text})" if self._compound else self.text

    def __and__(self, other: "Condition") -> "Condition":
        return Condition(f"{self._grouped()} and {other._grouped()}", compound=True)

    def __or__(self, other: "Condition") -> "Condition":
        return Condition(f"{self._grouped()} or {other._grouped()}", compound=True)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Condition({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Condition) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


class Field:
    """A field path (`name`, `company/id`) to compare with a value."""

    __slots__ = ("path",)

    def __init__(self, path: str):
        if not isinstance(path, str) or not _FIELD.match(path):
            raise ValueError(f"{path!r} is not a ConnectWise field path")
        self.path = path

    def _op(self, operator: str, value: Any) -> Condition:
        return Condition(f"{self.path}{operator}{quote(value)}")

    def _word(self, operator: str, value: Any) -> Condition:
        return Condition(f"{self.path} {operator} {quote(value)}")

    def eq(self, value: Any) -> Condition:
        return self._op("=", value)

    def ne(self, value: Any) -> Condition:
        return self._op("!=", value)

    def lt(self, value: Any) -> Condition:
        return self._op("<", value)

    def le(self, value: Any) -> Condition:
        return self._op("<=", value)

    def gt(self, value: Any) -> Condition:
        return self._op(">", value)

    def ge(self, value: Any) -> Condition:
        return self._op(">=", value)

    def contains(self, text: str) -> Condition:
        return self._word("contains", _text(text))

    def not_contains(self, text: str) -> Condition:
        return self._word("not contains", _text(text))

    def like(self, pattern: str) -> Condition:
        """`*` in `pattern` is ConnectWise's wildcard."""
        return self._word("like", _text(pattern))

    def not_like(self, pattern: str) -> Condition:
        return self._word("not like", _text(pattern))

    def in_(self, values: Iterable[Any]) -> Condition:
        return Condition(f"{self.path} in {_list(values)}")

    def not_in(self, values: Iterable[Any]) -> Condition:
        return Condition(f"{self.path} not in {_list(values)}")

    def is_null(self) -> Condition:
        return self.eq(None)

    def is_not_null(self) -> Condition:
        return self.ne(None)


def field(path: str) -> Field:
    return Field(path)


def all_of(*conditions: Condition | str | None) -> Condition | None:
    """`a and b and ...`, skipping None; None when nothing is left."""
    return _join("and", conditions)


def any_of(*conditions: Condition | str | None) -> Condition | None:
    """`a or b or ...`, skipping None; None when nothing is left."""
    return _join("or", conditions)


def render(conditions: Condition | str | None) -> str | None:
    """The text to send as the `conditions` query parameter (None: send none)."""
    if conditions is None:
        return None
    text = str(conditions).strip()
    return text or None


def _join(word: str, conditions: Iterable[Condition | str | None]) -> Condition | None:
    parts = [part if isinstance(part, Condition) else Condition(part, compound=True)
             for part in conditions if part is not None and str(part).strip()]
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    return Condition(f" {word} ".join(part._grouped() for part in parts), compound=True)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"contains/like need text, got {type(value).__name__}")
    return value


def _list(values: Iterable[Any]) -> str:
    items = list(values)
    if not items:
        raise ValueError("an `in` condition needs at least one value")
    return "(" + ",".join(quote(item) for item in items) + ")"
