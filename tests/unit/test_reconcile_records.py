"""What reconciliation reads, typed at the edge: ConnectWise agreements with their invoicing dates
(`cw_records.agreement`) and marketplace subscriptions (`mp_records.subscription`,
`mp_records.subscription_summary`). Real shapes are accepted (reference objects with more fields,
optional fields missing or null, fields of newer API versions); anything else is an `InvalidRecord`
naming the system, the record, the field and the fix, never a Python message."""
from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from cwsync.adapters import cw_records, mp_records
from cwsync.domain import reconcile as r
from cwsync.domain.models import BillingPeriod
from cwsync.errors import InvalidRecord
from plain_text import PYTHON_TEXT

AGREEMENT = {
    "id": 401, "name": "Managed cloud", "type": {"id": 3, "name": "Cloud", "_info": {"type_href": "..."}},
    "company": {"id": 19301, "identifier": "GreenLane", "name": "Green Lane", "_info": {"company_href": "..."}},
    "agreementStatus": "Active", "cancelledFlag": False,
    "billingCycle": {"id": 1, "name": "Monthly", "_info": {}}, "currency": {
        "id": 7, "symbol": "$", "currencyIdentifier": "USD", "currencyCode": "USD", "name": "US Dollar"},
    "billStartDate": "2025-01-01T00:00:00Z", "nextInvoiceDate": "2026-12-01T00:00:00Z",
    "endDate": None, "noEndingDateFlag": True, "invoiceProratedAdditionsFlag": True, "prorateFlag": False,
}
SUBSCRIPTION = {
    "id": "SUB-1", "name": "Microsoft 365 Business Basic", "customerId": "1000048531", "status": "active",
    "renewalStatus": True, "creationDate": "2026-01-14", "lastModifiedDate": "2026-11-02",
    "billingModel": "chargeBeforeBillingPeriod", "billingPeriod": {"type": "month", "duration": 1},
    "subscriptionPeriod": {"type": "year", "duration": 1}, "totalPrice": {"amount": "60.00", "currency": "USD"},
    "products": [{"mpn": "M365-BASIC", "id": "2001", "vendor": "Microsoft", "name": "Business Basic",
                  "quantity": 10, "unitPrice": {"amount": "6.00", "currency": "USD"},
                  "unitCost": {"amount": "4.80", "currency": "USD"}, "newerField": {"x": [1]}}],
}


def python_text(message: str, given) -> bool:
    """Whether the message has Python's text of its own: the values the record gave (which a reason
    quotes as sent, and hypothesis may make "None" or "KeyError") are taken out first."""
    def texts(value):
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for key, inner in value.items():
                yield str(key)
                yield from texts(inner)
        elif isinstance(value, list):
            for inner in value:
                yield from texts(inner)

    for text in sorted(set(texts(given)), key=len, reverse=True):
        if text:
            message = message.replace(text, "")
    return bool(PYTHON_TEXT.search(message)) or "'dict'" in message


def with_(record: dict, path: tuple, value) -> dict:
    changed = copy.deepcopy(record)
    node = changed
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return changed


def without(record: dict, path: tuple) -> dict:
    changed = copy.deepcopy(record)
    node = changed
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return changed


# --- agreements -------------------------------------------------------------------------------------

def test_an_agreement_is_read_with_the_invoicing_dates_a_repair_starts_from():
    agreement = cw_records.agreement(AGREEMENT)
    assert (agreement.id, agreement.company_id, agreement.billing_cycle, agreement.currency_code) == \
        (401, 19301, "Monthly", "USD")
    assert (agreement.bill_start_date, agreement.next_invoice_date) == (date(2025, 1, 1), date(2026, 12, 1))
    assert agreement.invoices
    assert r.next_billed_day(agreement, date(2026, 11, 20)) == date(2026, 12, 1)


def test_an_agreement_without_invoicing_dates_is_repaired_from_today():
    agreement = cw_records.agreement(with_(without(AGREEMENT, ("billStartDate",)), ("nextInvoiceDate",), None))
    assert (agreement.bill_start_date, agreement.next_invoice_date) == (None, None)
    assert r.next_billed_day(agreement, date(2026, 11, 20)) == date(2026, 11, 20)


def test_an_agreement_not_billing_before_its_start_is_repaired_from_its_start():
    agreement = cw_records.agreement(with_(AGREEMENT, ("billStartDate",), "2027-02-01T00:00:00Z"))
    assert r.next_billed_day(agreement, date(2026, 11, 20)) == date(2027, 2, 1)


def test_a_currency_record_code_on_an_agreement_is_read_as_its_name():
    agreement = cw_records.agreement(with_(AGREEMENT, ("currency", "currencyCode"), {"id": 1, "name": "EUR"}))
    assert agreement.currency_code == "EUR"


@pytest.mark.parametrize("path, value, field", [
    (("nextInvoiceDate",), "next month", "nextInvoiceDate"),
    (("billStartDate",), 20250101, "billStartDate"),
    (("currency", "currencyCode"), 840, "currency/currencyCode"),
    (("billingCycle",), "Monthly", "billingCycle"),
    (("cancelledFlag",), "no", "cancelledFlag"),
])
def test_an_unreadable_agreement_field_is_named_with_the_agreement_and_the_fix(path, value, field):
    with pytest.raises(InvalidRecord) as error:
        cw_records.agreement(with_(AGREEMENT, path, value))
    assert (error.value.system, error.value.record_id, error.value.field) == ("ConnectWise", 401, field)
    assert str(error.value).startswith(f"ConnectWise agreement 401: {field} is ")
    assert str(error.value).endswith("correct the agreement in ConnectWise and check again")


def test_readable_keeps_the_agreements_it_can_read_and_sets_the_others_apart_with_their_company():
    broken = with_(with_(AGREEMENT, ("id",), 402), ("nextInvoiceDate",), {"date": "soon"})
    typed, unreadable = cw_records.readable(cw_records.agreement, [AGREEMENT, broken])
    assert [a.id for a in typed] == [401]
    ((raw, error),) = unreadable
    assert cw_records.agreement_company(raw) == 19301
    assert str(error).startswith("ConnectWise agreement 402: nextInvoiceDate is ")
    assert cw_records.agreement_company({"company": "Green Lane"}) is None


# --- subscriptions ----------------------------------------------------------------------------------

def test_a_subscription_is_read_with_its_lines_in_one_currency_and_fields_it_does_not_use_are_ignored():
    sub = mp_records.subscription(SUBSCRIPTION)
    assert (sub.id, sub.customer_id, sub.status, sub.currency, sub.period) == \
        ("SUB-1", "1000048531", "active", "USD", BillingPeriod("month", 1))
    assert sub.lines == (r.SubscriptionLine("M365-BASIC", "Business Basic", Decimal(10), Decimal("6.00"),
                                            Decimal("4.80")),)
    assert (sub.created, sub.billing_model, sub.billed) == (date(2026, 1, 14), "chargeBeforeBillingPeriod", True)


def test_optional_subscription_fields_may_be_missing_or_null():
    raw = with_(with_(with_(SUBSCRIPTION, ("products", 0, "unitCost"), None), ("name",), None), ("creationDate",), None)
    raw = with_(with_(raw, ("products", 0, "name"), None), ("billingModel",), None)
    sub = mp_records.subscription(raw)
    assert (sub.name, sub.created, sub.billing_model) == ("SUB-1", None, None)
    assert (sub.lines[0].name, sub.lines[0].unit_cost) == ("M365-BASIC", None)


def test_a_bare_price_takes_the_currency_of_the_subscriptions_total():
    sub = mp_records.subscription(with_(without(SUBSCRIPTION, ("products", 0, "unitCost")),
                                        ("products", 0, "unitPrice"), "6.00"))
    assert (sub.currency, sub.lines[0].unit_price) == ("USD", Decimal("6.00"))


def test_a_list_entry_is_read_as_an_ended_subscription_without_products():
    summary = mp_records.subscription_summary(with_(SUBSCRIPTION, ("status",), "terminated"))
    assert (summary.id, summary.customer_id, summary.ended, summary.changed) == \
        ("SUB-1", "1000048531", True, date(2026, 11, 2))
    sub = mp_records.subscription(with_(SUBSCRIPTION, ("status",), "terminated"), products=False)
    assert (sub.lines, sub.ended) == ((), True)


@pytest.mark.parametrize("change, field, problem", [
    (lambda s: without(s, ("customerId",)), "customerId", "is missing"),
    (lambda s: with_(s, ("products", 0, "mpn"), " "), "products[0]/mpn", "is missing"),
    (lambda s: without(s, ("products", 0, "unitPrice")), "products[0]/unitPrice", "is missing"),
    (lambda s: with_(s, ("products", 0, "quantity"), "many"), "products[0]/quantity", 'is "many", not a number'),
    (lambda s: with_(s, ("products", 0, "quantity"), None), "products[0]/quantity", "is missing"),
    (lambda s: with_(s, ("products", 0, "unitCost", "currency"), "EUR"), "products[0]/unitCost/currency",
     "is EUR, where the subscription's other amounts are in USD"),
    (lambda s: with_(s, ("billingPeriod", "type"), "fortnight"), "billingPeriod/type", 'is "fortnight", not one of'),
    (lambda s: with_(s, ("billingPeriod", "duration"), 1.5), "billingPeriod/duration",
     "is 1.5, not a positive whole number"),
    (lambda s: with_(s, ("billingPeriod", "duration"), 2**31), "billingPeriod/duration",
     "is 2147483648, not a positive whole number"),
    (lambda s: with_(s, ("products",), {"mpn": "M365-BASIC"}), "products", 'is {"mpn": "M365-BASIC"}, not a list'),
])
def test_an_unreadable_subscription_is_named_with_its_field_and_the_fix(change, field, problem):
    with pytest.raises(InvalidRecord) as error:
        mp_records.subscription(change(SUBSCRIPTION))
    message = str(error.value)
    assert (error.value.system, error.value.record, error.value.record_id, error.value.field) == \
        ("The marketplace", "subscription", "SUB-1", field)
    assert message.startswith(f"The marketplace subscription SUB-1: {field} {problem}")
    assert message.endswith("correct the subscription in the marketplace and run the reconciliation again")


# --- broken shapes, generated -----------------------------------------------------------------------

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                    max_leaves=6)


def paths(value, prefix=()) -> list[tuple]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, inner in value.items():
            found += paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += paths(inner, (*prefix, index))
    return found


def named(path: tuple) -> str:
    """A path as cwsync's messages name a field: `products[0]/unitPrice/currency`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else ("/" if text else "") + part
    return text


def broken(record: dict):
    """The record with one value anywhere replaced by any JSON value, or removed."""
    return st.tuples(st.sampled_from(paths(record)), JSON, st.booleans()).map(
        lambda c: (c[0], without(record, c[0]) if c[2] else with_(record, c[0], c[1])))


def assert_names_a_field(error: InvalidRecord, record: dict, changed: dict) -> None:
    message = str(error)
    assert not python_text(message, changed), message
    known = {named(p) for p in paths(record) + paths(changed)} | {"(record)"}
    assert error.field in known, (error.field, message)
    assert message.startswith(f"{error.system} {error.record} {error.record_id}: {error.field} ")


def read_or_refused(parse, record: dict, changed: dict):
    """The typed record, or None when it was refused naming a field of it in words."""
    try:
        return parse(changed)
    except InvalidRecord as error:
        assert_names_a_field(error, record, changed)
        return None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(broken(SUBSCRIPTION))
def test_a_subscription_of_any_broken_shape_is_read_or_refused_naming_a_field_of_it(change):
    sub = read_or_refused(mp_records.subscription, SUBSCRIPTION, change[1])
    if sub is not None:
        assert all(isinstance(line.quantity, Decimal) and line.quantity.is_finite() for line in sub.lines)
        assert isinstance(sub.period, BillingPeriod) and isinstance(sub.currency, str)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(broken(AGREEMENT))
def test_an_agreement_of_any_broken_shape_is_read_or_refused_naming_a_field_of_it(change):
    agreement = read_or_refused(cw_records.agreement, AGREEMENT, change[1])
    if agreement is not None:
        assert r.next_billed_day(agreement, date(2026, 11, 20)) >= date(2026, 11, 20)
        assert agreement.currency_code is None or isinstance(agreement.currency_code, str)


@settings(max_examples=100, deadline=None)
@given(JSON)
def test_a_subscription_that_is_not_an_object_is_refused_as_a_record(raw):
    try:
        mp_records.subscription_summary(raw)
    except InvalidRecord as error:
        assert not python_text(str(error), raw), str(error)
        assert error.field in ("(record)", "id", "customerId", "status")
