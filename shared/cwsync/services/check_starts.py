"""How Check Changes stores a new task and starts its execution with one write per task.

A new task is stored with one conditional put (created once, even by two runs at once) that
already carries `workflowStartedAt`, and its execution is started right after. The put
cannot wait for the start (the execution reads the task), so a run that dies between the
two would leave a task that looks started and is not. To close that gap each batch of new
orders first writes one "starts under way" item listing its task ids (`begin_starts`) and
deletes it once every execution of the batch was started (`end_starts`): two writes per
batch of 100 instead of a second write per task.

A "starts under way" item older than `STARTS_LEASE` belongs to a run that has ended (a
CheckChanges invocation lives at most 15 minutes and a batch takes seconds): the next run
starts each of its tasks that is still `new` (the execution is named after the task, so a
task whose execution did start is not started twice) and deletes the item. A younger item
may be a run still at work and is left alone.

A start that fails clears the task's `workflowStartedAt`, as before: the next run finds the
task `new` without it and starts it (`_already_known` in `cwsync.services.check_changes`).
"""
from __future__ import annotations

import threading
import uuid
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Mapping

from cwsync.adapters.store import format_time, parse_time
from cwsync.observability import logger
from cwsync.vocabulary import TaskStatus

STARTS_LEASE = timedelta(minutes=15)  # Lambda's longest invocation


def stale_starts(starts: Iterable[Mapping[str, Any]], now: datetime) -> list[Mapping[str, Any]]:
    """The "starts under way" items whose run has ended (older than the lease, or unreadable)."""
    stale = []
    for item in starts:
        try:
            at = parse_time(str(item.get("at")))
        except (TypeError, ValueError):
            at = None
        if at is None or now - at >= STARTS_LEASE:
            stale.append(item)
    return stale


def finish_stale_starts(store: Any, starts: Iterable[Mapping[str, Any]],
                        start: Callable[[str], bool | None]) -> list[str]:
    """Start every still-`new` task of ended runs' batches; returns the task ids whose execution
    was started now. An item is deleted only when each of its starts was answered."""
    restarted = []
    for item in starts:
        ids = [str(task_id) for task_id in item.get("taskIds") or []]
        known = store.known_tasks(ids) if ids else {}
        answered = True
        for task_id in ids:
            task = known.get(task_id)
            if task is None or task.get("status") != TaskStatus.NEW:
                continue  # never stored (pending, or the run died first) or already under way
            outcome = start(task_id)
            if outcome is None:
                answered = False  # the start failed: the item stays for the next run
            elif outcome:
                restarted.append(task_id)
        if answered:
            store.end_starts(str(item["key"]))
            logger.warning("Started the tasks of a batch whose run ended before starting them",
                           extra={"startsKey": item["key"], "restarted": len(restarted)})
    return restarted


class BatchStarts:
    """The "starts under way" item of one batch: written once, before its first new task is
    stored (not at all when the batch stores no new task), deleted when the batch is done."""

    def __init__(self, store: Any, task_ids: list[str], clock: Callable[[], datetime]):
        self.store = store
        self.task_ids = task_ids
        self.clock = clock  # the run's time now (its start time plus the time it has taken)
        self.key: str | None = None
        self.kept = False
        self.lock = threading.Lock()

    def before_store(self) -> None:
        with self.lock:
            if self.key is None:
                at = format_time(self.clock())
                key = f"{at}#{uuid.uuid4().hex[:12]}"
                self.store.begin_starts(key, self.task_ids, at)
                self.key = key

    def keep(self) -> None:
        """A start of the batch is unaccounted for: the item stays for a run after the lease."""
        self.kept = True

    def done(self) -> None:
        if self.key is not None and not self.kept:
            self.store.end_starts(self.key)
            self.key = None
