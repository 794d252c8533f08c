"""The conditions builder quotes every value so that no value can change a condition's meaning."""
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum

import pytest

from cwsync.adapters.conditions import Condition, all_of, any_of, field, quote, render


class Colour(Enum):
    GREEN = "Green"


@pytest.mark.parametrize(("value", "expected"), [
    ("Green Lane LLC", '"Green Lane LLC"'),
    ('O"Brien & Sons (EU)', '"O\\"Brien & Sons (EU)"'),
    ("back\\slash", '"back\\\\slash"'),
    ("ends with a backslash\\", '"ends with a backslash\\\\"'),
    ('\\"', '"\\\\\\""'),
    ("", '""'),
    ("Zürich Café – 東京 😀", '"Zürich Café – 東京 😀"'),
    ("a and b or (c)", '"a and b or (c)"'),
    ("50% * like", '"50% * like"'),
    (250, "250"),
    (-3, "-3"),
    (Decimal("6.00"), "6.00"),
    (Decimal("1E+3"), "1000"),
    (1.5, "1.5"),
    (True, "True"),
    (False, "False"),
    (None, "null"),
    (datetime(2026, 1, 31, tzinfo=timezone.utc), "[2026-01-31T00:00:00Z]"),
    (datetime(2026, 1, 31, 1, 30, tzinfo=timezone(timedelta(hours=2))), "[2026-01-30T23:30:00Z]"),
    (date(2026, 2, 15), "[2026-02-15T00:00:00Z]"),
    (Colour.GREEN, '"Green"'),
])
def test_quote_writes_each_kind_of_value_as_a_connectwise_literal(value, expected):
    assert quote(value) == expected


@pytest.mark.parametrize("value", [float("nan"), float("inf"), Decimal("NaN")])
def test_quote_refuses_numbers_connectwise_cannot_compare(value):
    with pytest.raises(ValueError):
        quote(value)


def test_quote_refuses_naive_datetimes_because_the_timezone_would_be_a_guess():
    with pytest.raises(ValueError, match="timezone"):
        quote(datetime(2026, 1, 31))


def test_quote_refuses_values_it_does_not_know_how_to_write():
    with pytest.raises(TypeError):
        quote({"id": 1})


@pytest.mark.parametrize(("condition", "expected"), [
    (field("name").eq('O"Brien & Sons (EU)'), 'name="O\\"Brien & Sons (EU)"'),
    (field("company/id").eq(250), "company/id=250"),
    (field("billingCycle/name").ne("Monthly"), 'billingCycle/name!="Monthly"'),
    (field("quantity").lt(Decimal("2.5")), "quantity<2.5"),
    (field("quantity").le(3), "quantity<=3"),
    (field("id").gt(1000), "id>1000"),
    (field("effectiveDate").ge(datetime(2026, 2, 15, tzinfo=timezone.utc)), "effectiveDate>=[2026-02-15T00:00:00Z]"),
    (field("name").contains("Lane"), 'name contains "Lane"'),
    (field("name").not_contains('a"b'), 'name not contains "a\\"b"'),
    (field("name").like("Green*"), 'name like "Green*"'),
    (field("name").not_like("Test*"), 'name not like "Test*"'),
    (field("id").in_([1, 2, 3]), "id in (1,2,3)"),
    (field("identifier").in_(['A"1', "B\\2"]), 'identifier in ("A\\"1","B\\\\2")'),
    (field("id").not_in([7]), "id not in (7)"),
    (field("cancelledDate").is_null(), "cancelledDate=null"),
    (field("cancelledDate").is_not_null(), "cancelledDate!=null"),
    (field("inactiveFlag").eq(False), "inactiveFlag=False"),
])
def test_field_comparisons_render_in_the_connectwise_grammar(condition, expected):
    assert str(condition) == expected


def test_and_or_keep_their_meaning_with_parentheses():
    a, b, c = field("a").eq(1), field("b").eq(2), field("c").eq(3)
    assert str(a & b) == "a=1 and b=2"
    assert str((a & b) | c) == "(a=1 and b=2) or c=3"
    assert str(a & (b | c)) == "a=1 and (b=2 or c=3)"


def test_all_of_and_any_of_skip_missing_parts():
    assert all_of(None, None) is None
    assert str(all_of(field("a").eq(1), None)) == "a=1"
    assert str(all_of(field("a").eq(1), "b=2")) == "a=1 and (b=2)"
    assert str(any_of(field("a").eq(1), field("b").eq(2))) == "a=1 or b=2"
    assert render(None) is None and render("  ") is None and render(field("a").eq(1)) == "a=1"


@pytest.mark.parametrize("path", ["", "name=1", "name or 1=1", "a//b", "/a", "a b", 'a"', "1abc"])
def test_field_paths_that_could_inject_conditions_are_refused(path):
    with pytest.raises(ValueError):
        field(path)


def test_in_needs_at_least_one_value():
    with pytest.raises(ValueError):
        field("id").in_([])


def test_conditions_compare_by_text():
    assert field("a").eq(1) == Condition("a=1")
