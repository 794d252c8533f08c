"""The ConnectWise `conditions` query language: tokenizer, parser and evaluator.

Grammar (keywords case-insensitive, `and` binds tighter than `or`):

    expression  := term ("or" term)*
    term        := factor ("and" factor)*
    factor      := "not" factor | "(" expression ")" | comparison
    comparison  := PATH op value
                 | PATH ["not"] ("contains" | "like") value
                 | PATH ["not"] "in" "(" value ("," value)* ")"
    op          := "=" | "!=" | "<" | "<=" | ">" | ">="
    value       := "string" | number | [datetime] | true | false | null
    PATH        := name ("/" name)*      e.g. company/id, billingCycle/name

Strings compare case-insensitively, as the real service's SQL Server collation does.
A path that crosses a list (company/types/name) matches when any element matches.
The audit fields every object carries in `_info` are searchable by their own names
(`lastUpdated > [2026-01-01T00:00:00Z]`, `updatedBy = "ApiMember"`) or as `_info/lastUpdated`,
unless the object has a property of that name itself.
`parse` returns a predicate over a record; malformed input raises ConditionError whose
message names the position and the token.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

Predicate = Callable[[dict], bool]
KEYWORDS = {"and", "or", "not", "contains", "like", "in", "true", "false", "null"}
COMPARISONS = {"=", "!=", "<", "<=", ">", ">="}
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?![\w.])")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:/[A-Za-z_][A-Za-z0-9_]*)*")
_OPERATOR = re.compile(r"[=!<>]+")
INFO_FIELDS = ("lastUpdated", "updatedBy", "dateEntered", "enteredBy")


class ConditionError(ValueError):
    """A conditions string that cannot be parsed; `position` is 0-based."""

    def __init__(self, message: str, position: int):
        super().__init__(f"{message} (at position {position})")
        self.position = position


@dataclass(frozen=True)
class Token:
    kind: str  # string | number | datetime | name | keyword | op | ( | ) | , | end
    value: Any
    position: int
    text: str

    def describe(self) -> str:
        return "end of conditions" if self.kind == "end" else f"'{self.text}'"


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    index, length = 0, len(text)
    while index < length:
        char = text[index]
        if char.isspace():
            index += 1
        elif char == '"':
            tokens.append(_read_string(text, index))
            index += len(tokens[-1].text)
        elif char == "[":
            end = text.find("]", index)
            if end < 0:
                raise ConditionError("Unterminated datetime: missing ']'", index)
            raw = text[index + 1:end].strip()
            tokens.append(Token("datetime", _parse_datetime(raw, index), index, text[index:end + 1]))
            index = end + 1
        elif char in "(),":
            tokens.append(Token(char, char, index, char))
            index += 1
        elif char in "=!<>":
            match = _OPERATOR.match(text, index)
            operator = match.group()
            if operator == "<>":  # SQL's spelling of "not equal", accepted by the service
                operator = "!="
            elif operator not in COMPARISONS:
                raise ConditionError(f"Unknown operator '{match.group()}'", index)
            tokens.append(Token("op", operator, index, match.group()))
            index = match.end()
        elif char == "-" or char.isdigit():
            match = _NUMBER.match(text, index)
            if not match:
                raise ConditionError(f"Invalid number starting '{text[index:index + 10]}'", index)
            number = match.group()
            tokens.append(Token("number", float(number) if "." in number else int(number), index, number))
            index = match.end()
        elif char.isalpha() or char == "_":
            match = _NAME.match(text, index)
            word = match.group()
            if word.lower() in KEYWORDS:
                tokens.append(Token("keyword", word.lower(), index, word))
            else:
                tokens.append(Token("name", word, index, word))
            index = match.end()
        else:
            raise ConditionError(f"Unexpected character '{char}'", index)
    tokens.append(Token("end", None, length, ""))
    return tokens


def _read_string(text: str, start: int) -> Token:
    """A double-quoted string; backslash escapes the next character (\\" and \\\\)."""
    chars: list[str] = []
    index = start + 1
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            chars.append(text[index + 1])
            index += 2
        elif char == '"':
            return Token("string", "".join(chars), start, text[start:index + 1])
        else:
            chars.append(char)
            index += 1
    raise ConditionError("Unterminated string: missing closing '\"'", start)


def _parse_datetime(raw: str, position: int) -> datetime:
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ConditionError(f"Invalid datetime '[{raw}]': expected ISO 8601 like [2026-01-31T00:00:00Z]",
                             position) from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


class Parser:
    """Recursive descent over the tokens; builds the predicate directly."""

    def __init__(self, text: str, known_path: Callable[[str], bool] | None = None):
        self.tokens = tokenize(text)
        self.index = 0
        self.known_path = known_path

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def at_keyword(self, *words: str) -> bool:
        return self.current.kind == "keyword" and self.current.value in words

    def parse(self) -> Predicate:
        if self.current.kind == "end":
            raise ConditionError("Empty conditions", 0)
        predicate = self.expression()
        if self.current.kind == ")":
            raise ConditionError("Unbalanced parentheses: unexpected ')'", self.current.position)
        if self.current.kind != "end":
            raise ConditionError(f"Expected 'and', 'or' or end of conditions but found {self.current.describe()}",
                                 self.current.position)
        return predicate

    def expression(self) -> Predicate:
        parts = [self.term()]
        while self.at_keyword("or"):
            self.advance()
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else (lambda record: any(part(record) for part in parts))

    def term(self) -> Predicate:
        parts = [self.factor()]
        while self.at_keyword("and"):
            self.advance()
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else (lambda record: all(part(record) for part in parts))

    def factor(self) -> Predicate:
        token = self.current
        if self.at_keyword("not"):
            self.advance()
            inner = self.factor()
            return lambda record: not inner(record)
        if token.kind == "(":
            self.advance()
            inner = self.expression()
            if self.current.kind != ")":
                raise ConditionError(f"Unbalanced parentheses: expected ')' for the '(' at position "
                                     f"{token.position} but found {self.current.describe()}", self.current.position)
            self.advance()
            return inner
        if token.kind == "name":
            return self.comparison()
        raise ConditionError(f"Expected a field name but found {token.describe()}", token.position)

    def comparison(self) -> Predicate:
        field_token = self.advance()
        path = field_token.value
        if self.known_path and not self.known_path(path):
            path = info_path(path)
            if path is None:
                raise ConditionError(f"{field_token.value} is not a recognized name", field_token.position)
        negate = False
        if self.at_keyword("not"):
            self.advance()
            negate = True
            if not self.at_keyword("contains", "like", "in"):
                raise ConditionError(f"Expected 'contains', 'like' or 'in' after 'not' but found "
                                     f"{self.current.describe()}", self.current.position)
        operator_token = self.current
        if operator_token.kind == "op" and not negate:
            self.advance()
            literal = self.value(operator_token)
            if literal is None and operator_token.value not in ("=", "!="):
                raise ConditionError(f"null can only be compared with '=' or '!=', not '{operator_token.text}'",
                                     operator_token.position)
            test = comparison_test(operator_token.value, literal)
        elif self.at_keyword("contains", "like"):
            self.advance()
            literal = self.value(operator_token)
            if not isinstance(literal, str):
                raise ConditionError(f"'{operator_token.text}' needs a quoted string", operator_token.position)
            test = contains_test(literal) if operator_token.value == "contains" else like_test(literal)
        elif self.at_keyword("in"):
            self.advance()
            test = in_test(self.value_list(operator_token))
        else:
            raise ConditionError(f"Expected an operator after '{path}' but found {operator_token.describe()}",
                                 operator_token.position)
        return field_predicate(path, test, negate)

    def value(self, after: Token) -> Any:
        token = self.current
        if token.kind in ("string", "number", "datetime"):
            self.advance()
            return token.value
        if self.at_keyword("true", "false", "null"):
            self.advance()
            return {"true": True, "false": False, "null": None}[token.value]
        raise ConditionError(f"Expected a value after '{after.text}' but found {token.describe()}", token.position)

    def value_list(self, after: Token) -> list[Any]:
        if self.current.kind != "(":
            raise ConditionError(f"Expected '(' after '{after.text}' but found {self.current.describe()}",
                                 self.current.position)
        opening = self.advance()
        values = [self.value(opening)]
        while self.current.kind == ",":
            values.append(self.value(self.advance()))
        if self.current.kind != ")":
            raise ConditionError(f"Unbalanced parentheses: expected ',' or ')' in the list but found "
                                 f"{self.current.describe()}", self.current.position)
        self.advance()
        return values


def parse(text: str, known_path: Callable[[str], bool] | None = None) -> Predicate:
    """Compile a conditions string into a predicate over a record (a dict)."""
    return Parser(text, known_path).parse()


def info_path(path: str) -> str | None:
    """`lastUpdated` or `_info/lastUpdated` -> `_info/lastUpdated`; None for any other name."""
    name = path[len("_info/"):] if path.startswith("_info/") else path
    return f"_info/{name}" if name in INFO_FIELDS else None


# --- evaluation -------------------------------------------------------------------------------

def values_at(record: Any, parts: Iterable[str]) -> list[Any]:
    """Every value at a path; lists fan out (any-element semantics); missing reads as null."""
    current = [record]
    for part in parts:
        following = []
        for item in current:
            for element in item if isinstance(item, list) else (item,):
                following.append(element.get(part) if isinstance(element, dict) else None)
        current = following
    flattened: list[Any] = []
    for item in current:
        if isinstance(item, list):
            flattened.extend(item)
        else:
            flattened.append(item)
    return flattened


def field_predicate(path: str, test: Callable[[Any], bool], negate: bool) -> Predicate:
    parts = tuple(path.split("/"))
    if len(parts) == 1:
        key = parts[0]

        def single(record: dict) -> bool:
            value = record.get(key)
            if isinstance(value, list):
                return _any(test, value, negate)
            # SQL semantics: a negated test on a null is still not true.
            return (value is not None and not test(value)) if negate else test(value)
        return single

    def nested(record: dict) -> bool:
        return _any(test, values_at(record, parts), negate)
    return nested


def _any(test, values, negate) -> bool:
    if negate:
        present = [value for value in values if value is not None]
        return bool(present) and not any(test(value) for value in present)
    return any(test(value) for value in values)


def normalise(value: Any) -> Any:
    """A comparable form: strings case-folded, ISO datetimes as datetimes."""
    if isinstance(value, str):
        if len(value) >= 10 and value[4:5] == "-" and value[:4].isdigit():
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
                return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
            except ValueError:
                pass
        return value.casefold()
    return value


def _coerce(value: Any, literal: Any) -> tuple[Any, Any] | None:
    """Both sides in one comparable type, or None when they cannot be compared."""
    if value is None or literal is None:
        return None
    if isinstance(literal, bool) or isinstance(value, bool):
        return (value, literal) if isinstance(value, bool) and isinstance(literal, bool) else None
    if isinstance(literal, (int, float)):
        if isinstance(value, (int, float)):
            return value, literal
        try:
            return float(value), literal
        except (TypeError, ValueError):
            return None
    left, right = normalise(value), literal if isinstance(literal, datetime) else normalise(literal)
    if isinstance(right, datetime) and isinstance(left, str):
        return None
    if isinstance(left, (int, float)) and isinstance(right, str):
        try:
            return left, float(right)
        except ValueError:
            return None
    if type(left) is not type(right) and not (isinstance(left, datetime) and isinstance(right, datetime)):
        return str(left).casefold(), str(right).casefold()
    return left, right


_OPERATORS = {
    "=": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}


def comparison_test(operator: str, literal: Any) -> Callable[[Any], bool]:
    if literal is None:
        return (lambda value: value is None) if operator == "=" else (lambda value: value is not None)
    compare = _OPERATORS[operator]
    if isinstance(literal, str) and operator in ("=", "!="):
        folded = literal.casefold()
        if not (len(literal) >= 10 and literal[4:5] == "-" and literal[:4].isdigit()):
            # Fast path for the common `name="..."` and `identifier="..."` filters.
            def string_test(value: Any) -> bool:
                if isinstance(value, str):
                    return compare(value.casefold(), folded)
                pair = _coerce(value, literal)
                return pair is not None and compare(*pair)
            return string_test

    def test(value: Any) -> bool:
        pair = _coerce(value, literal)
        if pair is None:
            return False
        try:
            return compare(*pair)
        except TypeError:
            return False
    return test


def contains_test(literal: str) -> Callable[[Any], bool]:
    needle = literal.casefold()
    return lambda value: value is not None and needle in str(value).casefold()


def like_test(pattern: str) -> Callable[[Any], bool]:
    """`*` and `%` match any run of characters, `_` one character, as the service's LIKE."""
    regex = "".join(".*" if char in "*%" else "." if char == "_" else re.escape(char) for char in pattern)
    compiled = re.compile(regex, re.IGNORECASE | re.DOTALL)
    return lambda value: value is not None and compiled.fullmatch(str(value)) is not None


def in_test(literals: list[Any]) -> Callable[[Any], bool]:
    tests = [comparison_test("=", literal) for literal in literals]
    return lambda value: any(test(value) for test in tests)
