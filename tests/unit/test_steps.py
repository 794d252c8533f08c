"""The SyncTask steps on the in-memory fakes of their ports (no AWS, no HTTP): what they decide,
remember and tell people."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from cwsync.approvals import verify_link
from cwsync.config import Settings
from cwsync.errors import ApprovalRejected, SyncFailed
from cwsync.services import steps
from cwsync.notifications import nothing_to_change_reason
from cwsync.services.deps import Dependencies
from cwsync.vocabulary import OptionId
from fakes import FakeConnectWise, FakeMarketplace, FakeNotifier, FakeStore

KEY = b"s" * 32
NOW = datetime(2026, 2, 15, 9, 0, tzinfo=timezone.utc)
CUSTOMER = {"id": "1000048531", "name": "Green Lane LLC"}


def sales_order(order_id="5000012", number="SO000012", mpn="M365-BB", customer_id="1000048531", sub="SUB-1"):
    money = lambda amount: {"amount": amount, "currency": "USD"}  # noqa: E731
    return {
        "id": order_id, "orderNumber": number, "type": "sales", "customerId": customer_id,
        "creationDate": "2026-02-15T08:00:00Z", "status": "completed", "total": money("60.00"),
        "subscriptionId": sub,
        "products": [{"mpn": mpn, "name": "Microsoft 365 Business Basic", "quantity": 10, "subscriptionId": sub,
                      "billingPeriod": {"type": "month", "duration": 1}, "type": "CREATE"}],
        "details": [{"type": "recurring", "mpn": mpn, "description": "M365 BB", "quantity": 10,
                     "unitPrice": money("4.80"), "salesUnitPrice": money("6.00")}],
    }


def agreement(agreement_id, *, company=17, cycle="Monthly", currency="USD", status="Active", name="Managed services"):
    return {"id": agreement_id, "name": name, "company": {"id": company}, "agreementStatus": status,
            "billingCycle": {"name": cycle}, "currency": {"currencyCode": currency}}


@pytest.fixture
def store():
    return FakeStore(clock=lambda: NOW)


def make_deps(store, *, connectwise, marketplace=None, env=None, stepfunctions=None):
    settings = Settings.from_environment({"TABLE_NAME": "cwsync-test", "APPROVALS_BASE_URL": "https://approve.example",
                                          "APPROVAL_TIMEOUT_SECONDS": "3600", **(env or {})})
    return Dependencies(settings, store=store, connectwise=connectwise,
                        marketplace=marketplace or FakeMarketplace([CUSTOMER]), notifier=FakeNotifier(),
                        signing_key=KEY, clock=lambda: NOW, stepfunctions=stepfunctions)


def add_task(deps, order, task_type="sales"):
    deps.store.create_task({"taskId": order["id"], "orderId": order["id"], "orderNumber": order["orderNumber"],
                            "customerId": order["customerId"], "taskType": task_type, "order": order})
    return order["id"]


COMPANY = {"id": 17, "identifier": "GreenLane", "name": "Green Lane LLC"}
ITEM = {"id": 7, "identifier": "M365-BB", "description": "Microsoft 365 Business Basic",
        "manufacturerPartNumber": "M365-BB", "price": 6, "cost": 4.8}


# --- LoadTask --------------------------------------------------------------------------------

def test_loading_a_task_marks_it_in_progress(store):
    deps = make_deps(store, connectwise=FakeConnectWise())
    task_id = add_task(deps, sales_order())
    assert steps.load_task(deps, task_id)["outcome"] == "loaded"
    task = deps.store.get_task(task_id)
    assert task["status"] == "in_progress" and task["history"][-1]["reason"].startswith("Sync started")


def test_a_finished_task_is_left_alone(store):
    deps = make_deps(store, connectwise=FakeConnectWise())
    task_id = add_task(deps, sales_order())
    deps.store.update_task(task_id, "synced", "done")
    assert steps.load_task(deps, task_id)["outcome"] == "already_finished"
    assert deps.store.get_task(task_id)["status"] == "synced"


def test_an_unknown_task_fails_with_a_reason(store):
    with pytest.raises(SyncFailed, match="not in the cwsync table"):
        steps.load_task(make_deps(store, connectwise=FakeConnectWise()), "nope")


# --- LinkCustomer ----------------------------------------------------------------------------

def test_a_customer_linked_once_is_remembered_and_the_step_skipped_next_time(store):
    connectwise = FakeConnectWise(companies=[COMPANY])
    deps = make_deps(store, connectwise=connectwise)
    first = add_task(deps, sales_order())
    assert steps.link_customer(deps, first) == {"outcome": "linked", "companyId": "17", "source": "match"}
    assert deps.store.get_customer_link("1000048531")["companyId"] == "17"

    connectwise.calls.clear()
    deps.marketplace.calls.clear()
    second = add_task(deps, sales_order(order_id="5000013", number="SO000013"))
    result = steps.link_customer(deps, second)
    assert result["skipped"] is True and result["companyId"] == "17" and result["source"] == "remembered"
    assert connectwise.calls == [] and deps.marketplace.calls == []  # no API call at all
    assert deps.store.get_task(second)["companyId"] == "17"
    # The operator still sees the customer's name, remembered with the link.
    assert deps.store.get_task(second)["customerName"] == deps.store.get_task(first)["customerName"]
    assert deps.store.get_task(second)["customerName"] == CUSTOMER["name"]


def test_an_unsure_customer_match_asks_a_person_and_remembers_the_answer(store):
    companies = [{"id": 21, "identifier": "GLANE", "name": "Green Lane Landscaping"},
                 {"id": 22, "identifier": "GLH", "name": "Green Lane Holdings"}]
    deps = make_deps(store, connectwise=FakeConnectWise(companies=companies))
    task_id = add_task(deps, sales_order())

    asked = steps.link_customer(deps, task_id)
    assert asked["outcome"] == "needs_approval"
    approval = asked["approval"]
    assert approval["kind"] == "customer"
    assert approval["title"] == "Choose the ConnectWise company for Green Lane LLC (order SO000012)"
    assert {o["id"] for o in approval["options"]} == {"21", "22", "create-company", "found-company"}

    requested = steps.request_approval(deps, task_id, approval, "TOKEN-123")
    stored = deps.store.get_approval(requested["approvalId"])
    assert stored["token"] == "TOKEN-123" and stored["status"] == "pending" and stored["kind"] == "customer"
    assert stored["task"]["customerName"] == "Green Lane LLC" and stored["task"]["orderNumber"] == "SO000012"
    assert deps.store.get_task(task_id)["status"] == "waiting_approval"

    decided = steps.link_customer(deps, task_id, decision={"decision": "approve", "choice": "22", "changes": {},
                                                           "approvalId": requested["approvalId"]})
    assert decided == {"outcome": "linked", "companyId": "22", "source": "approval"}
    link = deps.store.get_customer_link("1000048531")
    assert (link["companyId"], link["linkedBy"]) == ("22", "approval")
    task = deps.store.get_task(task_id)
    assert task["status"] == "in_progress" and "chosen by the approver" in task["history"][-1]["reason"]


def test_no_company_at_all_asks_a_person_to_search_or_create_it(store):
    deps = make_deps(store, connectwise=FakeConnectWise(companies=[{"id": 1, "name": "Zebra Corp"}]))
    asked = steps.link_customer(deps, add_task(deps, sales_order()))
    assert asked["outcome"] == "needs_approval" and asked["approval"]["recommended"] is None
    assert {o["id"] for o in asked["approval"]["options"]} == {"create-company", "found-company"}
    assert "Search for it, or create it" in asked["approval"]["explanation"]


def test_a_rejection_reaching_a_step_is_an_approval_rejected_error(store):
    deps = make_deps(store, connectwise=FakeConnectWise(companies=[COMPANY]))
    with pytest.raises(ApprovalRejected):
        steps.link_customer(deps, add_task(deps, sales_order()), decision={"decision": "reject", "reason": "no"})


# --- RequestApproval -------------------------------------------------------------------------

def test_the_approval_notification_has_a_signed_expiring_link_and_never_the_token(store):
    deps = make_deps(store, connectwise=FakeConnectWise())
    task_id = add_task(deps, sales_order())
    deps.store.set_task_attributes(task_id, customerName="Green Lane LLC")
    approval = {"kind": "customer", "title": "Choose the ConnectWise company for Green Lane LLC (order SO000012)",
                "options": [{"id": "21", "label": "Green Lane Landscaping (GLANE)", "eligible": True, "reason": "80%"},
                            {"id": "23", "label": "Old Green Lane", "eligible": False, "reason": "Company is deleted"}],
                "recommended": "21", "explanation": "No exact match"}
    result = steps.request_approval(deps, task_id, approval, "TOKEN-SECRET-XYZ")
    [sent] = deps.notifier.sent
    assert sent["subject"] == "Choose the ConnectWise company for Green Lane LLC (order SO000012)"
    assert "TOKEN-SECRET-XYZ" not in json.dumps(sent) and "TOKEN-SECRET-XYZ" not in json.dumps(result)
    assert "Green Lane Landscaping (GLANE) (recommended)" in sent["message"]
    assert "Old Green Lane — cannot be chosen: Company is deleted" in sent["message"]
    [(label, url)] = sent["links"]
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert parts.netloc == "approve.example" and parts.path == f"/approvals/{result['approvalId']}"
    assert int(query["exp"]) == int(NOW.timestamp()) + 3600
    assert verify_link(KEY, result["approvalId"], query["sig"], query["exp"], now=NOW) == int(query["exp"])


# --- LinkProduct -----------------------------------------------------------------------------

def test_a_product_with_a_matching_mpn_is_linked_and_remembered(store):
    connectwise = FakeConnectWise(catalog=[ITEM])
    deps = make_deps(store, connectwise=connectwise)
    result = steps.link_product(deps, add_task(deps, sales_order()))
    assert result["outcome"] == "linked" and result["products"] == {"M365-BB": "7"}
    connectwise.calls.clear()
    again = steps.link_product(deps, add_task(deps, sales_order(order_id="5000013", number="SO000013")))
    assert again["skipped"] is True and connectwise.calls == []


def test_an_unknown_product_can_be_added_to_connectwise_from_the_approval(store):
    connectwise = FakeConnectWise(catalog=[{"id": 9, "identifier": "M365-E3", "description": "Microsoft 365 E3",
                                            "manufacturerPartNumber": "M365-E3"}],
                                  agreements=[agreement(12)])
    deps = make_deps(store, connectwise=connectwise, env={"CATALOG_SUBCATEGORY_ID": "3", "CATALOG_TYPE_ID": "4",
                                                        "APPROVAL_POLICY": "never"})
    task_id = add_task(deps, sales_order())
    asked = steps.link_product(deps, task_id)
    assert asked["outcome"] == "needs_approval"
    options = {o["id"]: o for o in asked["approval"]["options"]}
    assert options["add-to-connectwise"]["eligible"] is True
    assert asked["approval"]["title"].startswith("Choose the ConnectWise product for Microsoft 365 Business Basic")
    requested = steps.request_approval(deps, task_id, asked["approval"], "T")
    done = steps.link_product(deps, task_id, decision={"decision": "approve", "choice": "add-to-connectwise",
                                                       "approvalId": requested["approvalId"]})
    assert done["outcome"] == "linked" and done["newProducts"] == ["M365-BB"]

    deps.store.set_task_attributes(task_id, companyId="17", agreementId="12")
    planned = steps.plan_changes(deps, task_id)
    assert planned["outcome"] == "planned" and planned["needsConfirmation"] is False
    plan = deps.store.get_task(task_id)["plan"]
    assert plan["operations"][0]["action"] == "create_catalog_item"
    assert plan["operations"][0]["fields"]["identifier"] == "M365-BB"
    assert plan["operations"][1]["fields"]["product"] == {"identifier": "M365-BB"}


def test_without_catalog_settings_or_connectwise_lists_adding_a_product_is_offered_but_not_possible(store):
    connectwise = FakeConnectWise(catalog=[])
    connectwise.references = {**connectwise.references, "catalog": {"category": [], "subcategory": [], "type": []}}
    deps = make_deps(store, connectwise=connectwise)
    asked = steps.link_product(deps, add_task(deps, sales_order()))
    add = next(o for o in asked["approval"]["options"] if o["id"] == "add-to-connectwise")
    assert add["eligible"] is False and "CATALOG_SUBCATEGORY_ID" in add["reason"]


# --- SelectAgreement -------------------------------------------------------------------------

def test_the_agreement_chosen_by_a_person_is_remembered_for_the_subscription(store):
    connectwise = FakeConnectWise(agreements=[agreement(12), agreement(13, name="Second"),
                                              agreement(14, cycle="Yearly")])
    deps = make_deps(store, connectwise=connectwise)
    task_id = add_task(deps, sales_order())
    deps.store.set_task_attributes(task_id, companyId="17", companyName="Green Lane LLC")
    asked = steps.select_agreement(deps, task_id)
    assert asked["outcome"] == "needs_approval"
    options = {o["id"]: o for o in asked["approval"]["options"]}
    assert options["14"]["eligible"] is False and "Yearly" in options["14"]["reason"]
    requested = steps.request_approval(deps, task_id, asked["approval"], "T")

    with pytest.raises(SyncFailed, match="cannot be used"):
        steps.select_agreement(deps, task_id, decision={"decision": "approve", "choice": "14",
                                                        "approvalId": requested["approvalId"]})
    chosen = steps.select_agreement(deps, task_id, decision={"decision": "approve", "choice": "13",
                                                             "approvalId": requested["approvalId"]})
    assert chosen == {"outcome": "linked", "agreementId": "13", "source": "approval"}
    assert deps.store.get_subscription_link("SUB-1")["agreementId"] == "13"

    next_task = add_task(deps, sales_order(order_id="5000013", number="SO000013"))
    deps.store.set_task_attributes(next_task, companyId="17")
    again = steps.select_agreement(deps, next_task)
    assert again == {"outcome": "linked", "agreementId": "13", "source": "remembered", "skipped": True}


def test_no_eligible_agreement_asks_a_person_to_fix_connectwise_and_check_again(store):
    connectwise = FakeConnectWise(agreements=[agreement(14, currency="EUR")])
    deps = make_deps(store, connectwise=connectwise)
    task_id = add_task(deps, sales_order())
    deps.store.set_task_attributes(task_id, companyId="17", companyName="Green Lane LLC")
    asked = steps.select_agreement(deps, task_id)
    assert asked["outcome"] == "needs_approval"
    approval = asked["approval"]
    assert approval["title"] == "No ConnectWise agreement of Green Lane LLC can take order SO000012: add or correct one"
    assert "add an Active Monthly agreement in USD" in approval["explanation"]
    assert approval["recommended"] is None
    options = {o["id"]: o for o in approval["options"]}
    assert options["14"]["eligible"] is False and "EUR" in options["14"]["reason"]
    assert options[OptionId.CHECK_AGAIN]["eligible"] is True
    requested = steps.request_approval(deps, task_id, approval, "T")

    # Still nothing eligible: asked again, nothing linked.
    still = steps.select_agreement(deps, task_id, decision={"decision": "approve", "choice": OptionId.CHECK_AGAIN,
                                                            "approvalId": requested["approvalId"]})
    assert still["outcome"] == "needs_approval" and deps.store.get_subscription_link("SUB-1") is None

    # The billing person adds a USD agreement in ConnectWise and checks again: it is used.
    connectwise.agreement_list.append(agreement(15, name="Managed services USD"))
    fixed = steps.select_agreement(deps, task_id, decision={"decision": "approve", "choice": OptionId.CHECK_AGAIN,
                                                            "approvalId": requested["approvalId"]})
    assert fixed == {"outcome": "linked", "agreementId": "15", "source": "match"}
    assert deps.store.get_subscription_link("SUB-1")["agreementId"] == "15"


# --- PlanChanges -----------------------------------------------------------------------------

def planned_task(store, policy):
    deps = make_deps(store, connectwise=FakeConnectWise(catalog=[ITEM], agreements=[agreement(12)]),
                     env={"APPROVAL_POLICY": policy})
    task_id = add_task(deps, sales_order())
    deps.store.put_product_link("M365-BB", 7, "M365-BB")
    deps.store.set_task_attributes(task_id, companyId="17", companyName="Green Lane LLC", agreementId="12")
    return deps, task_id


def test_policy_always_asks_to_confirm_the_plan(store):
    deps, task_id = planned_task(store, "always")
    result = steps.plan_changes(deps, task_id)
    assert result["outcome"] == "planned" and result["needsConfirmation"] is True
    assert result["approval"]["kind"] == "confirm"
    assert result["approval"]["title"] == "Confirm the ConnectWise changes for Green Lane LLC (order SO000012)"
    requested = steps.request_approval(deps, task_id, result["approval"], "T")
    stored = deps.store.get_approval(requested["approvalId"])
    assert stored["plan"]["operations"][0]["action"] == "create_addition"
    assert "Planned changes in ConnectWise" in deps.notifier.sent[-1]["message"]


def test_policy_never_applies_without_asking(store):
    deps, task_id = planned_task(store, "never")
    result = steps.plan_changes(deps, task_id)
    assert result["needsConfirmation"] is False and "approval" not in result


def test_the_approvers_edits_are_what_gets_applied(store):
    deps, task_id = planned_task(store, "always")
    steps.plan_changes(deps, task_id)
    key = deps.store.get_task(task_id)["plan"]["operations"][0]["key"]
    requested = steps.request_approval(deps, task_id, steps.plan_changes(deps, task_id)["approval"], "T")
    result = steps.plan_changes(deps, task_id, decision={"decision": "approve", "choice": "apply",
                                                         "changes": {key: {"quantity": "11"}},
                                                         "approvalId": requested["approvalId"]})
    assert result == {"outcome": "planned", "needsConfirmation": False, "confirmed": True, "operations": 1}
    operation = deps.store.get_task(task_id)["plan"]["operations"][0]
    assert operation["fields"]["quantity"] == "11" and "changed by the approver" in operation["explanation"]


# --- FinishTask ------------------------------------------------------------------------------

def test_a_failed_task_says_what_went_wrong_and_what_to_do(store):
    deps = make_deps(store, connectwise=FakeConnectWise())
    task_id = add_task(deps, sales_order())
    cause = json.dumps({"errorMessage": "No price for M365-BB", "errorType": "SyncFailed",
                        "stackTrace": ["  File \"/var/task/app.py\", line 1"]})
    result = steps.finish_task(deps, task_id, "failed", {"Error": "SyncFailed", "Cause": cause})
    task = deps.store.get_task(task_id)
    assert task["status"] == "failed" and task["reason"] == "No price for M365-BB"
    [sent] = deps.notifier.sent
    assert sent["subject"] == "Sync failed: order SO000012 for customer 1000048531"
    assert "What to do: Fix what the message names" in sent["message"] and "app.py" not in sent["message"]
    assert result["outcome"] == "failed"


def test_a_rejected_task_records_the_approvers_reason(store):
    deps = make_deps(store, connectwise=FakeConnectWise())
    task_id = add_task(deps, sales_order())
    steps.finish_task(deps, task_id, "rejected", {"Error": "ApprovalRejected", "Cause": "wrong customer"})
    assert deps.store.get_task(task_id)["reason"] == "Rejected by the approver: wrong customer"


def test_a_synced_task_lists_what_changed(store):
    deps, task_id = planned_task(store, "never")
    steps.plan_changes(deps, task_id)
    steps.finish_task(deps, task_id, "synced")
    assert deps.store.get_task(task_id)["status"] == "synced"
    [sent] = deps.notifier.sent
    assert sent["subject"].startswith("Synced: order SO000012 for Green Lane LLC")
    assert "Add addition: Microsoft 365 Business Basic, quantity 10, unit price 6.00 USD" in sent["message"]


def test_expired_and_nothing_to_change_are_recorded(store):
    deps = make_deps(store, connectwise=FakeConnectWise())
    task_id = add_task(deps, sales_order())
    steps.finish_task(deps, task_id, "expired", {"Error": "States.Timeout", "Cause": ""})
    assert deps.store.get_task(task_id)["status"] == "expired"
    other = add_task(deps, sales_order(order_id="5000099", number="RN000099"))
    assert steps.finish_task(deps, other, "nothing_to_change")["notified"] is False


# --- Plan settings from the environment --------------------------------------------------------

def sales_order_with_extended_amounts():
    order = sales_order()
    order["details"][0].update({"extendedPrice": {"amount": "48.00", "currency": "USD"},
                                "salesExtendedPrice": {"amount": "60.00", "currency": "USD"}})
    return order


def planned_addition(store, env=None, *, item=ITEM):
    """The create_addition operation plan_changes stores for a one-product sales order."""
    connectwise = FakeConnectWise(catalog=[item], agreements=[agreement(12)])
    deps = make_deps(store, connectwise=connectwise, env={"APPROVAL_POLICY": "never", **(env or {})})
    task_id = add_task(deps, sales_order_with_extended_amounts())
    deps.store.put_product_link("M365-BB", 7, "M365-BB")
    deps.store.set_task_attributes(task_id, companyId="17", companyName="Green Lane LLC", agreementId="12")
    assert steps.plan_changes(deps, task_id)["outcome"] == "planned"
    [operation] = deps.store.get_task(task_id)["plan"]["operations"]
    return operation


def test_by_default_the_plan_uses_the_documented_fields_and_tag(store):
    operation = planned_addition(store)
    fields = operation["fields"]
    assert (fields["unitCost"], fields["unitPrice"]) == ("4.80", "6.00")
    assert fields["serialNumber"] == "MP-SUB-1-SO000012" and operation["match"] == {"serialNumber": "MP-SUB-1-SO000012"}
    assert fields["billCustomer"] == "Billable" and fields["taxableFlag"] is True
    assert operation["agreementId"] == 12


def test_cost_field_chooses_the_charge_line_field_read_as_cost(store):
    assert planned_addition(store, {"COST_FIELD": "extendedPrice"})["fields"]["unitCost"] == "48.00"


def test_price_field_chooses_the_charge_line_field_read_as_price(store):
    assert planned_addition(store, {"PRICE_FIELD": "salesExtendedPrice"})["fields"]["unitPrice"] == "60.00"


def test_tag_format_shapes_the_ownership_tag(store):
    operation = planned_addition(store, {"TAG_FORMAT": "CW-{subscription_id}/{order_id}"})
    assert operation["fields"]["serialNumber"] == "CW-SUB-1/5000012"
    assert operation["match"] == {"serialNumber": "CW-SUB-1/5000012"}
    assert operation["key"] == "create-addition:CW-SUB-1/5000012"


def test_bill_customer_is_what_additions_carry(store):
    assert planned_addition(store, {"BILL_CUSTOMER": "DoNotBill"})["fields"]["billCustomer"] == "DoNotBill"


def test_taxable_overrides_the_catalog_items_flag_and_unset_follows_it(store):
    assert planned_addition(store, {"TAXABLE": "false"})["fields"]["taxableFlag"] is False
    assert planned_addition(store, {"TAXABLE": "true"}, item={**ITEM, "taxableFlag": False})["fields"]["taxableFlag"] is True
    assert planned_addition(store, item={**ITEM, "taxableFlag": False})["fields"]["taxableFlag"] is False


@pytest.mark.parametrize("name, value", [("COST_FIELD", "cost"), ("PRICE_FIELD", "listPrice"),
                                         ("TAG_FORMAT", "{order_number}-{subscription_id}"),
                                         ("BILL_CUSTOMER", "Free"), ("TAXABLE", "sometimes")])
def test_an_invalid_plan_setting_stops_with_the_variable_named(name, value):
    from cwsync.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match=name):
        Settings.from_environment({"TABLE_NAME": "t", name: value})


def test_plan_setting_defaults_are_the_domains():
    from cwsync import vocabulary
    from cwsync.domain import planning

    settings = Settings.from_environment({"TABLE_NAME": "t"})
    assert steps.plan_settings(settings) == planning.PlanSettings()
    # One definition each: settings and the planner read the vocabulary's values and defaults.
    assert (settings.cost_field, settings.price_field) == (vocabulary.DEFAULT_COST_FIELD, vocabulary.DEFAULT_PRICE_FIELD)
    assert settings.bill_customer in vocabulary.BILL_CUSTOMER_VALUES
    assert settings.tag_format == vocabulary.DEFAULT_TAG_FORMAT == planning.PlanSettings().tag_format


# --- Request economy of the agreement and plan steps -------------------------------------------

def test_a_remembered_agreement_is_checked_alone_and_all_are_offered_once_it_no_longer_qualifies(store):
    connectwise = FakeConnectWise(agreements=[agreement(12), agreement(13, name="Second")])
    deps = make_deps(store, connectwise=connectwise)
    deps.store.put_subscription_link("SUB-1", "12", linkedBy="approval")
    task_id = add_task(deps, sales_order())
    deps.store.set_task_attributes(task_id, companyId="17")
    assert steps.select_agreement(deps, task_id)["source"] == "remembered"
    assert "agreements" not in connectwise.calls  # the company's list was not read

    connectwise.agreement_list[0]["agreementStatus"] = "Inactive"
    asked = steps.select_agreement(deps, task_id)
    assert connectwise.calls.count("agreements") == 1
    assert asked["outcome"] == "needs_approval" and asked["approval"]["recommended"] == "13"
    assert {o["id"]: o["eligible"] for o in asked["approval"]["options"]} == {"13": True, "12": False}


# --- SelectAgreement for reconcile tasks (several subscriptions, one agreement) ------------------

def reconcile_task(deps, subs, *, target=None, billed=True):
    order = sales_order(order_id=f"RC-{'-'.join(subs)}", number="RC-20260215", sub=subs[0])
    order.update({"type": "reconcile", "total": {"amount": "0", "currency": "USD"}, "details": []})
    order.pop("subscriptionId")
    order["products"] = [{**order["products"][0], "subscriptionId": sub} for sub in subs] if billed else []
    deps.store.create_task({"taskId": order["id"], "orderId": order["id"], "orderNumber": order["orderNumber"],
                            "customerId": order["customerId"], "taskType": "reconcile", "order": order,
                            "subscriptionIds": list(subs), "needsAgreement": billed,
                            **({"targetAgreementId": target} if target else {})})
    deps.store.set_task_attributes(order["id"], companyId="17")
    return order["id"]


def test_a_repair_of_several_subscriptions_checks_the_agreement_reconciliation_found_and_remembers_it_for_each(store):
    connectwise = FakeConnectWise(agreements=[agreement(12), agreement(13, name="Second")])
    deps = make_deps(store, connectwise=connectwise)
    deps.store.put_subscription_link("SUB-1", "13", linkedBy="approval")
    task_id = reconcile_task(deps, ["SUB-1", "SUB-2"], target="13")
    assert steps.select_agreement(deps, task_id) == {"outcome": "linked", "agreementId": "13", "source": "match"}
    assert "agreements" not in connectwise.calls  # the one agreement checked alone, as a remembered one is
    assert {s: deps.store.get_subscription_link(s)["agreementId"] for s in ("SUB-1", "SUB-2")} == \
        {"SUB-1": "13", "SUB-2": "13"}
    again = reconcile_task(deps, ["SUB-1", "SUB-2"], target="13")
    assert steps.select_agreement(deps, again)["source"] == "remembered"


def test_a_repair_of_several_subscriptions_without_a_sure_agreement_asks_once_and_remembers_the_answer_for_each(store):
    deps = make_deps(store, connectwise=FakeConnectWise(agreements=[agreement(12), agreement(13, name="Second")]))
    task_id = reconcile_task(deps, ["SUB-1", "SUB-2"])
    asked = steps.select_agreement(deps, task_id)
    assert asked["outcome"] == "needs_approval"
    requested = steps.request_approval(deps, task_id, asked["approval"], "T")
    chosen = steps.select_agreement(deps, task_id, decision={"decision": "approve", "choice": "12",
                                                             "approvalId": requested["approvalId"]})
    assert chosen["agreementId"] == "12"
    assert [deps.store.get_subscription_link(s)["agreementId"] for s in ("SUB-1", "SUB-2")] == ["12", "12"]


def test_a_repair_that_only_ends_additions_of_ended_subscriptions_needs_no_agreement(store):
    connectwise = FakeConnectWise(agreements=[agreement(14, cycle="Yearly")])  # none could take a new addition
    deps = make_deps(store, connectwise=connectwise)
    task_id = reconcile_task(deps, ["SUB-9"], billed=False)
    result = steps.select_agreement(deps, task_id)
    assert result["outcome"] == "linked" and result["agreementId"] is None and result["skipped"] is True
    assert connectwise.calls == [] and deps.store.get_subscription_link("SUB-9") is None
    assert "only ends the additions" in deps.store.get_task(task_id)["history"][-1]["reason"]


# --- "Nothing to change" said once --------------------------------------------------------------

def test_nothing_to_change_is_said_once_in_the_history_and_the_final_reason(store):
    deps = make_deps(store, connectwise=FakeConnectWise(agreements=[agreement(12)]))
    order = sales_order(order_id="5000090", number="CL000090")
    order["type"] = "cancellation"
    order["details"] = []
    task_id = add_task(deps, order, task_type="cancellation")
    deps.store.set_task_attributes(task_id, companyId="17", agreementId="12")
    result = steps.plan_changes(deps, task_id)
    assert result["outcome"] == "nothing_to_change"
    assert result["summary"].startswith("Nothing to change: subscription SUB-1 has no active addition")
    planned = deps.store.get_task(task_id)["history"][-1]["reason"]
    assert planned == result["summary"]
    finished = steps.finish_task(deps, task_id, "nothing_to_change")
    assert finished["reason"] == result["summary"]
    for text in (planned, finished["reason"], deps.store.get_task(task_id)["reason"]):
        assert text.count("Nothing to change") == 1, text


def test_a_summary_without_the_words_gets_them_once():
    assert nothing_to_change_reason("renewal keeps 10 × 6.00") == "Nothing to change: renewal keeps 10 × 6.00"
    assert nothing_to_change_reason("nothing to change: x") == "nothing to change: x"
    assert nothing_to_change_reason(None) == "Nothing to change: ConnectWise already matches the order"


# --- RequestApproval after a restart -----------------------------------------------------------

class RecordingStepFunctions:
    """The Step Functions calls a step makes to hand over a decision."""

    def __init__(self):
        self.sent: list[dict] = []

    def send_task_success(self, **call):
        self.sent.append({"call": "success", **call})

    def send_task_failure(self, **call):
        self.sent.append({"call": "failure", **call})


def asked_about_agreements(store):
    deps = make_deps(store, connectwise=FakeConnectWise(agreements=[agreement(14, currency="EUR")]),
                     stepfunctions=RecordingStepFunctions())
    task_id = add_task(deps, sales_order())
    deps.store.set_task_attributes(task_id, companyId="17", companyName="Green Lane LLC")
    approval = steps.select_agreement(deps, task_id)["approval"]
    first = steps.request_approval(deps, task_id, approval, "TOKEN-1", execution=task_id)
    deps.store.decide_approval(first["approvalId"], {"decision": "approve", "choice": OptionId.CHECK_AGAIN,
                                                     "decidedBy": "person"})
    return deps, task_id, approval, first


def test_the_same_execution_asking_again_after_check_again_gets_a_new_question(store):
    deps, task_id, approval, first = asked_about_agreements(store)

    again = steps.request_approval(deps, task_id, approval, "TOKEN-2", execution=task_id)

    assert again["approvalId"] != first["approvalId"]
    assert deps.store.get_approval(again["approvalId"])["status"] == "pending"
    assert deps.stepfunctions.sent == []


def test_a_decision_recorded_for_an_execution_that_stopped_is_handed_to_the_resumed_one(store):
    deps, task_id, approval, first = asked_about_agreements(store)
    notifications = len(deps.notifier.sent)

    # Resumed after a restart: the new execution asks before the task records its name.
    again = steps.request_approval(deps, task_id, approval, "TOKEN-2", execution=f"{task_id}-2")

    assert again["approvalId"] == first["approvalId"]
    [sent] = deps.stepfunctions.sent
    assert sent["call"] == "success" and sent["taskToken"] == "TOKEN-2"
    assert json.loads(sent["output"])["choice"] == OptionId.CHECK_AGAIN
    assert len(deps.notifier.sent) == notifications, "the approver was asked again"
    assert deps.store.get_task(task_id)["status"] == "in_progress"
