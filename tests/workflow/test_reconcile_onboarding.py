"""First connection through the real state machine: 200 subscriptions that existed before cwsync,
150 of them billed by additions typed by hand. A report, then a reconciliation with repair: one
repair task per customer agreement, each confirmed once by the approver through the link in its
notification (over HTTP), and everything is in step with no duplicate; a second reconciliation
finds nothing and starts no task. Reading ConnectWise for the report costs at most one additions
listing per agreement.

The data (`cwsync_local.data.reconcile_seed.onboarding_seed`) has four subscriptions per
customer on one Monthly agreement; nothing is linked yet, so each task links its customer and
products by matching and the agreement the reconciliation found (ApprovalPolicy=always).
"""
from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timezone

import pytest

from cwsync_local.data.reconcile_seed import first_of_next_month, onboarding_seed

from acceptance import connectwise, decide, notification_link, start_runtime, view, wait_for_status

TODAY = datetime.now(timezone.utc).date()
NEXT_INVOICE = f"{first_of_next_month(TODAY).isoformat()}T00:00:00Z"
SUBSCRIPTIONS, HAND_MADE, PER_CUSTOMER = 200, 150, 4
CUSTOMERS = SUBSCRIPTIONS // PER_CUSTOMER
ADDITIONS_LISTING = re.compile(r"/finance/agreements/(\d+)/additions$")
pytestmark = pytest.mark.timeout(1800)


@pytest.fixture(scope="module")
def onboarded(tmp_path_factory):
    seed = onboarding_seed(TODAY, SUBSCRIPTIONS, HAND_MADE)
    rt = start_runtime(tmp_path_factory.mktemp("onboarding"), seed=seed, parameters={"ApprovalPolicy": "always"})
    try:
        before = connectwise(rt)
        start = len(rt.connectwise.requests())
        reviewed = rt.reconcile(repair=False)  # what the billing person reviews first
        reads = rt.connectwise.requests()[start:]
        first = rt.reconcile(repair=True)
        pages, answers = {}, {}
        for task_id in first["tasks"]:
            _, link = notification_link(rt, task_id, "confirm", timeout=600)
            pages[task_id] = view(link)[1]
            answers[task_id] = decide(link, {"decision": "approve", "choice": "apply"})
        tasks = {task_id: wait_for_status(rt, task_id, timeout=600) for task_id in first["tasks"]}
        rt.wait_until_settled(timeout=600)
        after = connectwise(rt)
        second = rt.reconcile(repair=True)
        yield {"rt": rt, "seed": seed, "reviewed": reviewed, "reads": reads, "first": first, "second": second, "before": before,
               "after": after, "pages": pages, "answers": answers, "tasks": tasks}
    finally:
        rt.stop()


def subscription_of(addition: dict) -> str | None:
    found = re.match(r"MP-(SUB-ON\d{5})-", str(addition.get("serialNumber") or ""))
    return found.group(1) if found else None


def live(additions: list[dict]) -> list[dict]:
    return [a for a in additions if not a.get("cancelledDate") or a["cancelledDate"] > NEXT_INVOICE]


def test_the_first_reconciliation_covers_every_existing_subscription(onboarded):
    for result in (onboarded["reviewed"], onboarded["first"]):
        totals = result["totals"]
        assert totals["subscriptionsChecked"] == SUBSCRIPTIONS and totals["inStep"] == 0
        assert totals["byKind"]["adopt_candidate"] == HAND_MADE
        assert totals["byKind"]["not_billed"] == SUBSCRIPTIONS - HAND_MADE
        assert totals["differences"] == SUBSCRIPTIONS and result["problems"] == []
    assert onboarded["reviewed"]["tasks"] == []  # a report alone starts nothing


def test_each_customer_agreement_gets_one_repair_task_confirmed_once_over_its_link(onboarded):
    tasks = onboarded["tasks"]
    assert len(tasks) == CUSTOMERS
    covered = Counter(sub for task in tasks.values() for sub in task["subscriptionIds"])
    assert len(covered) == SUBSCRIPTIONS and set(covered.values()) == {1}
    for task_id, task in tasks.items():
        assert task["taskType"] == "reconcile" and task["status"] == "synced", task
        assert len(task["subscriptionIds"]) == PER_CUSTOMER
        assert sum("confirmed by the approver" in (h.get("reason") or "") for h in task["history"]) == 1
        assert onboarded["answers"][task_id][0] == 200, onboarded["answers"][task_id]


def test_the_confirm_page_lists_every_repair_of_the_agreement_with_its_money(onboarded):
    hand_made = {f"SUB-ON{n:05d}" for n in range(HAND_MADE)}
    rows = Counter()
    for task_id, page in onboarded["pages"].items():
        assert page["kind"] == "confirm" and page["status"] == "pending"
        plan = page["plan"]
        assert "periods already invoiced are not changed" in plan["summary"]
        assert {str(op["agreementId"]) for op in plan["operations"]} == {str(onboarded["tasks"][task_id]["agreementId"])}
        subs = onboarded["tasks"][task_id]["subscriptionIds"]
        assert page["task"]["subscriptions"] == subs  # the page names every subscription it repairs
        assert len(plan["operations"]) == len(subs)
        by_sub = {re.search(r"\((SUB-ON\d{5})\): ", op["explanation"]).group(1): op for op in plan["operations"]}
        assert sorted(by_sub) == sorted(subs)  # each row names its subscription
        for sub, op in by_sub.items():
            assert re.search(r"\d+\.\d{2} USD", op["explanation"]), op["explanation"]  # its money, in words
            expected = "update_addition" if sub in hand_made else "create_addition"
            assert op["action"] == expected, (sub, op)
            rows[op["action"]] += 1
    assert rows == {"update_addition": HAND_MADE, "create_addition": SUBSCRIPTIONS - HAND_MADE}


def test_every_hand_made_addition_is_adopted_and_none_is_duplicated(onboarded):
    before, after = onboarded["before"]["additions"], onboarded["after"]["additions"]
    assert len(after) == SUBSCRIPTIONS  # 150 adopted + 50 created, not one more
    kept = {a["id"]: a for a in after}
    for hand_made in before:  # adopted: tagged, quantity and price untouched, never ended
        now = kept[hand_made["id"]]
        assert subscription_of(now) is not None, now
        assert (now["quantity"], now["unitPrice"], now["product"]["id"]) == \
            (hand_made["quantity"], hand_made["unitPrice"], hand_made["product"]["id"])
        assert not now.get("cancelledDate")
    # Zero duplicates: exactly one live addition per subscription line, of its product and quantity.
    subscriptions = {s["id"]: s for s in onboarded["seed"]["marketplace"]["subscriptions"]}
    catalog = {i["identifier"]: i["id"] for i in onboarded["before"]["catalog"]}
    per_line = Counter((subscription_of(a), a["product"]["id"]) for a in live(after))
    assert len(per_line) == SUBSCRIPTIONS and set(per_line.values()) == {1}, per_line.most_common(3)
    for addition in live(after):
        (line,) = subscriptions[subscription_of(addition)]["products"]
        assert addition["quantity"] == line["quantity"]
        assert str(addition["product"]["id"]) in {str(v) for k, v in catalog.items()}


def test_a_second_reconciliation_finds_everything_in_step_and_starts_no_task(onboarded):
    second = onboarded["second"]
    assert second["differences"] == [], second["differences"][:3]
    assert second["totals"]["inStep"] == second["totals"]["subscriptionsChecked"] == SUBSCRIPTIONS
    assert second["tasks"] == []
    assert {t["taskId"] for t in onboarded["rt"].tasks()} == set(onboarded["tasks"])


def test_reading_connectwise_costs_at_most_one_additions_listing_per_agreement(onboarded):
    reads = [e for e in onboarded["reads"] if "/login/companyinfo/" not in e["path"]]
    assert all(e["method"] == "GET" for e in reads)
    listings = Counter(m.group(1) for e in reads for m in [ADDITIONS_LISTING.search(e["path"])] if m)
    assert set(listings) == {str(a["id"]) for a in onboarded["before"]["agreements"]}
    assert max(listings.values()) == 1
    assert len([e for e in reads if e["path"].endswith("/finance/agreements")]) == 1  # all companies at once
    # Besides the additions: the agreements, the companies and the catalog (to match unlinked ones).
    assert len(reads) == len(listings) + 3, sorted({e["path"] for e in reads})[:10]
