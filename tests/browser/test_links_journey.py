"""The Links page in headless Chromium (Playwright, the system's Chromium) on the embedded runtime:
the operator opens Links from the dashboard, finds the automatic link an order made, undoes it with
a reason, and sees it gone and recorded. Pages are photographed at 1280 and 390 px into
tests/browser/artefacts/ (git-ignored) and checked for sideways scroll."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow"))
from acceptance import demo_seed, start_runtime  # noqa: E402
from test_operator_journey import shoot  # noqa: E402  (screenshots at 1280 and 390 px into artefacts/)



@pytest.fixture(scope="module")
def rt(tmp_path_factory):
    """Green Lane's SO000112 synced under the `never` policy: its links were all made automatically."""
    runtime = start_runtime(tmp_path_factory.mktemp("links-journey"), seed=demo_seed({"5000112"}),
                            parameters={"ApprovalPolicy": "never"})
    try:
        runtime.check()
        runtime.wait_until_settled(timeout=240)
        assert runtime.task("5000112")["status"] == "synced"
        yield runtime
    finally:
        runtime.stop()


def assert_fits(widths: dict[int, int]) -> None:
    for viewport, width in widths.items():
        assert width <= viewport, f"the page is {width} px wide in a {viewport} px window"


def test_an_operator_undoes_an_automatic_link_with_a_reason_and_sees_it_gone_and_recorded(rt, page):
    page.goto(rt.url + "/")
    page.click("nav a[href='/links']")
    page.wait_for_selector("#links")
    assert_fits(shoot(page, "links"))
    assert "Nothing is written to ConnectWise" in page.inner_text("#undo-explained")

    page.check("#automatic-only")
    page.click("#link-filter button[type=submit]")
    page.wait_for_url("**/links?*automatic=1*")
    row = page.locator('tr[data-link="customer:1000048531"]')
    assert row.get_attribute("data-automatic") == "yes"
    assert "exact match: same company name" in row.inner_text()
    assert page.locator("tr[data-link]").count() == page.locator('tr[data-automatic="yes"]').count() == 3

    row.locator("input[name=reason]").fill("Green Lane has two companies in ConnectWise: check by hand")
    row.locator("button.undo-link").click()
    page.wait_for_selector("#notice")
    assert "undone" in page.inner_text("#notice")
    assert page.locator('tr[data-link="customer:1000048531"]').count() == 0
    recorded = page.locator('#audit tr[data-action="undo"][data-key="1000048531"]')
    assert "Green Lane has two companies in ConnectWise: check by hand" in recorded.inner_text()
    assert "the local operator" in recorded.inner_text()
    assert_fits(shoot(page, "links-after-undo"))
    assert rt.store.get_customer_link("1000048531") is None


def test_the_task_page_shows_its_links_and_leads_to_the_links_page(rt, page):
    page.goto(rt.url + "/tasks/5000112")
    page.wait_for_selector("#task-links")
    assert "Product to catalog item" in page.inner_text("#task-links")
    assert_fits(shoot(page, "task-links"))
    page.locator('#task-links li[data-link="product:M365-BUSPREM-P1M"] a').click()
    page.wait_for_selector('tr[data-link="product:M365-BUSPREM-P1M"]')
    assert page.locator("tr[data-link]").count() == 1
