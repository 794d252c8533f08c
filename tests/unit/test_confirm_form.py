"""The confirm form: every field of an addition editable, checks named in plain words, totals."""
from __future__ import annotations

from decimal import Decimal

import pytest

from cwsync.approvals import InvalidEdits, parse_decision, render_approval_page
from cwsync.confirm_form import amounts, validate

KEY = "create-addition:MP-SUB-1-SO1"


def plan():
    return {"currency": "USD", "agreementId": 12, "summary": "x", "operations": [
        {"key": KEY, "action": "create_addition", "agreementId": 12,
         "fields": {"product": {"id": 7}, "quantity": "10", "unitPrice": "8.00", "unitCost": "6.40",
                    "billCustomer": "Billable", "taxableFlag": True, "effectiveDate": "2026-02-15T00:00:00Z",
                    "serialNumber": "MP-SUB-1-SO1", "description": "Microsoft 365 Business Basic"},
         "explanation": "New subscription",
         "prices": {"chosen": "marketplace", "options": {"marketplace": {"unitPrice": "8.00", "unitCost": "6.40"},
                                                         "catalog": {"unitPrice": "10.00", "unitCost": "7.00"}}}},
        {"key": "cancel-addition:5", "action": "cancel_addition", "agreementId": 12,
         "fields": {"cancelledDate": "2026-02-15T00:00:00Z"}, "explanation": "ends",
         "before": {"quantity": 4, "unitPrice": "9.00", "description": "Old"}},
        {"key": "create-adjustment:MP-SUB-1-SO1:setup:1", "action": "create_adjustment", "agreementId": 12,
         "match": {"tag": "MP-SUB-1-SO1:setup:1"},
         "fields": {"amount": "40.00", "description": "Setup fee", "effectiveDate": "2026-02-15T00:00:00Z"},
         "explanation": "fee"}]}


def confirm(plan_dict=None):
    return {"approvalId": "a", "kind": "confirm", "status": "pending", "plan": plan_dict or plan(),
            "options": [{"id": "apply", "label": "Apply", "eligible": True}], "recommended": "apply",
            "expiresAt": "2099-01-01T00:00:00Z", "task": {"currency": "USD", "billingCycle": "Monthly"}}


def test_dates_flags_billing_and_the_price_source_become_the_values_written():
    edits = {KEY: {"effectiveDate": "2026-02-20", "cancelledDate": "2027-02-19", "taxableFlag": "false",
                   "billCustomer": "DoNotBill", "priceSource": "catalog", "unitPrice": "8.00", "quantity": "10"}}
    accepted, problems = validate(plan(), edits)
    assert problems == []
    assert accepted == {KEY: {"effectiveDate": "2026-02-20T00:00:00Z", "cancelledDate": "2027-02-19T00:00:00Z",
                              "taxableFlag": False, "billCustomer": "DoNotBill",
                              "unitPrice": "10.00", "unitCost": "7.00"}}


def test_a_price_typed_by_the_approver_wins_over_the_chosen_source():
    accepted, _ = validate(plan(), {KEY: {"priceSource": "catalog", "unitPrice": "9.50"}})
    assert accepted == {KEY: {"unitPrice": "9.50", "unitCost": "7.00"}}


def test_every_problem_is_named_at_its_field_and_nothing_is_accepted_half():
    edits = {KEY: {"quantity": "ten", "effectiveDate": "15/02/2026", "cancelledDate": "2026-01-01",
                   "billCustomer": "Sometimes", "description": "x" * 6001, "priceSource": "elsewhere"},
             "create-adjustment:MP-SUB-1-SO1:setup:1": {"amount": "abc"}}
    with pytest.raises(InvalidEdits) as refused:
        parse_decision(confirm(), {"decision": "approve", "choice": "apply", "changes": edits})
    fields = sorted((p.key, p.field) for p in refused.value.problems)
    assert fields == sorted([(KEY, "quantity"), (KEY, "effectiveDate"), (KEY, "cancelledDate"),
                             (KEY, "billCustomer"), (KEY, "description"), (KEY, "priceSource"),
                             ("create-adjustment:MP-SUB-1-SO1:setup:1", "amount")])
    for problem in refused.value.problems:
        assert "row " in problem.message and "Decimal" not in problem.message and "Error" not in problem.message
    assert refused.value.changes[KEY]["quantity"] == "ten"  # kept for the page


def test_a_refused_form_is_shown_again_with_every_edit_and_each_error_beside_its_field():
    edits = {KEY: {"quantity": "ten", "unitPrice": "9.99", "taxableFlag": "false", "effectiveDate": "2026-02-20"}}
    with pytest.raises(InvalidEdits) as refused:
        parse_decision(confirm(), {"decision": "approve", "choice": "apply", "changes": edits})
    html = render_approval_page(confirm(), action="./a", sig="s", exp="1", edits=refused.value.changes,
                                problems=refused.value.problems)
    assert 'role="alert"' in html and 'href="#f1-quantity"' in html
    assert 'id="f1-quantity" name="changes.create-addition:MP-SUB-1-SO1.quantity" value="ten"' in html
    assert 'value="9.99"' in html and 'value="2026-02-20"' in html
    assert 'id="f1-taxableFlag" name="changes.create-addition:MP-SUB-1-SO1.taxableFlag" value="true">' in html
    assert 'aria-invalid="true" aria-describedby="f1-quantity-err"' in html


def test_totals_split_recurring_from_one_time_and_follow_the_edits():
    shown = amounts(plan())
    assert shown == {"recurringAdded": Decimal("80.00"), "recurringRemoved": Decimal("36.00"),
                     "recurringChange": Decimal("44.00"), "oneTime": Decimal("40.00")}
    edited = amounts(plan(), {KEY: {"quantity": "12", "priceSource": "catalog"}})
    assert edited["recurringAdded"] == Decimal("120.00") and edited["recurringChange"] == Decimal("84.00")
    not_billed = amounts(plan(), {KEY: {"billCustomer": "NoCharge"}})
    assert not_billed["recurringAdded"] == 0 and not_billed["recurringChange"] == Decimal("-36.00")


def test_the_page_labels_the_totals_per_billing_cycle_and_each_amount_with_its_sign():
    html = render_approval_page(confirm(), action="./a", sig="s", exp="1", nonce="N0NCE")
    assert '<span id="recurring-added">80.00</span> USD per month' in html
    assert '<span id="recurring-change">+44.00</span>' in html and '<span id="one-time">40.00</span>' in html
    assert "Today in ConnectWise:" in html and "Quantity 4" in html
    assert '<script nonce="N0NCE">' in html
    assert "Marketplace order: price 8.00, cost 6.40 USD" in html and "ConnectWise catalog: price 10.00" in html


def test_a_patched_quantity_or_price_counts_in_the_totals_as_the_old_bill_ending_and_the_new_one_starting():
    patch = {"currency": "USD", "agreementId": 12, "summary": "x", "operations": [
        {"key": "patch-addition:9", "action": "update_addition", "agreementId": 12, "match": {"id": 9},
         "fields": {"quantity": "12"}, "explanation": "Set quantity 10 → 12",
         "before": {"quantity": 10, "unitPrice": "6.00", "billCustomer": "Billable"}},
        {"key": "adopt-addition:8", "action": "update_addition", "agreementId": 12, "match": {"id": 8},
         "fields": {"serialNumber": "MP-SUB-2-RC20260215"}, "explanation": "Adopt",
         "before": {"quantity": 5, "unitPrice": "6.00"}}]}
    assert amounts(patch) == {"recurringAdded": Decimal("72.00"), "recurringRemoved": Decimal("60.00"),
                              "recurringChange": Decimal("12.00"), "oneTime": Decimal(0)}
    assert amounts(patch, {"patch-addition:9": {"quantity": "11"}})["recurringChange"] == Decimal("6.00")
    html = render_approval_page(confirm(patch), action="./a", sig="s", exp="1", nonce="N0NCE")
    assert 'data-action="update_addition" data-quantity="10" data-unit-price="6.00">' in html
    assert html.count("data-quantity=") == 1  # the adopted one bills as before: not in the totals
    assert '<span id="recurring-change">+12.00</span>' in html


def test_a_repair_of_several_subscriptions_names_them_all_on_its_page():
    approval = confirm()
    approval["task"] = {**approval["task"], "subscriptions": ["SUB-1", "SUB-2", "SUB-3"]}
    html = render_approval_page(approval, action="./a", sig="s", exp="1")
    assert '<dd id="subscriptions" class="wrap">3: SUB-1, SUB-2, SUB-3</dd>' in html
    assert 'id="subscriptions"' not in render_approval_page(confirm(), action="./a", sig="s", exp="1")
