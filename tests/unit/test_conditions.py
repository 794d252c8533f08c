"""The ConnectWise conditions language: parsing, evaluation and error messages."""
import pytest

from cwsync_local.simulators.connectwise.conditions import ConditionError, parse, tokenize

RECORD = {
    "id": 12,
    "name": 'Green Lane "North" (LLC)',
    "identifier": "GreenLane",
    "city": "Zürich",
    "billAmount": 125.5,
    "cancelledFlag": False,
    "endDate": None,
    "startDate": "2026-01-15T00:00:00Z",
    "company": {"id": 250, "identifier": "GreenLane", "name": "Green Lane LLC"},
    "billingCycle": {"id": 1, "name": "Monthly"},
    "types": [{"id": 1, "name": "Customer"}, {"id": 3, "name": "Reseller"}],
    "note": "path a\\b",
}

MATCHING = [
    ('name = "Green Lane \\"North\\" (LLC)"', True),  # escaped quotes and parentheses inside a string
    ('name="green lane \\"north\\" (llc)"', True),  # strings compare case-insensitively
    ('name = "Green Lane"', False),
    ('name contains "(LLC)"', True),
    ('name like "Green*"', True),
    ('name like "green%north*"', True),
    ('name like "Blue*"', False),
    ('name not like "Blue*"', True),
    ('city = "ZÜRICH"', True),  # unicode, case-folded
    ('city contains "üri"', True),
    ('note = "path a\\\\b"', True),  # an escaped backslash
    ("id = 12", True),
    ("id != 12", False),
    ("id > 11 and id < 13", True),
    ("id >= 12 AND id <= 12", True),
    ("billAmount = 125.5", True),
    ("billAmount > -1", True),
    ("id in (1, 2, 12)", True),
    ("id IN (1,2,3)", False),
    ("id not in (1,2,3)", True),
    ('identifier in ("x", "greenlane")', True),
    ("cancelledFlag = False", True),
    ("cancelledFlag = true", False),
    ("endDate = null", True),
    ("endDate != NULL", False),
    ("startDate > [2026-01-01T00:00:00Z]", True),
    ("startDate < [2026-01-01T00:00:00Z]", False),
    ("startDate = [2026-01-15T00:00:00Z]", True),
    ("startDate >= [2026-01-15]", True),
    ("company/id = 250", True),
    ('company/name like "green*"', True),
    ('billingCycle/name = "Monthly"', True),
    ('types/name = "Reseller"', True),  # a path through a list matches any element
    ("types/id in (7, 8)", False),
    # and binds tighter than or: true or (false and false) = true
    ('id = 12 or id = 1 and name = "x"', True),
    # parentheses override: (true or false) and false = false
    ('(id = 12 or id = 1) and name = "x"', False),
    ('id = 1 or id = 2 or (company/id = 250 and (billingCycle/name = "Monthly"))', True),
    ("not id = 12", False),
    ("NOT (id = 1 or id = 2)", True),
    ("missingField = null", True),
    ("missingField = 3", False),
    ('missingField not like "x*"', False),  # SQL: a negated test on null is not true
]


@pytest.mark.parametrize(("conditions", "expected"), MATCHING)
def test_conditions_select_the_records_the_service_would(conditions, expected):
    assert parse(conditions)(RECORD) is expected


MALFORMED = [
    ('name = "unterminated', "Unterminated string", 7),
    ("name == 1", "Unknown operator '=='", 5),
    ("name => 1", "Unknown operator '=>'", 5),
    ("name =", "Expected a value after '=' but found end of conditions", 6),
    ("name = and id = 1", "Expected a value after '=' but found 'and'", 7),
    ("(id = 1 or id = 2", "Unbalanced parentheses: expected ')'", 17),
    ("id = 1)", "Unbalanced parentheses: unexpected ')'", 6),
    ("id in (1, 2", "Unbalanced parentheses", 11),
    ("id in 1", "Expected '(' after 'in'", 6),
    ("id 12", "Expected an operator after 'id' but found '12'", 3),
    ("id = 1 id = 2", "Expected 'and', 'or' or end of conditions but found 'id'", 7),
    ("startDate > [2026-13-45]", "Invalid datetime", 12),
    ("startDate > [2026-01-01", "Unterminated datetime", 12),
    ("name like 5", "'like' needs a quoted string", 5),
    ("endDate < null", "null can only be compared with '=' or '!='", 8),
    ("id = 1 and", "Expected a field name but found end of conditions", 10),
    ("", "Empty conditions", 0),
    ("id = 1 ; drop", "Unexpected character ';'", 7),
    ("name not = 1", "Expected 'contains', 'like' or 'in' after 'not'", 9),
]


@pytest.mark.parametrize(("conditions", "message", "position"), MALFORMED)
def test_malformed_conditions_are_refused_with_the_problem_and_its_position(conditions, message, position):
    with pytest.raises(ConditionError) as raised:
        parse(conditions)
    assert message in str(raised.value)
    assert raised.value.position == position
    assert f"at position {position}" in str(raised.value)


def test_unknown_field_names_are_refused_when_the_schema_is_known():
    known = {"id", "name", "company/id"}.__contains__
    assert parse("company/id = 1", known)({"company": {"id": 1}})
    with pytest.raises(ConditionError, match="nmae is not a recognized name"):
        parse('nmae = "x"', known)


@pytest.mark.parametrize(("text", "kinds"), [
    ('a/b="x\\"y"', ["name", "op", "string", "end"]),
    ("x in (1,-2.5)", ["name", "keyword", "(", "number", ",", "number", ")", "end"]),
    ("d>[2026-01-01T00:00:00Z]", ["name", "op", "datetime", "end"]),
    ("f <> TRUE", ["name", "op", "keyword", "end"]),
])
def test_tokens(text, kinds):
    assert [token.kind for token in tokenize(text)] == kinds


def test_escaped_quote_is_part_of_the_value():
    assert tokenize('name="say \\"hi\\""')[2].value == 'say "hi"'
