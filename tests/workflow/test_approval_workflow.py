"""Acceptance: each link approval of the demo pauses the real execution, is answered over the
approvals HTTP API with the signed link from the notification, and the execution resumes to the
ConnectWise outcome the answer asked for (docs/SEED.md: SO000113/114/117/120/121).

One runtime (ApprovalPolicy=never) for the module: each test answers a different task.
"""
from __future__ import annotations

import copy

import pytest

from acceptance import (answered_link, connectwise, decide, demo_seed, invocations, notified, notification_link, settled_runtime,
                        tagged, view, wait_for_status)
from cwsync.vocabulary import OptionId

SEED = demo_seed()


@pytest.fixture(scope="module")
def rt(tmp_path_factory, data_set):
    with settled_runtime(tmp_path_factory.mktemp("approvals"), seed=data_set,
                         parameters={"ApprovalPolicy": "never"}) as runtime:
        yield runtime


def add_agreement(rt, agreement_id: int, company_id: int, *, like: int, **changes) -> None:
    """What a person does in ConnectWise: a new agreement for the company (a copy of `like`)."""
    company = next(c for c in SEED["connectwise"]["companies"] if c["id"] == company_id)
    with rt.connectwise.state.lock:
        data = rt.connectwise.state.data
        record = copy.deepcopy(next(a for a in data["agreements"] if a["id"] == like))
        record.update(id=agreement_id, name=f"{company['name']} - Cloud (monthly)",
                      company={"id": company_id, "identifier": company["identifier"], "name": company["name"]},
                      **changes)
        data["agreements"].append(record)


def test_choosing_the_company_for_an_unknown_customer_links_it_remembers_it_and_syncs(rt):
    approval_id, link = notification_link(rt, "5000114", "customer")
    status, page = view(link)
    assert status == 200 and page["kind"] == "customer" and page["status"] == "pending"
    assert [o["id"] for o in page["options"]] == ["19307", "create-company", "found-company"]  # a person decides
    add_agreement(rt, 3701, 19307, like=3101)                          # so the chosen company can take the order
    status, answer = decide(link, {"decision": "approve", "choice": "19307"})
    assert status == 200, answer
    task = wait_for_status(rt, "5000114")
    assert task["status"] == "synced", task["reason"]
    with rt.locked():
        remembered = rt.store.get_customer_link("1000048534")
    assert str(remembered["companyId"]) == "19307" and remembered["linkedBy"] == "approval"
    [addition] = tagged(connectwise(rt)["additions"], "MP-SUB-401-SO000114")
    assert (addition["agreementId"], addition["product"]["id"], addition["quantity"]) == (3701, 701, 6)


def test_adding_an_unknown_product_creates_the_catalog_item_and_the_addition_uses_it(rt):
    approval_id, link = notification_link(rt, "5000113", "product")
    status, page = view(link)
    assert status == 200 and page["kind"] == "product"
    add = next(o for o in page["options"] if o["id"] == OptionId.ADD_TO_CONNECTWISE)
    assert add["eligible"] is True                                     # the runtime sets the catalog placement
    assert page.get("recommended") in (None, OptionId.ADD_TO_CONNECTWISE)
    status, answer = decide(link, {"decision": "approve", "choice": OptionId.ADD_TO_CONNECTWISE})
    assert status == 200, answer
    task = wait_for_status(rt, "5000113")
    assert task["status"] == "synced", task["reason"]
    cw = connectwise(rt)
    [item] = [i for i in cw["catalog"] if i.get("identifier") == "TEAMS-PREMIUM-P1M"]
    assert (item["subcategory"]["id"], item["type"]["id"]) == (11, 3)
    [addition] = tagged(cw["additions"], "MP-SUB-105-SO000113")
    assert addition["product"]["id"] == item["id"] and addition["quantity"] == 5 and addition["agreementId"] == 3101
    with rt.locked():
        assert str(rt.store.get_product_link("TEAMS-PREMIUM-P1M")["catalogItemId"]) == str(item["id"])


def test_choosing_one_of_two_eligible_agreements_puts_the_addition_on_that_agreement(rt):
    approval_id, link = notification_link(rt, "5000117", "agreement")
    status, page = view(link)
    assert {o["id"]: o["eligible"] for o in page["options"]} == {"3401": True, "3402": True}
    status, answer = decide(link, {"decision": "approve", "choice": "3402"})
    assert status == 200, answer
    task = wait_for_status(rt, "5000117")
    assert task["status"] == "synced", task["reason"]
    [addition] = tagged(connectwise(rt)["additions"], "MP-SUB-501-SO000117")
    assert addition["agreementId"] == 3402 and addition["quantity"] == 4
    with rt.locked():
        assert str(rt.store.get_subscription_link("SUB-501")["agreementId"]) == "3402"


def test_a_second_post_on_a_decided_approval_is_refused_with_409_and_changes_nothing(rt):
    link = answered_link(rt, "5000117", "agreement", {"decision": "approve", "choice": "3402"})
    wait_for_status(rt, "5000117")
    before, applied = connectwise(rt), invocations(rt, "ApplyChangesFunction")
    status, answer = decide(link, {"decision": "approve", "choice": "3401"})
    assert status == 409 and "already" in answer["error"]["message"]
    status, _ = decide(link, {"decision": "reject", "reason": "changed my mind"})
    assert status == 409
    rt.wait_until_settled(timeout=30)
    assert connectwise(rt)["additions"] == before["additions"]
    assert connectwise(rt)["adjustments"] == before["adjustments"]
    assert invocations(rt, "ApplyChangesFunction") == applied
    assert rt.task("5000117")["status"] == "synced"


def test_an_ineligible_agreement_is_listed_with_its_reason_and_choosing_it_is_refused(rt):
    approval_id, link = notification_link(rt, "5000120", "agreement")
    status, page = view(link)
    options = {o["id"]: o for o in page["options"]}
    assert options["3501"]["eligible"] is False and "Yearly" in options["3501"]["reason"]
    assert options[OptionId.CHECK_AGAIN]["eligible"] is True
    before = connectwise(rt)
    status, answer = decide(link, {"decision": "approve", "choice": "3501"})
    assert status == 400 and "Yearly" in answer["error"]["message"]
    with rt.locked():
        assert rt.store.get_approval(approval_id)["status"] == "pending"
    assert rt.task("5000120")["status"] == "waiting_approval"
    assert connectwise(rt)["additions"] == before["additions"]


def test_check_again_after_fixing_connectwise_uses_the_new_agreement(rt):
    approval_id, link = notification_link(rt, "5000120", "agreement")
    add_agreement(rt, 3502, 19305, like=3501, billingCycle={"id": 1, "name": "Monthly"})
    status, answer = decide(link, {"decision": "approve", "choice": OptionId.CHECK_AGAIN})
    assert status == 200, answer
    task = wait_for_status(rt, "5000120")
    assert task["status"] == "synced", task["reason"]
    [addition] = tagged(connectwise(rt)["additions"], "MP-SUB-601-SO000120")
    assert addition["agreementId"] == 3502 and addition["quantity"] == 12


def test_rejecting_an_approval_ends_the_task_rejected_and_tells_the_operator(rt):
    approval_id, link = notification_link(rt, "5000121", "agreement")
    status, page = view(link)
    options = {o["id"]: o for o in page["options"]}
    assert options["3601"]["eligible"] is False and "USD" in options["3601"]["reason"]
    status, answer = decide(link, {"decision": "reject", "reason": "Needs a EUR agreement first"})
    assert status == 200, answer
    task = wait_for_status(rt, "5000121")
    assert task["status"] == "rejected" and "Needs a EUR agreement first" in task["reason"]
    [note] = notified(rt, "Rejected: order SO000121")
    assert "Needs a EUR agreement first" in note["message"] and "Nothing was changed" in note["message"]
    cw = connectwise(rt)
    assert not tagged(cw["additions"], "SO000121") and not tagged(cw["adjustments"], "SO000121", "description")
    assert decide(link, {"decision": "approve", "choice": OptionId.CHECK_AGAIN})[0] == 409
