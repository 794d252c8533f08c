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
