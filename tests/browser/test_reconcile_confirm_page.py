"""A repair's confirm page in headless Chromium (Playwright, the system's Chromium) on the embedded
runtime: the row that patches a price shows what ConnectWise bills today, the totals count the
patch as today's bill ending and the patched one starting, the preview follows the approver's
typing, and the edited price is what reaches ConnectWise.
"""
from __future__ import annotations

import sys
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow"))
from acceptance import connectwise, notification_link, start_runtime, wait_for, wait_for_status  # noqa: E402

from cwsync_local.data.reconcile_seed import KIND_SUBSCRIPTIONS, kinds_seed  # noqa: E402

TODAY = datetime.now(timezone.utc).date()
SUB = KIND_SUBSCRIPTIONS["unit_price_differs"]  # 10 × 5.50 in ConnectWise, 10 × 6.00 in the marketplace
CUSTOMER = "2000000004"


@pytest.fixture(scope="module")
def rt(tmp_path_factory):
    runtime = start_runtime(tmp_path_factory.mktemp("repair-page"), seed=kinds_seed(TODAY),
                            parameters={"ApprovalPolicy": "always"})
    try:
        yield runtime
    finally:
        runtime.stop()


def test_the_approver_edits_a_patched_price_the_totals_follow_and_connectwise_gets_the_edited_price(rt, page):
    (task_id,) = rt.reconcile(customer_id=CUSTOMER, repair=True)["tasks"]
    _, link = notification_link(rt, task_id, "confirm", timeout=240)
    page.goto(link)
    row = page.locator("fieldset.op")
    assert row.count() == 1 and row.get_attribute("data-action") == "update_addition"
    assert "Unit price 5.50" in row.locator(".today").inner_text()  # what ConnectWise bills today
    assert (page.inner_text("#recurring-added"), page.inner_text("#recurring-removed"),
            page.inner_text("#recurring-change")) == ("60.00", "55.00", "+5.00")
    page.fill("#f1-unitPrice", "6.50")
    wait_for(lambda: page.inner_text("#recurring-change") == "+10.00", timeout=30,
             what="the preview follows the typed price")
    assert page.inner_text("#recurring-added") == "65.00"
    page.click("#approve")
    page.wait_for_selector("#message, .notice")
    assert wait_for_status(rt, task_id, timeout=240)["status"] == "synced"
    (patched,) = [a for a in connectwise(rt)["additions"] if f"MP-{SUB}-" in str(a.get("serialNumber") or "")]
    assert Decimal(str(patched["unitPrice"])) == Decimal("6.50") and patched["quantity"] == 10
