"""Acceptance: the customer page's search and "create company in ConnectWise", and the product
page's "add to ConnectWise" with edited fields, answered over the approvals HTTP API with the
signed link from the notification, through the real state machine, to what ConnectWise holds:
the company or catalog item record, and then the addition on the agreement.

One runtime for the module (ApprovalPolicy=never); each test answers a different task.
"""
from __future__ import annotations

import copy
import json
from decimal import Decimal
from urllib.error import HTTPError
from urllib.parse import quote, urlencode
from urllib.request import Request, urlopen

import pytest

from acceptance import connectwise, decide, demo_seed, http, notification_link, settled_runtime, tagged, view, wait_for, \
    wait_for_status
from cwsync.vocabulary import OptionId

NEW_CUSTOMER = {"id": "1000048590", "name": "Harbour Lights Café & Bar \"Nord\"", "status": "active", "language": "en",
                "resellerId": "1000000100",
                "address": {"streetAddress": "4 Quay Street", "postalCode": "02110", "city": "Boston",
                            "countryCode": "US", "state": "MA"},
                "attributes": {"currency": "USD"},
                "contactPersons": [{"type": "admin", "firstName": "Mo", "lastName": "Quay", "email": "mo@hl.example",
                                    "phoneNumber": "+1 617 555 0142"}]}


def seed(customer: dict = NEW_CUSTOMER) -> dict:
    """SO000113 (a product to add), SO000114 (a customer with only a similar company) and SO000190:
    SO000114's order for `customer`, whom ConnectWise does not know at all."""
    data = demo_seed({"5000113", "5000114"})
    order = copy.deepcopy(next(o for o in demo_seed()["marketplace"]["orders"] if o["id"] == "5000114"))
    order.update(id="5000190", orderNumber="SO000190", customerId=customer["id"], subscriptionId="SUB-901")
    for line in order["products"]:
        line["subscriptionId"] = "SUB-901"
    data["marketplace"]["orders"].append(order)
    data["marketplace"]["customers"].append(customer)
    return data


@pytest.fixture(scope="module")
def rt(tmp_path_factory):
    with settled_runtime(tmp_path_factory.mktemp("new-records"), seed=seed(),
                         parameters={"ApprovalPolicy": "never"}) as runtime:
        yield runtime


def agreement_for(rt, agreement_id: int, company: dict, *, like: int = 3101) -> None:
    """What a person does in ConnectWise next: an agreement for the company cwsync created."""
    with rt.connectwise.state.lock:
        data = rt.connectwise.state.data
        record = copy.deepcopy(next(a for a in data["agreements"] if a["id"] == like))
        record.update(id=agreement_id, name=f"{company['name']} - Cloud",
                      company={"id": company["id"], "identifier": company["identifier"], "name": company["name"]})
        data["agreements"].append(record)


def test_a_company_found_by_searching_connectwise_is_linked_and_the_order_reaches_its_agreement(rt):
    _, link = notification_link(rt, "5000114", "customer")
    status, body = http("GET", f"{link}&q={quote('Cedar & Stone')}")
    assert status == 200
    found = json.loads(body)["search"]
    assert [r["id"] for r in found["results"]] == []  # ConnectWise calls it "Cedar and Stone"
    status, body = http("GET", f"{link}&q=cedar")
    [result] = json.loads(body)["search"]["results"]
    assert result["id"] == "19304" and result["eligible"] is True
    status, answer = decide(link, {"decision": "approve", "choice": "99999"})
    assert status == 400 and "no usable company 99999" in answer["error"]["message"]
    status, answer = decide(link, {"decision": "approve", "choice": "19304"})
    assert status == 200, answer
    assert answer["decision"]["choice"] == OptionId.FOUND_COMPANY
    _, agreement_link = notification_link(rt, "5000114", "agreement", timeout=120)
    status, answer = decide(agreement_link, {"decision": "approve", "choice": "3401"})
    assert status == 200, answer
    task = wait_for_status(rt, "5000114", timeout=120)
    assert task["status"] == "synced", task["reason"]
    with rt.locked():
        assert str(rt.store.get_customer_link("1000048534")["companyId"]) == "19304"
    [addition] = tagged(connectwise(rt)["additions"], "MP-SUB-401-SO000114")
    assert (addition["agreementId"], addition["quantity"]) == (3401, 6)


def test_a_create_company_post_from_another_site_is_refused_and_creates_nothing(rt):
    approval_id, link = notification_link(rt, "5000190", "customer")
    with rt.locked():
        proposal = rt.store.get_approval(approval_id)["proposal"]
    before = len(connectwise(rt)["companies"])
    form = urlencode({"decision": "approve", "choice": OptionId.CREATE_COMPANY,
                      **{f"changes.company.{k}": v for k, v in proposal.items()}})
    request = Request(link, data=form.encode(), method="POST",
                      headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": "https://evil.example"})
    try:
        with urlopen(request, timeout=30) as response:
            status = response.status
    except HTTPError as error:
        status = error.code
    assert status == 403
    assert len(connectwise(rt)["companies"]) == before
    assert [a["approvalId"] for a in rt.approvals("pending", task_id="5000190")] == [approval_id]


def test_a_company_created_from_the_marketplace_customer_is_created_once_even_when_its_answer_is_lost(rt):
    _, link = notification_link(rt, "5000190", "customer")
    status, page = view(link)
    form = page["proposal"]
    assert (form["identifier"], form["name"], form["addressLine1"], form["city"], form["zip"]) == (
        "1000048590", NEW_CUSTOMER["name"], "4 Quay Street", "Boston", "02110")
    assert form["country"] == "1" and form["phoneNumber"] == "+1 617 555 0142" and form["type"] == "1"
    for refused, words in (({"zip": "1234567890123", "website": "no site"}, ("at most 12", "not a web address")),
                           ({"identifier": "GreenLane"}, ("already used by ConnectWise company GREEN LANE",))):
        status, answer = decide(link, {"decision": "approve", "choice": OptionId.CREATE_COMPANY,
                                       "changes": {"company": {**form, **refused}}})
        assert status == 400 and all(w in answer["error"]["message"] for w in words), answer
    faults = rt.connectwise.server.app.faults
    faults.commit_then_fail_rate = 1.0  # ConnectWise creates the company, then its answer is lost
    try:
        status, answer = decide(link, {"decision": "approve", "choice": OptionId.CREATE_COMPANY,
                                       "changes": {"company": {**form, "name": "Harbour Lights Cafe Boston"}}})
        assert status == 200, answer
        task = wait_for(lambda: (rt.task("5000190") or {}).get("companyId") and rt.task("5000190"), timeout=180,
                        what="the created company linked to task 5000190")
    finally:
        faults.commit_then_fail_rate = 0.0
    companies = [c for c in connectwise(rt)["companies"] if c["identifier"] == "1000048590"]
    assert len(companies) == 1, companies
    [company] = companies
    assert company["name"] == "Harbour Lights Cafe Boston" and str(company["id"]) == str(task["companyId"])
    assert (company["addressLine1"], company["city"], company["state"], company["zip"]) == (
        "4 Quay Street", "Boston", "MA", "02110")
    assert company["types"][0]["id"] == 1 and company["status"]["id"] == 1 and company["country"]["id"] == 1
    _, agreement_link = notification_link(rt, "5000190", "agreement", timeout=120)  # the new company has none yet
    agreement_for(rt, 3901, company)
    status, answer = decide(agreement_link, {"decision": "approve", "choice": OptionId.CHECK_AGAIN})
    assert status == 200, answer
    task = wait_for_status(rt, "5000190", timeout=120)
    assert task["status"] == "synced", task["reason"]
    [addition] = tagged(connectwise(rt)["additions"], "MP-SUB-901-SO000190")
    assert (addition["agreementId"], addition["quantity"]) == (3901, 6)
    with rt.locked():
        assert str(rt.store.get_customer_link("1000048590")["companyId"]) == str(company["id"])


def test_a_product_added_with_edited_price_cost_and_category_is_the_item_the_addition_uses(rt):
    _, link = notification_link(rt, "5000113", "product")
    status, page = view(link)
    form = page["proposal"]
    assert form["identifier"] == "TEAMS-PREMIUM-P1M" and form["subcategory"] == "11" and form["category"] == "5"
    wrong = {**form, "price": "abc", "category": "6", "subcategory": "11"}
    status, answer = decide(link, {"decision": "approve", "choice": OptionId.ADD_TO_CONNECTWISE,
                                   "changes": {"catalog": wrong}})
    assert status == 400
    assert "Price 'abc'" in answer["error"]["message"] and "not in category Services" in answer["error"]["message"]
    edited = {**form, "identifier": "TEAMS-PREM-EDITED", "price": "9.90", "cost": "7.70", "category": "6",
              "subcategory": "13", "type": "4", "taxableFlag": "false"}
    status, answer = decide(link, {"decision": "approve", "choice": OptionId.ADD_TO_CONNECTWISE,
                                   "changes": {"catalog": edited}})
    assert status == 200, answer
    task = wait_for_status(rt, "5000113", timeout=120)
    assert task["status"] == "synced", task["reason"]
    cw = connectwise(rt)
    [item] = [i for i in cw["catalog"] if i.get("identifier") == "TEAMS-PREM-EDITED"]
    assert (Decimal(str(item["price"])), Decimal(str(item["cost"]))) == (Decimal("9.90"), Decimal("7.70"))
    assert (item["subcategory"]["id"], item["type"]["id"], item["category"]["id"]) == (13, 4, 6)
    assert item["taxableFlag"] is False and item["manufacturerPartNumber"] == "TEAMS-PREMIUM-P1M"
    [addition] = tagged(cw["additions"], "MP-SUB-105-SO000113")
    assert addition["product"]["id"] == item["id"] and addition["quantity"] == 5
    with rt.locked():
        assert str(rt.store.get_product_link("TEAMS-PREMIUM-P1M")["catalogItemId"]) == str(item["id"])

