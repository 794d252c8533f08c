"""The operator and the approver in headless Chromium (Playwright, the system's Chromium) on
the embedded runtime, as a person would: dashboard, Check Changes, a waiting task, its
approval pages, edits on the confirm page, and what reaches ConnectWise; Sync again on a
failed task; Ignore; a hostile customer name shown literally. Every page is photographed at
1280 and 390 px into tests/browser/artefacts/ (git-ignored) and checked for sideways scroll.
"""
from __future__ import annotations

import copy
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow"))
from acceptance import demo_seed, start_runtime, tagged, wait_for, wait_for_status  # noqa: E402

ARTEFACTS = Path(__file__).resolve().parent / "artefacts"
WIDTHS = (1280, 390)
EVIL = '<script>alert(1)</script> & Co "Ltd"'


@pytest.fixture(scope="module")
def rt(tmp_path_factory):
    seed = demo_seed()
    for item in seed["connectwise"]["catalog"]:
        if item["identifier"] == "M365-BUSPREM-P1M":  # the catalog's price differs from the marketplace's
            item.update(price=24.0, cost=19.0)
    for customer in seed["marketplace"]["customers"]:
        if customer["name"] == "Riverside Veterinary Clinic Inc.":
            customer["name"] = EVIL
    runtime = start_runtime(tmp_path_factory.mktemp("journey"), seed=seed)
    try:
        yield runtime
    finally:
        runtime.stop()


def shoot(page, name: str) -> dict[int, int]:
    """Full-page screenshots at each width; {width: the page's own width there}."""
    ARTEFACTS.mkdir(exist_ok=True)
    widths = {}
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        widths[width] = page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")
        page.screenshot(path=str(ARTEFACTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    return widths


def connectwise(rt) -> dict:
    with rt.connectwise.state.lock:
        return copy.deepcopy(rt.connectwise.state.data)


@pytest.fixture(scope="module")
def checked(rt, open_page):
    """Check Changes pressed on the dashboard, and every task settled."""
    with open_page() as page:
        page.goto(rt.url + "/")
        assert "Last check: never" in page.inner_text("#last-check")
        shoot(page, "dashboard-before-check")
        page.click("#check-changes")
        page.wait_for_selector("#notice")
        rt.wait_until_settled(timeout=240)
    return rt


def test_checking_choosing_and_editing_the_confirm_page_writes_exactly_the_edited_values(checked, page):
    rt = checked
    page.goto(rt.url + "/")
    assert "(dashboard)" in page.inner_text("#last-check")
    shoot(page, "dashboard")
    row = page.locator('tr[data-task="5000117"]')
    assert row.locator(".status").inner_text() == "Waiting for a person"
    row.locator("a.approval-link").click()

    # The agreement: the recommended one is chosen, with the reason it is recommended.
    page.wait_for_selector('input[name="choice"][value="3401"]')
    assert page.is_checked('input[name="choice"][value="3401"]')
    assert "Why recommended:" in page.inner_text("#options")
    shoot(page, "approval-agreement")
    assert page.inner_text("#approve") == "Use the chosen agreement"
    page.click("#approve")

    # The next step of the same task opens by itself: the confirm page.
    page.wait_for_selector("fieldset.op[data-action=create_addition]")
    shoot(page, "approval-confirm")
    addition = page.locator("fieldset.op[data-action=create_addition]").first
    key = addition.get_attribute("data-key")
    catalog = addition.locator('input[type=radio][value="catalog"]')
    catalog_cost = catalog.get_attribute("data-cost")
    assert Decimal(catalog_cost) != Decimal(addition.locator('[data-field="unitCost"]').input_value())
    quantity = Decimal(addition.locator('[data-field="quantity"]').input_value())
    catalog.check()
    assert addition.locator('[data-field="unitCost"]').input_value() == catalog_cost
    addition.locator('[data-field="unitPrice"]').fill("123.45")
    planned = date.fromisoformat(addition.locator('[data-field="effectiveDate"]').input_value())
    moved = (planned + timedelta(days=5)).isoformat()
    addition.locator('[data-field="effectiveDate"]').fill(moved)
    taxable = addition.locator('input[type=checkbox]')
    was_taxable = taxable.is_checked()
    taxable.set_checked(not was_taxable)
    assert page.inner_text("#recurring-added") == f"{quantity * Decimal('123.45'):.2f}"  # the preview follows
    page.click("#approve")

    page.wait_for_selector("h1:has-text('Synced'), #problems")
    assert not page.query_selector("#problems"), page.inner_text("#problems")
    shoot(page, "approval-outcome-synced")
    task = wait_for_status(rt, "5000117", {"synced"}, timeout=60)
    tag = task["plan"]["operations"][[op["key"] for op in task["plan"]["operations"]].index(key)]["match"]["serialNumber"]
    [written] = tagged(connectwise(rt)["additions"], tag)
    assert Decimal(str(written["unitPrice"])) == Decimal("123.45")
    assert Decimal(str(written["unitCost"])) == Decimal(catalog_cost)
    assert written["effectiveDate"].startswith(moved)
    assert written["taxableFlag"] is (not was_taxable)

    page.goto(rt.url + "/")
    assert page.locator('tr[data-task="5000117"] .status').inner_text() == "Synced"
    page.click('tr[data-task="5000117"] a.task-link')
    change = page.locator(f'section.change[data-key="{key}"]')
    assert f"record {written['id']}" in change.locator("h3").inner_text()
    assert "123.45" in change.locator('tr[data-field="Unit price"] .after').inner_text()
    assert moved in change.locator('tr[data-field="Effective date"] .after').inner_text()
    shoot(page, "task-synced")
    assert not page.dialogs


def test_sync_again_on_a_failed_task_starts_a_new_attempt_that_reaches_connectwise(checked, page):
    rt = checked
    faults = rt.connectwise.server.app.faults  # ConnectWise answers 500 to everything for a while
    page.goto(rt.url + "/")
    page.locator('tr[data-task="5000112"] a.approval-link').click()
    page.wait_for_selector("fieldset.op")
    faults.fail_rate = 1.0
    try:
        page.click("#approve")
        wait_for_status(rt, "5000112", {"failed"}, timeout=240)
    finally:
        faults.fail_rate = 0.0
    page.goto(rt.url + "/?status=failed")
    row = page.locator('tr[data-task="5000112"]')
    assert row.locator(".status").inner_text() == "Failed"
    shoot(page, "dashboard-failed")
    row.locator("button", has_text="again").click()
    page.wait_for_selector("#notice")
    again = wait_for_status(rt, "5000112", {"waiting_approval"}, timeout=240)
    assert again["attempt"] == 2 and [a["status"] for a in again["attempts"]] == ["failed"]
    page.goto(f"{rt.url}/tasks/5000112")
    assert "2 (current)" in page.inner_text("#attempts") and "Failed" in page.inner_text("#attempts")
    shoot(page, "task-second-attempt")
    page.click("a.approval-link")
    page.wait_for_selector("fieldset.op")
    page.click("#approve")
    page.wait_for_selector("h1:has-text('Synced')")
    assert wait_for_status(rt, "5000112", {"synced"}, timeout=60)["attempt"] == 2


def test_ignoring_a_rejected_task_with_a_reason_and_un_ignoring_it(checked, page):
    rt = checked
    page.goto(rt.url + "/")
    page.locator('tr[data-task="5000119"] a.approval-link').click()
    page.fill("#reason", "Cancelled by phone, handled by hand")
    assert page.inner_text("#reject").startswith("Reject")
    page.click("#reject")
    page.wait_for_selector("h1:has-text('Rejected')")
    wait_for_status(rt, "5000119", {"rejected"}, timeout=120)
    page.goto(rt.url + "/?status=rejected")
    row = page.locator('tr[data-task="5000119"]')
    row.locator('input[name="reason"]').fill("Handled by hand in ConnectWise")
    row.locator("button", has_text="Ignore").click()
    page.wait_for_selector("#notice")
    assert rt.task("5000119")["status"] == "ignored"
    page.goto(rt.url + "/?status=ignored")
    shoot(page, "dashboard-ignored")
    page.locator('tr[data-task="5000119"] button', has_text="Un-ignore").click()
    page.wait_for_selector("#notice")
    assert rt.task("5000119")["status"] == "rejected"


def test_a_customer_named_like_markup_is_shown_literally_and_runs_nothing(checked, page):
    rt = checked
    page.goto(rt.url + "/?q=5000120")
    assert page.locator('tr[data-task="5000120"] td.customer').inner_text() == EVIL
    page.click('tr[data-task="5000120"] a.task-link')
    assert EVIL in page.inner_text("h1")
    assert page.evaluate("document.querySelectorAll('script').length") == 0
    shoot(page, "task-markup-name")
    approval = (rt.approvals("pending", task_id="5000120") or [None])[0]
    if approval is not None:
        page.goto(rt.approval_link(approval["approvalId"]))
        assert EVIL in page.inner_text("#customer")
        assert page.evaluate("[...document.scripts].every(s => s.nonce)")  # only the page's own script
    assert not page.dialogs


def test_a_weak_customer_match_is_offered_but_never_chosen_for_the_approver(checked, page):
    rt = checked
    [approval] = rt.approvals("pending", task_id="5000114")
    assert approval["kind"] == "customer" and not approval.get("recommended")
    page.goto(rt.approval_link(approval["approvalId"]))
    radios = page.locator('input[name="choice"]')
    assert radios.count() >= 1
    assert not any(radios.nth(i).is_checked() for i in range(radios.count()))
    assert "No option is chosen for you" in page.inner_text("#no-default")


PAGES = {
    "dashboard": "/", "dashboard-filtered": "/?status=waiting_approval", "task-page": "/tasks/5000113",
    "unknown-task": "/tasks/nope", "unknown-page": "/nowhere",
}


def test_no_page_is_wider_than_the_screen_at_1280_or_390_pixels(checked, page):
    rt = checked
    urls = {name: rt.url + path for name, path in PAGES.items()}
    for approval in rt.approvals("pending"):
        urls.setdefault(f"approval-{approval['kind']}", rt.approval_link(approval["approvalId"]))
    decided = next(a for a in rt.approvals("decided"))
    urls["approval-decided"] = rt.approval_link(decided["approvalId"])
    assert {"approval-customer", "approval-product", "approval-agreement", "approval-confirm"} <= set(urls)
    too_wide = {}
    for name, url in urls.items():
        page.goto(url)
        for width, seen in shoot(page, f"page-{name}").items():
            if seen > width:
                too_wide[(name, width)] = seen
    assert not too_wide
