"""The customer and product pages in headless Chromium, as a person uses them: search every
ConnectWise company and choose one; create the company from the marketplace customer with an
edited field (a refused submission keeps every edit and names each problem at its field); add a
product to the catalog with an edited price, cost and category. Each ends in ConnectWise: the
company or catalog item, then the addition on the agreement. Every page is photographed at 1280
and 390 px into tests/browser/artefacts/ and none is wider than the screen.
"""
from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow"))
from acceptance import settled_runtime, tagged, wait_for, wait_for_status  # noqa: E402
from test_new_records_workflow import NEW_CUSTOMER as CUSTOMER, agreement_for, seed as new_records_seed  # noqa: E402
# page_options: pages without their script policy, so axe-core can be added (and markup escaping is
# shown to hold on its own); axe_source: the pinned axe-core
from test_accessibility import axe_source, page_options, violations  # noqa: E402,F401
from test_operator_journey import connectwise, shoot  # noqa: E402
MARKUP = 'Harbour <b>Lights</b> & "Bar"'
NEW_CUSTOMER = {**CUSTOMER, "name": MARKUP}


@pytest.fixture(scope="module")
def rt(tmp_path_factory):
    with settled_runtime(tmp_path_factory.mktemp("new-record-pages"), seed=new_records_seed(NEW_CUSTOMER),
                         parameters={"ApprovalPolicy": "never"}) as runtime:
        yield runtime


def photographed(page, name: str, axe: str) -> None:
    """Screenshots at both widths, no sideways scrolling at either, and nothing axe-core finds wrong."""
    too_wide = {width: seen for width, seen in shoot(page, name).items() if seen > width}
    assert not too_wide, (name, too_wide)
    assert violations(page, axe) == [], name


def open_approval(rt, page, task_id: str, kind: str) -> None:
    approval = wait_for(lambda: next((a for a in rt.approvals("pending", task_id=task_id) if a["kind"] == kind),
                                     None), timeout=240, what=f"a pending {kind} approval for {task_id}")
    page.goto(rt.approval_link(approval["approvalId"]))


def test_searching_every_connectwise_company_and_choosing_one_links_it(rt, page, axe_source):
    open_approval(rt, page, "5000114", "customer")
    assert not page.is_checked('input[name="choice"][value="19307"]')  # the weak match is not chosen for you
    page.fill("#search-query", "Cedar & Stone")
    page.click("#search")
    page.wait_for_selector("#no-results")
    assert "Cedar & Stone" in page.inner_text("#no-results")
    page.fill("#search-query", "cedar")
    page.click("#search")
    found = page.locator('#search-results input[name="choice"][value="19304"]')
    found.check()
    photographed(page, "customer-search", axe_source)
    page.click("#approve")
    page.wait_for_selector('input[name="choice"][value="3401"]')  # the same task's next step opens by itself
    page.check('input[name="choice"][value="3401"]')
    page.click("#approve")
    page.wait_for_selector("h1:has-text('Synced')")
    assert wait_for_status(rt, "5000114", {"synced"}, timeout=120)["companyId"] == "19304"
    [addition] = tagged(connectwise(rt)["additions"], "MP-SUB-401-SO000114")
    assert (addition["agreementId"], addition["quantity"]) == (3401, 6)
    assert not page.dialogs


def test_creating_the_company_with_an_edited_field_writes_that_company_and_then_the_addition(rt, page, axe_source):
    open_approval(rt, page, "5000190", "customer")
    assert page.input_value("#company-name") == MARKUP  # shown literally, as a value
    assert page.evaluate("document.querySelectorAll('b').length") == 0
    assert (page.input_value("#company-identifier"), page.input_value("#company-city")) == ("1000048590", "Boston")
    assert page.input_value("#company-country") == "1" and page.input_value("#company-zip") == "02110"
    page.check('input[name="choice"][value="create-company"]')
    page.fill("#company-name", "Harbour Lights Cafe Boston")
    page.fill("#company-website", "not a website")
    page.fill("#company-phoneNumber", "call me")
    page.click("#approve")

    page.wait_for_selector("#problems")
    assert "correct 2 values" in page.inner_text("#problems")
    assert "not a web address" in page.inner_text("#company-website-err")
    assert "Phone may hold only" in page.inner_text("#company-phoneNumber-err")
    assert page.input_value("#company-name") == "Harbour Lights Cafe Boston"  # every edit kept
    assert page.is_checked('input[name="choice"][value="create-company"]')
    photographed(page, "customer-create-refused", axe_source)
    page.fill("#company-website", "harbourlights.example")
    page.fill("#company-phoneNumber", "+1 617 555 0142")
    photographed(page, "customer-create", axe_source)
    page.click("#approve")

    page.wait_for_selector("#approve:has-text('Check again')")  # the new company has no agreement yet
    [company] = [c for c in connectwise(rt)["companies"] if c["identifier"] == "1000048590"]
    assert (company["name"], company["website"], company["phoneNumber"]) == (
        "Harbour Lights Cafe Boston", "harbourlights.example", "+1 617 555 0142")
    assert (company["addressLine1"], company["city"], company["state"], company["zip"]) == (
        "4 Quay Street", "Boston", "MA", "02110")
    agreement_for(rt, 3901, company)  # what a person does next in ConnectWise
    photographed(page, "agreement-none-yet", axe_source)
    page.check('input[name="choice"][value="check-again"]')
    page.click("#approve")
    page.wait_for_selector("h1:has-text('Synced')")
    wait_for_status(rt, "5000190", {"synced"}, timeout=120)
    [addition] = tagged(connectwise(rt)["additions"], "MP-SUB-901-SO000190")
    assert (addition["agreementId"], addition["quantity"]) == (3901, 6)
    assert not page.dialogs


def test_adding_a_product_with_edited_price_cost_and_category_writes_that_catalog_item(rt, page, axe_source):
    open_approval(rt, page, "5000113", "product")
    assert page.is_checked('input[name="choice"][value="add-to-connectwise"]')
    assert page.input_value("#catalog-identifier") == "TEAMS-PREMIUM-P1M"
    assert page.input_value("#catalog-subcategory") == "11"
    page.fill("#catalog-price", "9.90")
    page.fill("#catalog-cost", "7.70")
    page.select_option("#catalog-category", "6")
    assert page.input_value("#catalog-subcategory") == "13"  # only the category's subcategories are offered
    page.select_option("#catalog-type", "4")
    page.set_checked("#catalog-taxableFlag", False)
    photographed(page, "product-add", axe_source)
    page.click("#approve")
    page.wait_for_selector("h1:has-text('Synced')")
    wait_for_status(rt, "5000113", {"synced"}, timeout=120)
    cw = connectwise(rt)
    [item] = [i for i in cw["catalog"] if i.get("identifier") == "TEAMS-PREMIUM-P1M"]
    assert (Decimal(str(item["price"])), Decimal(str(item["cost"]))) == (Decimal("9.90"), Decimal("7.70"))
    assert (item["category"]["id"], item["subcategory"]["id"], item["type"]["id"]) == (6, 13, 4)
    assert item["taxableFlag"] is False
    [addition] = tagged(cw["additions"], "MP-SUB-105-SO000113")
    assert addition["product"]["id"] == item["id"] and addition["quantity"] == 5
    assert not page.dialogs
