"""A check killed between storing new tasks and starting their executions: a run after the
lease starts exactly the ones that were not started (marketplace simulator over HTTP, moto;
the rules on fakes: tests/unit/test_check_starts.py)."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from cwsync.services.check_changes import check_changes
from cwsync.services.check_starts import STARTS_LEASE
from test_check_changes import NOW, CountingWorkflow, make_deps, orders_between, sim, workflow  # noqa: F401


class Killed(BaseException):
    """The invocation ends mid-run (Lambda's timeout, a kill)."""


class DyingWorkflow(CountingWorkflow):
    """Step Functions as CountingWorkflow; every start after the first `dies_at` is killed."""

    def __init__(self, dies_at: int):
        super().__init__()
        self.dies_at: int | None = dies_at
        self.killed = threading.Event()

    def start(self, task_id: str) -> bool:
        if self.dies_at is not None and len(self.executions) >= self.dies_at:
            self.killed.set()
            raise Killed()
        return super().start(task_id)


def test_a_check_killed_mid_batch_has_each_task_started_exactly_once_by_the_runs_after_it(dynamodb, sim):
    orders = orders_between(150)
    sim.add_orders(orders)
    workflow = DyingWorkflow(dies_at=40)
    deps = make_deps(sim, workflow, overlap_minutes=24 * 60)
    with pytest.raises(Killed):
        check_changes(deps, now=NOW)
    killed_run = deps.store.check_items()[2]
    assert len(killed_run) == 1 and len(killed_run[0]["taskIds"]) == 100  # the first batch's item stays
    stored = [task["taskId"] for task in deps.store.list_tasks()]
    assert len(stored) == 100 and len(workflow.executions) == 40
    assert all(task.get("workflowStartedAt") for task in deps.store.list_tasks())

    workflow.dies_at = None
    soon = check_changes(deps, now=NOW + timedelta(minutes=1))
    assert len(soon.new_tasks) == 50 and soon.restarted == [] and len(soon.already_known) == 100
    assert len(deps.store.check_items()[2]) == 1  # younger than the lease: its run may still be at work

    later = check_changes(deps, now=NOW + STARTS_LEASE + timedelta(minutes=1))
    assert len(later.restarted) == 60 and later.new_tasks == []
    assert sorted(workflow.executions) == sorted(o["id"] for o in orders)  # every order once
    assert len(set(workflow.executions)) == 150
    assert deps.store.check_items()[2] == []
    assert len(deps.store.list_tasks()) == 150
    assert all(len(task["history"]) == 1 for task in deps.store.list_tasks())
