"""Many sync tasks through the step services at once, against the simulators (benchmarks and
their small-size tests; never deployed).

`run_tasks` plays what AWS does with the template, without Step Functions: Check Changes
stores one task per marketplace order, then `workers` threads (concurrent executions, each
with its own clients as separate Lambda containers have) take the tasks and run the steps
in the state machine's order until the task is finished or waits for a person. ConnectWise
requests go through the shared rate limit in the table when `per_minute` is given.
The caller provides moto (`mock_aws`) and the table.
"""
from __future__ import annotations

import copy
import queue
import tempfile
import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from cwsync.vocabulary import StepOutcome, TaskStatus

TEMPLATE_ORDER = "SO000102"  # Green Lane LLC, Exchange Online (Plan 1), monthly, USD, no setup fee
PLAIN_STEPS = ("load_task", "link_customer", "link_product", "select_agreement", "plan_changes")


def demo_like_seed(count: int, now: datetime | None = None) -> dict:
    """The demo seed with `count` sales orders cloned from TEMPLATE_ORDER (newest first, a minute apart)."""
    from cwsync_local.simulators.common import load_seed

    seed = load_seed()
    marketplace = seed["marketplace"]
    now = now or datetime.now(timezone.utc)
    orders, subscriptions = demo_like_orders(marketplace, count, lambda index: now - timedelta(
        minutes=5 + index % 1440, seconds=index // 1440))
    marketplace["orders"] = orders
    marketplace["subscriptions"] = [*marketplace.get("subscriptions", []), *subscriptions]
    return seed


def demo_like_orders(marketplace: dict, count: int, created_at, first: int = 0) -> tuple[list[dict], list[dict]]:
    """`count` clones of TEMPLATE_ORDER (ids from `first` on; `created_at(index)` its creation time),
    each with its own subscription, taken from the seed-format `marketplace` section."""
    template = next(order for order in marketplace["orders"] if order["orderNumber"] == TEMPLATE_ORDER)
    subscription = next((s for s in marketplace.get("subscriptions", [])
                         if str(s.get("id")) == str(template["subscriptionId"])), None)
    orders, subscriptions = [], []
    for index in range(first, first + count):
        order = copy.deepcopy(template)
        sub_id = f"SUB-B{index:05d}"
        created = created_at(index - first)
        order.update(id=str(7000000 + index), orderNumber=f"SO{7000000 + index}", subscriptionId=sub_id,
                     creationDate=created.strftime("%Y-%m-%dT%H:%M:%SZ"),
                     provisioningDate=(created + timedelta(seconds=40)).strftime("%Y-%m-%dT%H:%M:%SZ"))
        for key in ("details", "products"):
            for line in order.get(key) or []:
                if "subscriptionId" in line:
                    line["subscriptionId"] = sub_id
        orders.append(order)
        if subscription is not None:
            clone = copy.deepcopy(subscription)
            clone["id"] = sub_id
            subscriptions.append(clone)
    return orders, subscriptions


@contextmanager
def atomic_moto_dynamodb():
    """moto applies a ConditionExpression without a lock, so two threads can both pass the
    check; real DynamoDB makes each item write atomic. Serialising moto's DynamoDB actions
    restores that guarantee for concurrent callers (the code under test is unchanged)."""
    from moto.dynamodb.responses import DynamoHandler

    lock = threading.RLock()
    original = DynamoHandler.call_action

    def call_action(self):
        with lock:
            return original(self)

    DynamoHandler.call_action = call_action
    try:
        yield
    finally:
        DynamoHandler.call_action = original


class Notifications:
    def __init__(self):
        self.sent: list[dict] = []

    def publish(self, subject, message, links=None):
        self.sent.append({"subject": subject})
        return {"messageId": str(len(self.sent))}


def run_steps(deps, task_id: str) -> str:
    """LoadTask … FinishTask as the state machine runs them when no person is needed; the
    task's final status, or `waiting` when a step asks a person."""
    from cwsync.services import steps

    for name in PLAIN_STEPS:
        answer = getattr(steps, name)(deps, task_id)
        if answer.get("outcome") == StepOutcome.NEEDS_APPROVAL:
            return "waiting"
        if answer.get("outcome") == StepOutcome.ALREADY_FINISHED:
            return str(answer.get("status"))
    if answer.get("outcome") == StepOutcome.PLANNED:
        if answer.get("needsConfirmation"):
            return "waiting"
        steps.apply_changes(deps, task_id)
        outcome = TaskStatus.SYNCED
    else:
        outcome = TaskStatus.NOTHING_TO_CHANGE
    return steps.finish_task(deps, task_id, outcome)["outcome"]


@dataclass
class TasksRun:
    tasks: int
    seconds: float
    outcomes: Counter
    failures: list[str] = field(default_factory=list)  # task id: what stopped it
    cw_log: list[dict] = field(default_factory=list)
    most_refusals_in_a_row: int = 0  # of one ConnectWise request, over every worker
    waited_for_tokens: float = 0.0
    additions: list[dict] = field(default_factory=list)  # in ConnectWise afterwards

    def cw_rate_per_minute(self) -> float:
        """Accepted ConnectWise requests per minute between the first and the last."""
        times = [e["at"] for e in self.cw_log if e["status"] != 429 and "at" in e]
        if len(times) < 2:
            return 0.0
        return (len(times) - 1) / (max(times) - min(times)) * 60

    def summary(self) -> dict[str, Any]:
        statuses = Counter(e["status"] for e in self.cw_log)
        return {"tasks": self.tasks, "seconds": round(self.seconds, 1), "outcomes": dict(self.outcomes),
                "failures": self.failures[:5], "connectwise_requests": len(self.cw_log),
                "connectwise_statuses": dict(statuses), "rejected_429": statuses.get(429, 0),
                "most_refusals_in_a_row": self.most_refusals_in_a_row,
                "accepted_per_minute": round(self.cw_rate_per_minute(), 1),
                "waited_for_tokens_s": round(self.waited_for_tokens, 1)}


def run_tasks(dynamodb, table: str, seed: dict, *, workers: int = 4, per_minute: int | None = None,
              window: float = 60.0, faults: Any = None, retry: Any = None, request_log=None) -> TasksRun:
    """Check once, then run every stored task through the steps with `workers` threads."""
    from cwsync.adapters.connectwise import ConnectWiseClient
    from cwsync.adapters.marketplace import MarketplaceClient
    from cwsync.adapters.rate_limit import SharedRateLimit
    from cwsync.adapters.store import Store
    from cwsync.config import Settings
    from cwsync.services.check_changes import check_changes
    from cwsync.services.deps import Dependencies
    from cwsync_local.simulators import connectwise as cw_sim
    from cwsync_local.simulators import marketplace as mp_sim

    settings = Settings.from_environment({"TABLE_NAME": table, "APPROVAL_POLICY": "never",
                                          "CONNECTWISE_REQUESTS_PER_MINUTE": str(per_minute or 0)})
    folder = tempfile.TemporaryDirectory(prefix="cwsync-loadtest-")
    request_log = request_log or Path(folder.name) / "connectwise-requests.jsonl"
    with folder, cw_sim.start(seed, faults=faults, request_log=request_log) as connectwise, \
            mp_sim.start(seed) as market:
        def deps(workflow: Any = None) -> Dependencies:
            limiter = SharedRateLimit(dynamodb, table, per_minute, window=window) if per_minute else None
            cw = ConnectWiseClient.from_secret({"siteUrl": connectwise.url, **cw_sim.DEFAULT_CREDENTIALS},
                                               retry=retry, limiter=limiter)
            mp = MarketplaceClient.from_secret({"baseUrl": market.url, **market.credentials}, retry=retry)
            return Dependencies(settings, store=Store(table, client=dynamodb), connectwise=cw, marketplace=mp,
                                notifier=Notifications(), workflow=workflow)

        stored = check_changes(deps(SimpleNamespace(start=lambda task_id: True)))
        todo: queue.Queue[str] = queue.Queue()
        for task_id in stored.new_tasks:
            todo.put(task_id)
        outcomes: Counter = Counter()
        failures: list[str] = []
        clients: list[Any] = []
        lock = threading.Lock()

        def work() -> None:
            mine = deps()
            with lock:
                clients.append(mine)
            while True:
                try:
                    task_id = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    outcome = run_steps(mine, task_id)
                except Exception as error:  # noqa: BLE001 - counted, the run goes on
                    outcome = str(TaskStatus.FAILED)
                    with lock:
                        failures.append(f"{task_id}: {type(error).__name__}: {error}")
                with lock:
                    outcomes[outcome] += 1

        started = time.monotonic()
        threads = [threading.Thread(target=work, name=f"execution-{n}") for n in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.monotonic() - started
        log = connectwise.requests()
        with connectwise.state.lock:
            additions = [dict(a) for a in connectwise.state.data.get("additions", [])]
    http = [d.connectwise.http for d in clients]
    limits = [h.limiter for h in http if h.limiter is not None]
    return TasksRun(len(stored.new_tasks), seconds, outcomes, failures, log,
                    max([h.most_refusals_in_a_row for h in http] or [0]),
                    sum(limit.waited for limit in limits), additions)
