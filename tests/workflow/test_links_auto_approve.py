"""A link the automatic approver (`--auto-approve`) chose is marked as its choice on the Links page:
Cedar & Stone's SO000117 has two eligible agreements, and the automatic approver takes the
recommended one; Green Lane's SO000113 has a product the catalog lacks, and the automatic approver
has it added. Its own runtime: moto is process-wide, one runtime at a time."""
from __future__ import annotations

from html import unescape

from acceptance import demo_seed, start_runtime, wait_for_status
from test_links_page import links_page, row_of


def test_an_agreement_the_automatic_approver_chose_is_listed_as_its_choice_not_a_persons(tmp_path):
    runtime = start_runtime(tmp_path, seed=demo_seed({"5000113", "5000117"}), parameters={"ApprovalPolicy": "never"},
                            auto_approve=True)
    try:
        runtime.check()
        task = wait_for_status(runtime, "5000117", {"synced", "failed", "rejected", "expired"}, timeout=240)
        assert task["status"] == "synced", task.get("reason")
        row = unescape(row_of(links_page(runtime, {"automatic": "1"}), "subscription", "SUB-501"))
        assert 'data-automatic="yes"' in row and "Automatic approver (auto-approve)" in row
        assert "approval " in row and "#3401" in row
        assert runtime.store.get_subscription_link("SUB-501")["automatic"] is True
        # SO000113's Teams Premium is not in the catalog: the automatic approver had it added
        added = wait_for_status(runtime, "5000113", {"synced", "failed", "rejected", "expired"}, timeout=240)
        assert added["status"] == "synced", added.get("reason")
        row = unescape(row_of(links_page(runtime), "product", "TEAMS-PREMIUM-P1M"))
        assert "Added to the ConnectWise catalog by cwsync, chosen by the automatic approver" in row
        assert 'data-automatic="yes"' in row
    finally:
        runtime.stop()
