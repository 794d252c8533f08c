"""Values no invoice should carry are refused with a reason naming the field, never synced silently."""
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from cwsync.adapters.mp_orders import read_order
from cwsync.domain import classify
from cwsync.domain.models import OrderSummary
from cwsync.domain.plausibility import (Limits, check_amount, check_quantity, duplicate_orders,
                                        edit_problems)


def classify_order(detail, **options):
    """The check's classification of a detailed order as the marketplace sends it (read by its adapter)."""
    return classify.classify_order(read_order(detail), **options)


MONTHLY = {"type": "month", "duration": 1}


def order(number="SO000110", type_="sales", *, quantity=10, line_type="CREATE", charges=None,
          period=MONTHLY, **extra):
    product = {"mpn": "M365-BB", "name": "Business Basic", "type": line_type, "subscriptionId": "SUB-1",
               "billingPeriod": period}
    if quantity is not None:
        product["quantity"] = quantity
    return {
        "id": "ORD-" + number, "orderNumber": number, "type": type_, "customerId": "1000048531",
        "status": "completed", "creationDate": "2026-10-15T09:30:00Z", "subscriptionId": "SUB-1",
        "provisioningDate": "2026-10-15T10:00:00Z", "billingModel": "chargeBeforeBillingPeriod",
        "products": [product],
        "details": charges if charges is not None else [
            {"type": "recurring", "mpn": "M365-BB", "quantity": 10,
             "unitPrice": {"amount": "4.80", "currency": "USD"},
             "salesUnitPrice": {"amount": "6.00", "currency": "USD"}}],
        **extra,
    }


def charge(kind="recurring", price="6.00", **extra):
    line = {"type": kind, "mpn": "M365-BB", "quantity": 1, "unitPrice": {"amount": "1.00", "currency": "USD"},
            **extra}
    if price is not None:
        line["salesUnitPrice"] = {"amount": price, "currency": "USD"}
    return line


def test_a_plausible_order_becomes_a_task():
    assert classify_order(order()).outcome == "task"


@pytest.mark.parametrize("detail, words", [
    (order(charges=[charge(price=None)]), "details[0].salesUnitPrice (recurring charge) is missing"),
    (order(quantity=None), "products[0].quantity (Business Basic) is missing"),
    (order(quantity="1e20"), "more than the maximum of 10000"),
    (order(quantity=0), "products[0].quantity (Business Basic) is 0"),
    (order(quantity="2.5"), "is not a whole number"),
    (order(charges=[charge(price="-6.00")]), "details[0].salesUnitPrice (recurring charge) '-6.00' is negative"),
    (order(charges=[charge(), charge("setup", "-25.00")]), "details[1].salesUnitPrice (setup charge) '-25.00' is negative"),
    (order(period={"type": "statement_day", "duration": -3}), "products[0].billingPeriod.duration -3"),
    (order(provisioningDate="1970-01-01T00:00:00Z"), "provisioningDate 1970-01-01 is more than 92 days"),
    (order(provisioningDate="9999-12-31T00:00:00Z"), "provisioningDate 9999-12-31 is more than 92 days"),
    (order(charges=[charge(price="1e400")]), "has more than 9 digits before the decimal point"),
    (order(charges=[charge(price="1" * 31)]), "has more than 9 digits before the decimal point"),
])
def test_implausible_orders_are_invalid_with_a_reason_naming_the_field(detail, words):
    result = classify_order(detail)
    assert result.outcome == "invalid"
    assert words in result.reason
    assert "decimal." not in result.reason and "<class" not in result.reason


def test_a_cancellation_may_end_at_zero_licences_and_a_downgrade_credit_may_be_negative():
    cancellation = order("CL000111", "cancellation", quantity=0, line_type="CANCEL",
                         charges=[charge("cancellation", "10.00")])
    assert classify_order(cancellation).outcome == "task"
    downgrade = order("CH000112", "change", quantity=8, line_type="UPGRADE",
                      charges=[charge("recurring", "6.00"), charge("downgrade", "-3.00")])
    assert classify_order(downgrade).outcome == "task"


def test_the_per_product_maximum_setting_wins_over_the_general_one():
    limits = Limits(max_quantity=10000, max_quantity_by_product={"m365-bb": 5})
    result = classify_order(order(quantity=6), limits=limits)
    assert result.outcome == "invalid" and "maximum of 5" in result.reason
    assert classify_order(order(quantity=5), limits=limits).outcome == "task"


def test_two_different_orders_with_one_id_or_one_number_are_both_flagged_but_a_repeated_row_is_not():
    first = OrderSummary(id="ORD-1", number="SO1", created_at=datetime(2026, 10, 1, tzinfo=timezone.utc), type="sales")
    assert duplicate_orders([first, replace(first)]) == {}
    same_id = replace(first, number="SO2")
    assert set(duplicate_orders([first, same_id])) == {"ORD-1"}
    same_number = replace(first, id="ORD-2")
    flagged = duplicate_orders([first, same_number])
    assert set(flagged) == {"ORD-1", "ORD-2"} and "SO1" in flagged["ORD-2"]


@pytest.mark.parametrize("text, rule", [
    ("1e309", "price-digits"), ("1e999999", "price-digits"), ("NaN", "price-number"), ("Infinity", "price-number"),
    ("abc", "price-number"), ("-0", "price-negative"), ("-1.00", "price-negative"), ("1.2345678", "price-decimals"),
    ("", "price-missing"),
])
def test_confirm_form_prices_follow_the_same_rules(text, rule):
    problems = edit_problems("create_addition", "unitPrice", text, currency="USD", where="Unit price of row 1")
    assert [p.rule for p in problems] == [rule]
    assert problems[0].reason.startswith("Unit price of row 1")


@pytest.mark.parametrize("text, rule", [
    ("2.5", "quantity-whole"), ("-0", "quantity-positive"), ("0", "quantity-positive"), ("1e20", "quantity-maximum"),
    ("1e999999", "quantity-maximum"),
])
def test_confirm_form_quantities_are_whole_positive_and_below_the_maximum(text, rule):
    assert [p.rule for p in edit_problems("create_addition", "quantity", text, currency="USD")] == [rule]


def test_an_adjustment_that_credits_may_stay_negative_but_a_charge_may_not_become_one():
    assert edit_problems("create_adjustment", "amount", "-5.00", currency="USD", current="-3.00") == []
    assert [p.rule for p in edit_problems("create_adjustment", "amount", "-5.00", currency="USD",
                                          current="3.00")] == ["price-negative"]
    assert [p.rule for p in edit_problems("create_adjustment", "amount", "2.285", currency="USD",
                                          current="2.28")] == ["price-decimals"]


def test_rules_never_raise_on_odd_values():
    for value in (object(), [], {}, float("nan"), float("inf"), "1e999999999", True):
        assert check_quantity(value, "q")
        assert check_amount(value, "p", "USD")
    assert check_amount("0.0125", "p", "USD") == []  # a per-GB unit price may be finer than cents
    assert check_amount(12, "p", "JPY", unit=False) == []
    assert datetime(2026, 1, 1, tzinfo=timezone.utc)
