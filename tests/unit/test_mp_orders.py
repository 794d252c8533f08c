"""The marketplace's order list entries → typed summaries: real variety is read; an entry without an
id is an InvalidRecord; any other field cwsync cannot read is a summary whose problem names the order
and the field (never a Python error)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cwsync.adapters import mp_orders
from cwsync.errors import InvalidOrder, InvalidRecord

FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                    max_leaves=8)
KEYS = st.text(min_size=1, max_size=40).filter(str.strip) | st.integers(1, 10**12)
READ = ("id", "orderNumber", "type", "status", "statusCode", "creationDate", "customerId", "subscriptionId")
EXTRA = st.dictionaries(st.text(min_size=1, max_size=12).filter(lambda k: k not in READ), JSON, max_size=4)
TIMES = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(timezone.utc))
SUMMARIES = st.builds(
    lambda base, extra: {**extra, **{k: v for k, v in base.items() if v is not None}},
    st.fixed_dictionaries({
        "id": KEYS, "orderNumber": st.none() | KEYS,
        "type": st.none() | st.sampled_from(["sales", "change", "cancellation", "renewal", "migration", "unknown"]),
        "status": st.none() | st.sampled_from(["submitted", "processing", "completed", "error", "cancelled"]),
        "statusCode": st.none() | KEYS, "creationDate": st.none() | TIMES.map(lambda t: t.isoformat()),
        "customerId": st.none() | KEYS, "subscriptionId": st.none() | KEYS}), EXTRA)


def listed(**changes):
    entry = {"id": "5000112", "orderNumber": "SO000112", "type": "sales", "status": "completed",
             "creationDate": "2026-10-15T09:30:00Z", "customerId": 1000048531, "poNumber": "PO-7",
             "total": {"amount": "12.00", "currency": "USD"}}
    entry.update(changes)
    return {k: v for k, v in entry.items() if v is not ...}


def test_a_listed_order_is_read_into_its_typed_summary():
    summary = mp_orders.order_summary(listed(statusCode=None))
    assert (summary.id, summary.number, summary.type, summary.status, summary.customer_id) == (
        "5000112", "SO000112", "sales", "completed", "1000048531")
    assert summary.created_at == datetime(2026, 10, 15, 9, 30, tzinfo=timezone.utc)
    assert summary.status_code is None and summary.subscription_id is None and summary.problem is None


@FAST
@given(SUMMARIES)
def test_valid_but_varied_list_entries_are_read(raw):
    summary = mp_orders.order_summary(raw)
    assert summary.problem is None
    assert summary.id == str(raw["id"]).strip()
    assert summary.number == (str(raw["orderNumber"]).strip() if "orderNumber" in raw else None)
    assert (summary.created_at is None) == ("creationDate" not in raw)


@pytest.mark.parametrize("field, value, words", [
    ("creationDate", 1760520600, "creationDate is 1760520600, not an ISO 8601 date-time"),
    ("creationDate", "yesterday", "creationDate is \"yesterday\", not an ISO 8601 date-time"),
    ("status", ["completed"], "status is [\"completed\"], not text"),
    ("type", {"name": "sales"}, "type is {\"name\": \"sales\"}, not text"),
    ("customerId", 1.5, "customerId is 1.5, not an identifier"),
    ("statusCode", True, "statusCode is true, not an identifier"),
])
def test_a_field_that_cannot_be_read_makes_a_summary_whose_problem_names_the_order_and_the_field(field, value, words):
    summary = mp_orders.order_summary(listed(**{field: value}))
    assert summary.id == "5000112" and summary.number == "SO000112"
    assert summary.problem == (f"The marketplace order SO000112 (5000112): {words}; check the order in the "
                               "marketplace and handle it by hand in ConnectWise")


@pytest.mark.parametrize("entry, words", [
    (listed(id=...), "The marketplace order SO000112 (no id): id is missing"),
    (listed(id=""), "The marketplace order SO000112 (no id): id is missing"),
    (listed(id=[5000112], orderNumber=None), "The marketplace order (no id): id is [5000112], not an identifier"),
    ("SO000112", "The marketplace order (no id): (record) is \"SO000112\", not an object"),
])
def test_an_entry_without_a_readable_id_is_refused_naming_what_it_can(entry, words):
    with pytest.raises(InvalidRecord) as refused:
        mp_orders.order_summary(entry)
    assert str(refused.value).startswith(words)


@FAST
@given(JSON | st.dictionaries(st.sampled_from(READ), JSON, max_size=8))
def test_any_json_at_all_is_read_as_a_summary_or_refused_with_a_reason(raw):
    try:
        summary = mp_orders.order_summary(raw)
    except InvalidRecord as refused:
        assert refused.field and str(refused).startswith("The marketplace order ")
        return
    assert summary.id and (summary.problem is None or summary.problem.startswith("The marketplace order "))


def detail(**changes):
    order = {**listed(), "subscriptionId": "SUB-1", "provisioningDate": "2026-10-15T10:00:00Z",
             "products": [{"mpn": "M365-BB", "name": "Business Basic", "quantity": 10, "type": "CREATE",
                           "subscriptionId": "SUB-1", "billingPeriod": {"type": "month", "duration": 1}}],
             "details": [{"type": "recurring", "mpn": "M365-BB", "quantity": 10,
                          "salesUnitPrice": {"amount": "6.00", "currency": "USD"}}]}
    order.update(changes)
    return order


def test_a_detailed_order_is_read_for_the_check_with_its_status_apart_and_the_parsed_order():
    reading = mp_orders.read_order(detail(statusCode="E42"))
    assert (reading.number, reading.status, reading.status_code) == ("SO000112", "completed", "E42")
    assert reading.order is not None and reading.order.lines[0].mpn == "M365-BB" and reading.problem is None
    assert reading.order == mp_orders.order(detail())
    assert reading.unstated_quantities == frozenset() and reading.not_an_order is None


def test_an_order_the_steps_cannot_read_is_refused_naming_the_field_and_read_for_the_check_with_the_reason():
    broken = detail(customerId=None)
    with pytest.raises(InvalidOrder) as refused:
        mp_orders.order(broken)
    assert str(refused.value) == "Order SO000112: customerId is missing"
    reading = mp_orders.read_order(broken)
    assert reading.order is None and reading.problem == "Order SO000112: customerId is missing"
    assert reading.status == "completed"  # an unfinished order would still be judged by its status


@pytest.mark.parametrize("raw, words", [
    ("SO000112", "The order is not a JSON object"),
    (detail(status=["completed"]), "Order SO000112 has an unknown status [\"completed\"]"),
    (detail(status={"name": "completed"}), "Order SO000112 has an unknown status {\"name\": \"completed\"}"),
    (detail(status=3), "Order SO000112 has an unknown status 3"),
])
def test_a_record_or_a_status_that_cannot_be_read_is_said_in_words(raw, words):
    assert mp_orders.read_order(raw).not_an_order == words


def test_a_product_line_without_a_quantity_is_read_as_0_and_named_as_unstated():
    order = detail()
    del order["products"][0]["quantity"]
    reading = mp_orders.read_order(order)
    assert reading.order.lines[0].quantity == 0 and reading.unstated_quantities == frozenset({0})
