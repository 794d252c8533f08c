"""A new task is stored already marked started, with one "starts under way" item per batch
covering the moment between the put and the start (in-memory fakes; on moto and over HTTP:
tests/integration/test_check_changes_starts.py)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from cwsync.services.check_changes import check_changes
from cwsync.services.check_starts import STARTS_LEASE
from test_check_changes_rules import NOW, deps, order  # noqa: F401


class Killed(BaseException):
    """The invocation ends mid-run (Lambda's timeout, a kill): nothing after it runs."""


class StepFunctions:
    """One execution per name, as Step Functions: a second start of a name is refused (False).
    With `dies_at`, the invocation is killed when that many executions have started."""

    def __init__(self, dies_at: int | None = None):
        self.dies_at = dies_at
        self.executions: list[str] = []

    def start(self, task_id):
        if self.dies_at is not None and len(self.executions) >= self.dies_at:
            raise Killed()
        if task_id in self.executions:
            return False
        self.executions.append(task_id)
        return True


def test_a_new_task_is_stored_marked_started_and_the_batch_leaves_no_item_behind(deps):
    for number in range(1, 4):
        deps.marketplace.add(order(number, NOW - timedelta(hours=number)))
    result = check_changes(deps, now=NOW)
    assert sorted(result.new_tasks) == ["ORD-1", "ORD-2", "ORD-3"]
    assert sorted(deps.workflow.started) == ["ORD-1", "ORD-2", "ORD-3"]
    assert all(deps.store.get_task(f"ORD-{n}")["workflowStartedAt"] for n in range(1, 4))
    assert deps.store.check_items()[2] == []


def test_a_run_killed_between_storing_and_starting_is_finished_by_a_run_after_the_lease(deps):
    for number in range(1, 4):
        deps.marketplace.add(order(number, NOW - timedelta(hours=number)))
    deps.workflow = StepFunctions(dies_at=1)
    with pytest.raises(Killed):
        check_changes(deps, now=NOW, concurrency=1)
    # ORD-1 stored and started; ORD-2 stored (marked started) and killed before its start
    assert sorted(deps.store.tasks) == ["ORD-1", "ORD-2"] and deps.workflow.executions == ["ORD-1"]
    assert deps.store.get_task("ORD-2")["workflowStartedAt"]
    assert deps.store.check_items()[2][0]["taskIds"] == ["ORD-1", "ORD-2", "ORD-3"]

    deps.workflow.dies_at = None
    soon = check_changes(deps, now=NOW + STARTS_LEASE - timedelta(minutes=1))
    assert soon.new_tasks == ["ORD-3"] and soon.restarted == []  # the killed run may still be at work
    assert len(deps.store.check_items()[2]) == 1

    later = check_changes(deps, now=NOW + STARTS_LEASE + timedelta(minutes=1))
    assert later.restarted == ["ORD-2"]  # ORD-1's and ORD-3's executions exist: refused, not counted
    assert sorted(deps.workflow.executions) == ["ORD-1", "ORD-2", "ORD-3"]  # each once
    assert deps.store.check_items()[2] == []
    assert check_changes(deps, now=NOW + 2 * STARTS_LEASE).restarted == []

