"""Acceptance: each demo order type, through the real state machine on moto with the real handlers,
ends with the expected ConnectWise state (docs/SEED.md, "Which order shows what"), and
`cwsync run --once --auto-approve --json` accounts for every demo task.

ApprovalPolicy=never: nothing waits for a confirmation; the link approvals of the demo
(SO000113/114/117/120/121) stay pending here and are answered in test_approval_workflow.py.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from acceptance import connectwise, demo_seed, messages, settled_runtime, tagged

SEED = demo_seed()
ORIGINAL = {a["id"]: a for a in SEED["connectwise"]["additions"]}


@pytest.fixture(scope="module")
def synced(tmp_path_factory, data_set):
    """A data set checked once and settled: every task synced, finished or waiting for a person."""
    with settled_runtime(tmp_path_factory.mktemp("sync"), seed=data_set,
                         parameters={"ApprovalPolicy": "never"}) as rt:
        yield rt


@pytest.fixture(scope="module")
def cw(synced):
    return connectwise(synced)


def task(rt, order_number: str) -> dict:
    [found] = [t for t in rt.tasks() if t.get("orderNumber") == order_number]
    return found


def money(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


BUSINESS_FIELDS = ("agreementId", "product", "quantity", "unitPrice", "unitCost", "effectiveDate", "cancelledDate",
                   "serialNumber", "billCustomer", "taxableFlag")


def terms(addition: dict) -> dict:
    """An addition's business fields; a reference's `_info` link (the real-shaped data sets carry one) is no term."""
    return {k: ({name: v for name, v in value.items() if name != "_info"} if isinstance(value, dict) else value)
            for k in BUSINESS_FIELDS for value in [addition.get(k)]}


def unchanged(cw: dict, addition_id: int) -> bool:
    """The seeded addition's terms as they were."""
    now = next(a for a in cw["additions"] if a["id"] == addition_id)
    return terms(now) == terms(ORIGINAL[addition_id])


def test_a_sales_order_creates_a_tagged_addition_with_the_order_terms_and_a_setup_fee(synced, cw):
    assert task(synced, "SO000112")["status"] == "synced"
    [addition] = tagged(cw["additions"], "MP-SUB-104-SO000112")
    assert addition["serialNumber"] == "MP-SUB-104-SO000112"
    assert addition["agreementId"] == 3101                      # Green Lane's only eligible agreement
    assert addition["product"]["id"] == 703                     # M365-BUSPREM-P1M by catalog identifier
    assert addition["quantity"] == 10
    assert (money(addition["unitPrice"]), money(addition["unitCost"])) == (Decimal("22.00"), Decimal("17.60"))
    assert addition["billCustomer"] == "Billable" and addition["taxableFlag"] is False
    assert addition["effectiveDate"] == "2026-11-12T00:00:00Z" and not addition.get("cancelledDate")
    [fee] = tagged(cw["adjustments"], "MP-SUB-104-SO000112", "description")
    assert fee["agreementId"] == 3101 and money(fee["amount"]) == Decimal("75.00")
    assert "Setup fee" in fee["description"]
    [note] = messages(synced, "Synced: order SO000112")
    assert "quantity 10" in note["message"]


def test_a_change_up_ends_the_old_addition_starts_one_with_twelve_and_charges_the_prorated_difference(synced, cw):
    assert task(synced, "CH000116")["status"] == "synced"
    old = next(a for a in cw["additions"] if a["id"] == 9001)
    assert old["cancelledDate"] == "2026-11-17T00:00:00Z" and old["quantity"] == 10
    [new] = tagged(cw["additions"], "MP-SUB-101-CH000116")
    assert (new["agreementId"], new["product"]["id"], new["quantity"]) == (3101, 701, 12)
    # The full unit price stays that of the subscription (the order's line is prorated: 2.80 for 14 days).
    assert (money(new["unitPrice"]), money(new["unitCost"])) == (Decimal("6.00"), Decimal("4.80"))
    assert new["effectiveDate"] == "2026-11-17T00:00:00Z" and not new.get("cancelledDate")
    [prorate] = tagged(cw["adjustments"], "MP-SUB-101-CH000116", "description")
    # 2 more licences × 6.00 × 14/30 days = 5.60, what the marketplace charged (the order total).
    assert money(prorate["amount"]) == Decimal("5.60") and "upgrade" in prorate["description"]


def test_a_change_down_ends_the_old_addition_starts_one_with_three_and_credits_the_difference(synced, cw):
    assert task(synced, "CH000118")["status"] == "synced"
    old = next(a for a in cw["additions"] if a["id"] == 9002)
    assert old["cancelledDate"] == "2026-11-19T00:00:00Z"
    [new] = tagged(cw["additions"], "MP-SUB-102-CH000118")
    assert (new["agreementId"], new["product"]["id"], new["quantity"]) == (3101, 702, 3)
    assert (money(new["unitPrice"]), money(new["unitCost"])) == (Decimal("4.00"), Decimal("3.20"))
    [credit] = tagged(cw["adjustments"], "MP-SUB-102-CH000118", "description")
    assert money(credit["amount"]) == Decimal("-3.20") and "downgrade" in credit["description"]


def test_a_usage_billing_order_charges_the_period_and_the_overuse_on_the_subscription_agreement(synced, cw):
    assert task(synced, "BO000110")["status"] == "synced"
    charges = tagged(cw["adjustments"], "MP-SUB-202-BO000110", "description")
    assert {c["agreementId"] for c in charges} == {3201}
    overuse = [c for c in charges if "Overuse" in c["description"]]
    recurring = [c for c in charges if "Recurring" in c["description"]]
    assert [money(c["amount"]) for c in overuse] == [Decimal("2.28")]      # 38 GB × 0.06
    assert [money(c["amount"]) for c in recurring] == [Decimal("10.00")]
    assert "38" in overuse[0]["description"]
    assert not tagged(cw["additions"], "BO000110")                          # billing writes no additions
    assert unchanged(cw, 9005)                                              # the backup addition stays


def test_a_cancellation_ends_the_subscription_additions_and_charges_the_cancellation_fee(synced, cw):
    assert task(synced, "CL000119")["status"] == "synced"
    cancelled = next(a for a in cw["additions"] if a["id"] == 9004)
    assert cancelled["cancelledDate"] == "2026-11-20T00:00:00Z"
    [fee] = tagged(cw["adjustments"], "MP-SUB-201-CL000119", "description")
    assert fee["agreementId"] == 3201 and money(fee["amount"]) == Decimal("40.00")
    assert "Cancellation fee" in fee["description"]
    assert not tagged(cw["additions"], "CL000119")


def test_a_renewal_on_the_same_terms_changes_nothing_in_connectwise(synced, cw):
    renewal = task(synced, "RN000115")
    assert renewal["status"] == "nothing_to_change"
    assert renewal["reason"].startswith("Nothing to change")
    assert [a["id"] for a in cw["additions"] if a["agreementId"] == 3301] == [9006] and unchanged(cw, 9006)
    assert not [a for a in cw["adjustments"] if a["agreementId"] == 3301]
    writes = [r for r in synced.connectwise.requests() if r.get("method") in ("POST", "PATCH", "PUT", "DELETE")
              and "3301" in str(r.get("path", ""))]
    assert writes == []
    assert not messages(synced, "Synced: order RN000115")


def test_a_migration_order_is_ignored_with_the_reason(synced):
    ignored = task(synced, "SO000111")
    assert ignored["status"] == "ignored" and "migration" in ignored["reason"]


def test_orders_needing_a_person_wait_with_a_signed_link_and_nothing_written(synced, cw):
    waiting = {t["orderNumber"]: t for t in synced.tasks("waiting_approval")}
    assert set(waiting) == {"SO000113", "SO000114", "SO000117", "SO000120", "SO000121"}
    kinds = {a["taskId"]: a["kind"] for a in synced.approvals("pending")}
    assert kinds == {"5000113": "product", "5000114": "customer", "5000117": "agreement",
                     "5000120": "agreement", "5000121": "agreement"}
    for tag in ("SO000113", "SO000114", "SO000117", "SO000120", "SO000121"):
        assert not tagged(cw["additions"], tag) and not tagged(cw["adjustments"], tag, "description")


def run_once(data_dir: Path, *arguments: str) -> tuple[dict[str, dict], dict]:
    """`cwsync run --once --json ...` in a new process: (task summaries by order, ConnectWise state)."""
    # A terminal's environment: the runtime running in this process keeps its functions' variables
    # in os.environ as "" (docs/INTERFACES.md), which a new process must not inherit.
    environment = {key: value for key, value in os.environ.items() if value != ""}
    completed = subprocess.run(
        [sys.executable, "-m", "cwsync_local.cli", "run", "--once", "--json", "--data-dir", str(data_dir),
         "--port", "0", *arguments],
        capture_output=True, text=True, timeout=280, cwd=Path(__file__).resolve().parents[2], env=environment)
    assert completed.returncode == 0, completed.stderr[-3000:]
    summaries = {t["order"]: t for t in json.loads(completed.stdout)["tasks"]}
    state = json.loads((data_dir / "connectwise.json").read_text(encoding="utf-8"))
    return summaries, state.get("connectwise", state)


def test_cwsync_run_once_with_auto_approve_syncs_or_explains_every_task(tmp_path, data_set):
    summaries, state = run_once(tmp_path / "cli", "--auto-approve", "--seed", data_set)
    expected_orders = {o["orderNumber"] for o in SEED["marketplace"]["orders"]
                       if o["creationDate"] >= "2026-11-10" and o["status"] == "completed"}
    assert set(summaries) == expected_orders                                # SO000122 is still processing
    for order, summary in summaries.items():
        assert summary["status"] in {"synced", "nothing_to_change", "rejected", "failed", "ignored", "invalid"}, \
            summary
        assert summary["reason"], summary
    synced = {"BO000110", "SO000112", "SO000113", "CH000116", "SO000117", "CH000118", "CL000119"}
    assert {o for o, s in summaries.items() if s["status"] == "synced"} == synced
    assert summaries["RN000115"]["status"] == "nothing_to_change"
    assert summaries["SO000111"]["status"] == "ignored"
    # No agreement can take these: auto-approve does not guess, it rejects with a reason.
    for order in ("SO000120", "SO000121"):
        assert summaries[order]["status"] == "rejected" and "auto-approve" in summaries[order]["reason"]
    # Teams Premium was added to the catalog (recommended), not booked as a merely similar product.
    [teams] = tagged(state["additions"], "MP-SUB-105-SO000113")
    item = next(i for i in state["catalog"] if i["id"] == teams["product"]["id"])
    assert item["identifier"] == "TEAMS-PREMIUM-P1M"


def test_cwsync_run_once_syncs_every_task_that_needs_no_person_with_the_expected_additions(tmp_path, data_set):
    """`cwsync run --once --json --parameter ApprovalPolicy=never`: what ConnectWise holds afterwards."""
    summaries, state = run_once(tmp_path / "cli", "--parameter", "ApprovalPolicy=never", "--seed", data_set)
    assert {o for o, s in summaries.items() if s["status"] == "synced"} == {
        "BO000110", "SO000112", "CH000116", "CH000118", "CL000119"}
    assert {o for o, s in summaries.items() if s["status"] == "waiting_approval"} == {
        "SO000113", "SO000114", "SO000117", "SO000120", "SO000121"}
    assert (summaries["RN000115"]["status"], summaries["SO000111"]["status"]) == ("nothing_to_change", "ignored")
    additions = {a["id"]: a for a in state["additions"]}

    def live(tag: str) -> tuple:
        [addition] = tagged(state["additions"], tag)
        return (addition["agreementId"], addition["product"]["id"], addition["quantity"], money(addition["unitPrice"]),
                money(addition["unitCost"]), addition["effectiveDate"], addition.get("cancelledDate"))

    assert live("MP-SUB-104-SO000112") == (3101, 703, 10, Decimal("22.00"), Decimal("17.60"),
                                           "2026-11-12T00:00:00Z", None)
    assert live("MP-SUB-101-CH000116") == (3101, 701, 12, Decimal("6.00"), Decimal("4.80"),
                                           "2026-11-17T00:00:00Z", None)
    assert live("MP-SUB-102-CH000118") == (3101, 702, 3, Decimal("4.00"), Decimal("3.20"),
                                           "2026-11-19T00:00:00Z", None)
    assert (additions[9001]["cancelledDate"], additions[9002]["cancelledDate"], additions[9004]["cancelledDate"]) \
        == ("2026-11-17T00:00:00Z", "2026-11-19T00:00:00Z", "2026-11-20T00:00:00Z")
    assert unchanged({"additions": state["additions"]}, 9005) and unchanged({"additions": state["additions"]}, 9006)
    charges = {(a["agreementId"], money(a["amount"])) for a in state["adjustments"] if "MP-SUB-" in a["description"]}
    assert charges == {(3101, Decimal("75.00")), (3101, Decimal("5.60")), (3101, Decimal("-3.20")),
                       (3201, Decimal("10.00")), (3201, Decimal("2.28")), (3201, Decimal("40.00"))}
    for tag in ("SO000113", "SO000114", "SO000117", "SO000120", "SO000121"):
        assert not tagged(state["additions"], tag) and not tagged(state["adjustments"], tag, "description")
