"""Check Changes near its time limit: it stops between batches, checkpoints, and the next run
goes on with nothing lost and nothing done twice (marketplace simulator over HTTP, moto).

A run given no time left (`remaining_ms` always 0) still finishes one batch of 100, so each
such run takes exactly one batch: the tests are about outcomes, never about how fast.
"""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from cwsync.adapters.store import format_time
from cwsync.services.check_changes import check_changes
from test_check_changes import (NOW, CountingWorkflow, make_deps, make_order,  # noqa: F401
                                                  orders_between, sim, workflow)

def detail_requests(sim, since: int = 0) -> Counter:
    return Counter(r["path"] for r in sim.requests()[since:]
                   if r["method"] == "GET" and r["path"].startswith("/orders/"))


def test_a_run_out_of_time_checkpoints_and_the_next_runs_finish_the_window_with_each_order_once(
        dynamodb, sim, workflow):
    orders = orders_between(250)
    sim.add_orders(orders)
    deps = make_deps(sim, workflow, overlap_minutes=24 * 60)

    first = check_changes(deps, remaining_ms=lambda: 0)
    assert len(first.new_tasks) == 100 and first.stopped_at == 100
    assert deps.store.get_watermark() is None  # older orders of the window are still unread
    assert "the next run goes on from there" in first.summary()

    later = make_order(900, first.window_to + timedelta(seconds=30))  # arrives while the window is unfinished
    sim.add_orders([later])
    second = check_changes(deps, remaining_ms=lambda: 0)
    assert second.resumed_at == 100 and second.stopped_at == 200
    assert [format_time(t) for t in (second.window_from, second.window_to)] == \
        [format_time(t) for t in (first.window_from, first.window_to)]  # the same window, as stored
    third = check_changes(deps, remaining_ms=lambda: 0)
    assert third.resumed_at == 200 and third.stopped_at is None and len(third.new_tasks) == 50

    created = first.new_tasks + second.new_tasks + third.new_tasks
    assert sorted(created) == sorted(o["id"] for o in orders)  # every order, once
    assert sorted(workflow.executions) == sorted(created) and workflow.attempts == 250
    details = detail_requests(sim)
    assert len(details) == 250 and set(details.values()) == {1}  # no detail read twice
    assert deps.store.get_watermark() == NOW - timedelta(minutes=5)  # the newest order of the window
    assert deps.store.check_state()[1] is None  # the checkpoint is gone once the window is done

    mark = len(sim.requests())
    fourth = check_changes(deps, now=first.window_to + timedelta(minutes=1))  # what arrived meanwhile
    assert fourth.new_tasks == [later["id"]] and fourth.resumed_at is None
    assert detail_requests(sim, mark) == Counter({f"/orders/{later['id']}": 1})
    assert len(deps.store.list_tasks()) == 251


def test_a_run_with_time_to_spare_reads_the_whole_window_in_one_go(dynamodb, sim, workflow):
    sim.add_orders(orders_between(250))
    deps = make_deps(sim, workflow)
    result = check_changes(deps, remaining_ms=lambda: 600_000)
    assert len(result.new_tasks) == 250 and result.stopped_at is None
    assert deps.store.check_state()[1] is None


def test_a_pending_order_seen_before_the_stop_still_holds_the_watermark_after_the_window_is_done(
        dynamodb, sim, workflow):
    orders = orders_between(150)
    pending_at = 20  # among the newest 100: read by the first run
    orders[pending_at]["status"] = "processing"
    sim.add_orders(orders)
    deps = make_deps(sim, workflow, overlap_minutes=10)
    first = check_changes(deps, remaining_ms=lambda: 0)
    assert first.pending == [orders[pending_at]["id"]] and first.stopped_at == 100
    second = check_changes(deps, remaining_ms=lambda: 0)
    assert second.stopped_at is None and len(second.new_tasks) == 50
    held = NOW - timedelta(minutes=5 + pending_at)
    assert deps.store.get_watermark() <= held  # the next window still covers the pending order

    sim.update_order(orders[pending_at]["id"], {"status": "completed"})
    done = check_changes(deps)
    assert done.new_tasks == [orders[pending_at]["id"]]
    assert len(deps.store.list_tasks()) == 150


@pytest.mark.parametrize("runs_before_crash", [1, 2])
def test_a_checkpoint_left_by_a_run_that_died_is_resumed_and_repeats_cost_nothing(
        dynamodb, sim, workflow, runs_before_crash):
    """A run that died after its batches but before its checkpoint leaves an older checkpoint
    (or none): the next run repeats those orders, finds them known and fetches nothing again."""
    orders = orders_between(300)
    sim.add_orders(orders)
    deps = make_deps(sim, workflow, overlap_minutes=24 * 60)
    for _ in range(runs_before_crash):
        check_changes(deps, remaining_ms=lambda: 0)
    saved = deps.store.check_state()[1]
    check_changes(deps, remaining_ms=lambda: 0)  # this run's checkpoint is "lost" below
    deps.store.save_checkpoint(saved)
    mark = len(sim.requests())
    rest = check_changes(deps)
    assert rest.resumed_at == saved["offset"]
    assert len(rest.already_known) == 100  # the repeated batch: known, no detail call
    assert sum(detail_requests(sim, mark).values()) == len(rest.new_tasks) == 300 - 100 * (runs_before_crash + 1)
    assert sorted(workflow.executions) == sorted(o["id"] for o in orders)
    assert set(detail_requests(sim).values()) == {1}
