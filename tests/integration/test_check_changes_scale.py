"""Check Changes' cost grows linearly with the orders and not at all with the known ones:
DynamoDB requests counted on the client, marketplace calls from the simulator's request log
(the small-size version of `python -m benchmarks check_changes`)."""
from __future__ import annotations

import math
from collections import Counter

import pytest

from cwsync.services.check_changes import check_changes
from test_check_changes import calls, make_deps, orders_between, sim, workflow  # noqa: F401


class DynamoCalls:
    def __init__(self, client):
        self.counts: Counter = Counter()
        client.meta.events.register("before-call.dynamodb", lambda model, **_: self.counts.update([model.name]))

    def take(self) -> Counter:
        taken, self.counts = self.counts, Counter()
        return taken


@pytest.mark.parametrize("count", [60, 250])
def test_a_run_costs_one_batch_read_per_hundred_orders_and_one_write_per_new_order(dynamodb, sim, workflow, count):
    sim.add_orders(orders_between(count))
    deps = make_deps(sim, workflow, overlap_minutes=24 * 60)
    dynamo = DynamoCalls(deps.store.client)
    batches = math.ceil(count / 100)

    first = check_changes(deps)
    assert len(first.new_tasks) == count
    # one Query for watermark + checkpoint, BatchGetItem per 100, each task's one conditional
    # put (marked started), a "starts under way" item put and deleted per batch of 100, and
    # the watermark moved once
    assert dynamo.take() == Counter({"Query": 1, "BatchGetItem": batches, "PutItem": count + batches,
                                     "DeleteItem": batches, "UpdateItem": 1})
    assert calls(sim) == (math.ceil(count / 500), count)

    mark = len(sim.requests())
    second = check_changes(deps)
    assert len(second.already_known) == count
    assert dynamo.take() == Counter({"Query": 1, "BatchGetItem": batches})  # nothing known is asked again
    assert calls(sim, mark) == (math.ceil(count / 500), 0)
