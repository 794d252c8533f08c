"""Reading a detailed marketplace order into typed values, and refusing malformed ones."""
import copy
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from cwsync.errors import InvalidOrder
from cwsync.adapters import mp_orders
from cwsync.domain.models import BillingPeriod
from cwsync.vocabulary import TaskStatus, TaskType


def detail():
    return {
        "id": "ORD-1", "orderNumber": "SO000012", "type": "sales", "customerId": "1000048531",
        "status": "completed", "creationDate": "2026-02-15T09:30:00Z",
        "provisioningDate": "2026-02-15T09:45:00Z", "subscriptionId": "SUB-1",
        "billingModel": "chargeBeforeBillingPeriod",
        "total": {"amount": "60.00", "currency": "USD"},
        "products": [{"mpn": "M365-BB", "name": "Microsoft 365 Business Basic", "quantity": 10,
                      "type": "CREATE", "subscriptionId": "SUB-1",
                      "billingPeriod": {"type": "month", "duration": 1}}],
        "details": [{"type": "recurring", "mpn": "M365-BB", "description": "Business Basic", "quantity": 10,
                     "unitPrice": {"amount": "4.80", "currency": "USD"},
                     "salesUnitPrice": {"amount": "6.10", "currency": "usd"}}],
    }


def test_a_well_formed_order_is_read_with_exact_money_and_utc_times():
    order = mp_orders.order(detail())
    assert (order.id, order.number, order.type, order.customer_id) == ("ORD-1", "SO000012", "sales", "1000048531")
    assert order.created_at == datetime(2026, 2, 15, 9, 30, tzinfo=timezone.utc)
    assert order.effective_date == datetime(2026, 2, 15, tzinfo=timezone.utc)
    assert order.currency == "USD"
    assert order.total == Decimal("60.00")
    assert order.subscription_id == "SUB-1"
    assert order.billing_period == BillingPeriod("month", 1)
    [line] = order.lines
    assert (line.mpn, line.name, line.quantity, line.type) == ("M365-BB", "Microsoft 365 Business Basic", 10, "CREATE")
    [charge] = order.charges
    assert charge.amount("salesUnitPrice") == Decimal("6.10")
    assert str(charge.amount("unitPrice")) == "4.80"
    assert charge.currency == "USD"


@pytest.mark.parametrize("created, expected", [
    ("2026-02-15T09:30:00", datetime(2026, 2, 15, 9, 30, tzinfo=timezone.utc)),       # naive: the API's UTC
    ("2026-02-15T01:30:00+02:00", datetime(2026, 2, 14, 23, 30, tzinfo=timezone.utc)),
    ("2026-02-15T09:30:00.123z", datetime(2026, 2, 15, 9, 30, 0, 123000, tzinfo=timezone.utc)),
])
def test_order_times_become_timezone_aware_utc(created, expected):
    raw = detail() | {"creationDate": created}
    del raw["provisioningDate"]
    order = mp_orders.order(raw)
    assert order.created_at == expected and order.created_at.tzinfo == timezone.utc


def test_the_subscription_comes_from_the_lines_when_the_order_has_none():
    raw = detail()
    del raw["subscriptionId"]
    assert mp_orders.order(raw).subscription_id == "SUB-1"


def test_stated_billing_dates_become_the_period():
    raw = detail() | {"lastBillingDate": "2028-02-01", "nextBillingDate": "2028-03-01"}
    order = mp_orders.order(raw)
    assert (order.period_start, order.period_end) == (date(2028, 2, 1), date(2028, 3, 1))


def _without(key):
    def change(raw):
        del raw[key]
    return change


def _set(path, value):
    def change(raw):
        target = raw
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
    return change


@pytest.mark.parametrize("change, message", [
    (_without("customerId"), "Order SO000012: customerId is missing"),
    (_without("orderNumber"), "Order ORD-1: orderNumber is missing"),
    (_set(["creationDate"], "15/02/2026"), "creationDate \"15/02/2026\" is not an ISO 8601 date-time"),
    (_set(["products", 0, "billingPeriod"], {"type": "fortnight", "duration": 1}),
     "products[0].billingPeriod has an unknown billing period type \"fortnight\""),
    (_set(["products", 0, "billingPeriod"], {"type": "month", "duration": 0}),
     "products[0].billingPeriod duration 0 is not a positive whole number"),
    (_set(["products", 0, "quantity"], "ten"), "products[0].quantity \"ten\" is not a number"),
    (_set(["products", 0, "quantity"], -1), "products[0].quantity -1 is negative"),
    (_set(["products", 0, "mpn"], " "), "products[0] has no mpn"),
    (_set(["details", 0, "salesUnitPrice", "amount"], "6,10"), "details[0].salesUnitPrice.amount \"6,10\" is not a number"),
    (_set(["details", 0, "unitPrice", "currency"], "EUR"), "mixes currencies EUR, USD"),
    (_set(["details", 0, "unitPrice", "currency"], "GARBAGE"),
     "details[0].unitPrice.currency \"GARBAGE\" is not a currency code (three letters, such as \"USD\")"),
    (_set(["total", "currency"], "€"), "total.currency \"€\" is not a currency code"),
    (_set(["total"], {"amount": "60.00"}), None),  # a total without currency is fine while charges name one
    (_set(["details"], "none"), "details should be a list, got \"none\""),
])
def test_malformed_orders_are_refused_with_a_reason_a_person_can_act_on(change, message):
    raw = copy.deepcopy(detail())
    change(raw)
    if message is None:
        assert mp_orders.order(raw).currency == "USD"
        return
    with pytest.raises(InvalidOrder) as error:
        mp_orders.order(raw)
    assert message in str(error.value)


def test_an_order_naming_no_currency_is_refused():
    raw = detail()
    del raw["total"]
    raw["details"] = []
    with pytest.raises(InvalidOrder, match="names no currency"):
        mp_orders.order(raw)


def test_lines_billing_on_different_periods_cannot_share_one_agreement():
    raw = detail()
    raw["products"].append({"mpn": "AZ-1", "name": "Azure", "quantity": 1, "subscriptionId": "SUB-1",
                            "billingPeriod": {"type": "year", "duration": 1}})
    with pytest.raises(InvalidOrder, match=r"bill on different periods \(month×1, year×1\)"):
        mp_orders.order(raw)


def test_something_that_is_not_an_order_is_refused():
    with pytest.raises(InvalidOrder, match="not a JSON object"):
        mp_orders.order(["SO000012"])


def test_task_types_and_statuses_are_the_words_the_store_and_state_machine_use():
    assert [str(t) for t in TaskType] == ["sales", "change", "billing", "cancellation", "renewal", "reconcile"]
    assert TaskStatus("waiting_approval") is TaskStatus.WAITING_APPROVAL
    assert {str(s) for s in TaskStatus} >= {"new", "synced", "nothing_to_change", "invalid", "ignored"}
