"""First connection: 200 subscriptions that existed before cwsync, 150 of them billed by additions
typed by hand. One reconciliation, a confirmation per repair task, and everything is in step with
no duplicate; reading ConnectWise costs at most one additions listing per agreement.

Real HTTP against both simulators, the real store on moto, and each repair task run through the
real steps in the order the state machine runs them, the confirmation given as the approvals API
hands it to PlanChanges (the state machine itself is exercised by tests/workflow/test_reconcile_workflow.py).
"""
from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timezone

import pytest

from cwsync.services import steps
from cwsync.services.reconcile import reconcile
from cwsync_local.data.reconcile_seed import onboarding_seed
from cwsync_local.simulators import connectwise as cw_simulator
from cwsync_local.simulators import marketplace as mp_simulator

from tests.integration.test_request_economy import make_deps

NOW = datetime.now(timezone.utc)
SUBSCRIPTIONS, HAND_MADE = 200, 150
pytestmark = pytest.mark.timeout(1200)  # 200 repair tasks on moto: about a second each
ADDITIONS_LISTING = re.compile(r"/finance/agreements/(\d+)/additions$")


class Workflow:
    def __init__(self):
        self.started = []

    def start(self, task_id):
        self.started.append(task_id)
        return True


def run_repair(deps, task_id: str) -> str:
    """LoadTask … FinishTask; a confirmation is answered "apply" as the approver's POST does."""
    for step in (steps.load_task, steps.link_customer, steps.link_product, steps.select_agreement):
        answer = step(deps, task_id)
        assert answer["outcome"] in ("loaded", "linked"), answer
    planned = steps.plan_changes(deps, task_id)
    if planned["outcome"] == "nothing_to_change":
        return steps.finish_task(deps, task_id, "nothing_to_change")["outcome"]
    assert planned["needsConfirmation"] is True and planned["approval"]["kind"] == "confirm"
    steps.plan_changes(deps, task_id, decision={"decision": "approve", "choice": "apply", "changes": {}})
    steps.apply_changes(deps, task_id)
    return steps.finish_task(deps, task_id, "synced")["outcome"]


@pytest.fixture(scope="module")
def onboarded(module_dynamodb, tmp_path_factory):
    from cwsync.adapters.store import create_table

    create_table(module_dynamodb, "cwsync-test")
    seed = onboarding_seed(NOW.date(), SUBSCRIPTIONS, HAND_MADE)
    log = tmp_path_factory.mktemp("onboarding") / "connectwise-requests.jsonl"
    with cw_simulator.start(seed=seed, request_log=log) as cw, mp_simulator.start(seed=seed) as mp:
        deps = make_deps(module_dynamodb, cw, mp, APPROVAL_POLICY="always")
        deps._clock = lambda: NOW
        deps._workflow = Workflow()
        before = [dict(a) for a in cw.state.data["additions"]]
        agreements = [dict(a) for a in cw.state.data["agreements"]]
        start = len(cw.requests())
        first = reconcile(deps, repair=True)
        reads = cw.requests()[start:]
        outcomes = Counter(run_repair(deps, task_id) for task_id in first["tasks"])
        after = [dict(a) for a in cw.state.data["additions"]]
        second = reconcile(deps, repair=True)
        yield {"deps": deps, "first": first, "second": second, "before": before, "after": after, "reads": reads,
               "outcomes": outcomes, "agreements": agreements}


def test_the_first_reconciliation_covers_every_existing_subscription(onboarded):
    totals = onboarded["first"]["totals"]
    assert totals["subscriptionsChecked"] == SUBSCRIPTIONS
    assert totals["byKind"]["adopt_candidate"] == HAND_MADE
    assert totals["byKind"]["not_billed"] == SUBSCRIPTIONS - HAND_MADE
    assert len(onboarded["first"]["tasks"]) == SUBSCRIPTIONS == len(onboarded["deps"].workflow.started)


def test_after_the_approvals_every_subscription_is_in_step_and_no_new_task_starts(onboarded):
    assert onboarded["outcomes"] == {"synced": SUBSCRIPTIONS}
    second = onboarded["second"]
    assert second["totals"]["inStep"] == SUBSCRIPTIONS and second["differences"] == []
    assert second["tasks"] == []


def test_hand_made_additions_are_adopted_and_nothing_is_duplicated(onboarded):
    before, after = onboarded["before"], onboarded["after"]
    assert len(after) == SUBSCRIPTIONS  # 150 adopted + 50 created, not one more
    assert {a["id"] for a in before} <= {a["id"] for a in after}
    kept = {a["id"]: a for a in after}
    for hand_made in before:  # adopted: tagged, quantity and price untouched
        now = kept[hand_made["id"]]
        assert now["serialNumber"].startswith("MP-SUB-ON")
        assert (now["quantity"], now["unitPrice"]) == (hand_made["quantity"], hand_made["unitPrice"])
    owners = Counter(re.sub(r"-RC\d{8}(-\d+)?$", "", a["serialNumber"]) for a in after)
    assert len(owners) == SUBSCRIPTIONS and set(owners.values()) == {1}, owners.most_common(3)
    assert not any(a.get("cancelledDate") for a in after)


def test_reading_connectwise_costs_at_most_one_additions_listing_per_agreement(onboarded):
    reads = [e for e in onboarded["reads"] if "/login/companyinfo/" not in e["path"]]
    listings = Counter(m.group(1) for e in reads if e["method"] == "GET"
                       for m in [ADDITIONS_LISTING.search(e["path"])] if m)
    assert set(listings) == {str(a["id"]) for a in onboarded["agreements"]}
    assert max(listings.values()) == 1
    agreement_listings = [e for e in reads if e["path"].endswith("/finance/agreements")]
    assert len(agreement_listings) == 1  # every company's agreements in one listing
    # Besides the additions: the agreements, the companies and the catalog (to match unlinked ones).
    assert len(reads) == len(listings) + 3, sorted({e["path"] for e in reads})[:10]
