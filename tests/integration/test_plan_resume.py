"""A change order stopped between its writes is completed as planned, and only then synced.

The real steps over HTTP against the simulators (demo data, CH000116: SUB-101 10 → 12 on
agreement 3101) and the real store on moto. The first ApplyChanges stops (the Lambda is
killed) right after ConnectWise saved the cancellation of the old addition; the restarted
execution runs PlanChanges and ApplyChanges again, as after a restart.
"""
from __future__ import annotations

from decimal import Decimal

import pytest

from cwsync.services import steps
from tests.integration.test_request_economy import add_task, make_deps, simulators  # noqa: F401 - fixture


class Killed(BaseException):
    """The Lambda stops here."""


def test_a_change_order_killed_after_the_cancel_ends_with_exactly_the_new_quantity_live(dynamodb, simulators):
    connectwise_sim, marketplace_sim = simulators
    deps = make_deps(dynamodb, connectwise_sim, marketplace_sim)
    task_id = add_task(deps, "5000116")
    for name in ("load_task", "link_customer", "link_product", "select_agreement", "plan_changes"):
        getattr(steps, name)(deps, task_id)
    planned = deps.store.get_task(task_id)["plan"]
    assert [op["action"] for op in planned["operations"]] == ["cancel_addition", "create_addition",
                                                              "create_adjustment"]

    cancel = deps.connectwise.cancel_addition

    def cancel_then_die(*args, **kwargs):
        cancel(*args, **kwargs)
        raise Killed()

    deps.connectwise.cancel_addition = cancel_then_die
    with pytest.raises(Killed):
        steps.apply_changes(deps, task_id)
    deps.connectwise.cancel_addition = cancel
    with connectwise_sim.state.lock:
        assert next(a for a in connectwise_sim.state.data["additions"] if a["id"] == 9001).get("cancelledDate")

    # The restarted execution plans again: the stored plan is completed, not a new "0 → 12" one.
    again = steps.plan_changes(deps, task_id)
    assert again["resumed"] is True and deps.store.get_task(task_id)["plan"] == planned
    applied = steps.apply_changes(deps, task_id)
    assert applied["operations"] == 3
    with connectwise_sim.state.lock:
        additions = [dict(a) for a in connectwise_sim.state.data["additions"] if a.get("agreementId") == 3101]
        adjustments = [dict(a) for a in connectwise_sim.state.data["adjustments"] if a.get("agreementId") == 3101]
    live = [(Decimal(str(a["quantity"])), Decimal(str(a["unitPrice"]))) for a in additions
            if str(a.get("serialNumber") or "").startswith("MP-SUB-101-") and not a.get("cancelledDate")]
    assert live == [(Decimal(12), Decimal(6))]
    (prorate,) = [a for a in adjustments if str(a["description"]).startswith("MP-SUB-101-CH000116:prorate ")]
    assert "10 → 12" in prorate["description"]


# ---- when the plan's read is not taken as known ---------------------------------------------------------

from datetime import timedelta  # noqa: E402

from cwsync.errors import SyncFailed  # noqa: E402
from cwsync.services.apply_known import PLAN_READ_TRUSTED_FOR  # noqa: E402
from cwsync.services.operator import ATTEMPT_ATTRIBUTES  # noqa: E402
from tests.integration.test_request_economy import (NOW, PLAN_STEPS, linked_change_task, run_task,  # noqa: E402
                                                    sub_101)


def old_addition(sim) -> dict:
    with sim.state.lock:
        return next(a for a in sim.state.data["additions"] if a.get("serialNumber") == "MP-SUB-101-CH000116")


def cancel_by_hand(sim, day: str) -> None:
    with sim.state.lock:
        next(a for a in sim.state.data["additions"]
             if a.get("serialNumber") == "MP-SUB-101-CH000116")["cancelledDate"] = day


def test_a_plan_a_person_confirmed_days_later_is_applied_to_connectwise_as_it_is_then(dynamodb, simulators):
    """While the approver took their time, a person ended the ×12 by hand on another day: the apply
    reads the addition again, keeps the person's date and creates the ×15 once."""
    connectwise_sim, marketplace_sim = simulators
    task_id = linked_change_task(make_deps(dynamodb, connectwise_sim, marketplace_sim), simulators)
    deps = make_deps(dynamodb, connectwise_sim, marketplace_sim, APPROVAL_POLICY="always")
    for name in PLAN_STEPS[:-1]:
        getattr(steps, name)(deps, task_id)
    asked = steps.plan_changes(deps, task_id)
    assert asked["needsConfirmation"] is True
    assert "read" not in deps.store.get_task(task_id)["plan"]  # a plan that waits for a person keeps no read
    cancel_by_hand(connectwise_sim, "2026-11-20T00:00:00Z")
    steps.plan_changes(deps, task_id, decision={"decision": "approve", "choice": "apply"})
    mark = len(connectwise_sim.requests())
    applied = steps.apply_changes(deps, task_id)
    requests = [(e["method"], e["path"].rsplit("/", 1)[-1]) for e in connectwise_sim.requests()[mark:]]
    assert ("GET", str(old_addition(connectwise_sim)["id"])) in requests
    assert not [r for r in requests if r[0] == "PATCH"]  # the person's end date is not overwritten
    assert old_addition(connectwise_sim)["cancelledDate"] == "2026-11-20T00:00:00Z"
    assert applied["written"] == 2  # the ×15 and the prorated charge; the end was found already done
    live, prorate = sub_101(connectwise_sim)
    assert live == [(Decimal(15), Decimal(6))] and len(prorate) == 1


def test_a_plan_applied_longer_after_its_read_than_trusted_reads_connectwise_again(dynamodb, simulators):
    connectwise_sim, marketplace_sim = simulators
    task_id = linked_change_task(make_deps(dynamodb, connectwise_sim, marketplace_sim), simulators)
    clock = {"now": NOW}
    deps = make_deps(dynamodb, connectwise_sim, marketplace_sim, clock=lambda: clock["now"])
    for name in PLAN_STEPS:
        getattr(steps, name)(deps, task_id)
    cancel_by_hand(connectwise_sim, "2026-11-20T00:00:00Z")
    clock["now"] = NOW + PLAN_READ_TRUSTED_FOR + timedelta(seconds=1)
    mark = len(connectwise_sim.requests())
    steps.apply_changes(deps, task_id)
    requests = [e["method"] for e in connectwise_sim.requests()[mark:]]
    assert requests.count("GET") == 3  # the addition to end, then each new tag: nothing taken as known
    assert old_addition(connectwise_sim)["cancelledDate"] == "2026-11-20T00:00:00Z"
    live, prorate = sub_101(connectwise_sim)
    assert live == [(Decimal(15), Decimal(6))] and len(prorate) == 1


def test_an_addition_deleted_between_the_plans_read_and_the_write_fails_the_task_and_writes_nothing(
        dynamodb, simulators):
    connectwise_sim, marketplace_sim = simulators
    task_id = linked_change_task(make_deps(dynamodb, connectwise_sim, marketplace_sim), simulators)
    deps = make_deps(dynamodb, connectwise_sim, marketplace_sim)
    for name in PLAN_STEPS:
        getattr(steps, name)(deps, task_id)
    gone = old_addition(connectwise_sim)
    with connectwise_sim.state.lock:
        connectwise_sim.state.data["additions"].remove(gone)
    mark = len(connectwise_sim.requests())
    with pytest.raises(SyncFailed, match=f"Addition {gone['id']} on agreement 3101 no longer exists"):
        steps.apply_changes(deps, task_id)
    assert [e["method"] for e in connectwise_sim.requests()[mark:]] == ["PATCH"]  # answered 404; nothing else
    live, prorate = sub_101(connectwise_sim)
    assert live == [] and prorate == []


class Stopped(BaseException):
    """The Lambda stops here."""


def test_sync_again_after_a_stop_between_a_write_and_its_record_finds_the_write_and_makes_no_second(
        dynamodb, simulators):
    """A sales order's plan reads no additions: its first attempt creates the addition without a lookup
    and stops before recording it. After "Sync again" (which clears the plan and its marker) the new
    attempt is not a first one: it finds the addition by its tag."""
    connectwise_sim, marketplace_sim = simulators
    deps = make_deps(dynamodb, connectwise_sim, marketplace_sim)
    run_task(deps, add_task(deps, "5000112"), connectwise_sim.requests)
    deps.store.put_subscription_link("SUB-106", "3101", linkedBy="approval")
    task_id = add_task(deps, "5000130")
    for name in PLAN_STEPS:
        getattr(steps, name)(deps, task_id)
    record = deps.store.record_applied
    deps.store.record_applied = lambda *args, **kwargs: (_ for _ in ()).throw(Stopped())
    with pytest.raises(Stopped):
        steps.apply_changes(deps, task_id)
    deps.store.record_applied = record
    # the task ended failed; a person pressed Sync again
    deps.store.update_task(task_id, "failed", "stopped")
    deps.store.update_task(task_id, "new", "Sync again", **{name: None for name in ATTEMPT_ATTRIBUTES})
    mark = len(connectwise_sim.requests())
    answers = run_task(deps, task_id, connectwise_sim.requests)
    assert answers["apply_changes"] == {"outcome": "applied", "operations": 1, "written": 0}
    lookups = [e for e in connectwise_sim.requests()[mark:] if e["method"] == "GET"
               and e["query"].get("conditions") == 'serialNumber="MP-SUB-106-SO000130"']
    assert len(lookups) == 1
    with connectwise_sim.state.lock:
        added = [a for a in connectwise_sim.state.data["additions"] if a.get("serialNumber") == "MP-SUB-106-SO000130"]
    assert len(added) == 1 and Decimal(str(added[0]["quantity"])) == 5
