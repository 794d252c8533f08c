"""Check Changes: read new marketplace orders into sync tasks, one task per order, once.

The marketplace has no webhooks, so each run lists `/orders` created since the watermark
(the newest stored order's creation time) minus an overlap window — the first run looks
back `first_run_lookback_days` — and de-duplicates by order id:

- ids already in the table (one BatchGetItem per 100 orders) cost no detail call;
- every other order costs one `GET /orders/{id}`, is classified, and is stored with a
  conditional put keyed by the order id, so racing runs create it once; that one write
  also marks the task started (`cwsync.services.check_starts` covers a run that dies
  between the put and the start with one item per batch);
- `pending` orders (not completed yet) are not stored: they are read again next run, and
  the watermark never moves past the oldest of them;
- a malformed order is stored as an `invalid` task with the reason; `ignored` orders are
  stored as `ignored` so they are not fetched again; one bad order never fails the run;
- each new task gets one SyncTask execution (named by the task id). A task stored by a
  run that died before starting its execution, or whose start failed, is started by a
  later run.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Iterator, Mapping, Protocol

from cwsync.adapters import mp_orders
from cwsync.adapters.store import format_time, parse_time
from cwsync.domain.classify import IGNORED, INVALID, PENDING, TASK, Classification, classify_order, classify_status
from cwsync.domain.models import OrderSummary
from cwsync.errors import ExternalApiError, InvalidRecord, TransientError
from cwsync.observability import logger
from cwsync.services.check_budget import DEFAULT_RESERVE_SECONDS, TimeBudget, WindowProgress
from cwsync.services.check_result import CheckResult
from cwsync.services.check_starts import BatchStarts, finish_stale_starts, stale_starts
from cwsync.services.task_items import _is_item_problem, _preview, _task_item
from cwsync.vocabulary import TaskStatus

PAGE_SIZE = 500  # the marketplace's largest page
BATCH_SIZE = 100  # BatchGetItem's limit
DEFAULT_LOOKBACK_DAYS = 30
DEFAULT_OVERLAP_MINUTES = 30
DEFAULT_CONCURRENCY = 8  # new orders handled at once (detail call + put + start are I/O waits)
_AUTH_STATUSES = (401, 403)  # the whole run is misconfigured, not this one order


# --- what check_changes needs (cwsync.services.deps.Dependencies provides it) ---------------

class _Store(Protocol):
    def check_items(self) -> tuple[str | None, dict | None, list[dict]]: ...
    def begin_starts(self, key: str, task_ids: list[str], at: str) -> None: ...
    def end_starts(self, key: str) -> None: ...
    def save_checkpoint(self, checkpoint: Mapping[str, Any]) -> None: ...
    def clear_checkpoint(self, window_to: str) -> bool: ...
    def get_watermark(self) -> datetime | None: ...
    def advance_watermark(self, ts: datetime) -> bool: ...
    def known_tasks(self, task_ids: Iterable[str]) -> dict[str, dict]: ...
    def create_task(self, task: Mapping[str, Any]) -> bool: ...
    def set_task_attributes(self, task_id: str, **attrs: Any) -> None: ...


class _Marketplace(Protocol):
    def orders(self, created_from: datetime | None = None, created_to: datetime | None = None,
               status: str | None = None, page_size: int = PAGE_SIZE, offset: int = 0) -> Iterator[dict]: ...
    def order(self, order_id: str) -> dict: ...


class _Workflow(Protocol):
    def start(self, task_id: str) -> bool: ...


class CheckDeps(Protocol):
    store: _Store
    marketplace: _Marketplace
    workflow: _Workflow
    settings: Any  # first_run_lookback_days, overlap_minutes, check_concurrency, check_time_reserve_seconds


# --- the use case -----------------------------------------------------------------------------

def check_changes(deps: CheckDeps, now: datetime | None = None, *, concurrency: int | None = None,
                  remaining_ms: Callable[[], int] | None = None) -> CheckResult:
    """One Check Changes run; safe to run twice at once, to re-run after a crash, and to stop early.

    New orders of a batch are handled by up to `concurrency` threads (settings
    `check_concurrency`, default 8): each waits on one detail call, one DynamoDB write and
    the execution's start.
    `remaining_ms` is the invocation's clock: near the end of its time the run stops between
    batches and the next run goes on where it stopped (`cwsync.services.check_budget`).
    """
    if now is None:
        clock = getattr(deps, "now", None)
        now = clock() if callable(clock) else datetime.now(timezone.utc)
    now = now.astimezone(timezone.utc)
    settings = deps.settings
    budget = TimeBudget(remaining_ms, _setting(settings, "check_time_reserve_seconds", DEFAULT_RESERVE_SECONDS))

    stored_watermark, checkpoint, starts = deps.store.check_items()
    watermark = parse_time(stored_watermark) if stored_watermark else None
    progress = WindowProgress.from_item(checkpoint)
    if progress is None:
        lookback = timedelta(days=_setting(settings, "first_run_lookback_days", DEFAULT_LOOKBACK_DAYS))
        overlap = timedelta(minutes=_setting(settings, "overlap_minutes", DEFAULT_OVERLAP_MINUTES))
        window_from = now - lookback if watermark is None else min(watermark - overlap, now)
        progress = WindowProgress(window_from, now)
    result = CheckResult(window_from=progress.window_from, window_to=progress.window_to,
                         watermark_before=watermark, resumed_at=progress.offset if checkpoint else None)
    workers = max(1, concurrency or _setting(settings, "check_concurrency", DEFAULT_CONCURRENCY))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="check-changes") as pool:
        run = _Run(deps, result, pool if workers > 1 else None, now=now)
        run.finish_stale(starts)
        taken, finished = _read_window(deps, run, result, progress, budget)

    if not finished:  # the older part of the window is still to be read: the watermark stays
        result.stopped_at = taken
        deps.store.save_checkpoint(progress.merged(run.stored_times, run.held_times, run.held_without_time,
                                                   taken).to_item(now))
        result.watermark_after = watermark
    else:
        target = progress.watermark_target(run.stored_times, run.held_times, run.held_without_time)
        if target is None or (watermark is not None and target <= watermark):
            result.watermark_after = watermark
        elif deps.store.advance_watermark(target):
            result.watermark_after = target
        else:  # a concurrent run moved it further
            result.watermark_after = deps.store.get_watermark()
        if checkpoint:
            deps.store.clear_checkpoint(format_time(progress.window_to))
    logger.info(result.summary(), extra={"counts": result.counts()})
    return result


def _read_window(deps: CheckDeps, run: "_Run", result: CheckResult, progress: WindowProgress,
                 budget: TimeBudget) -> tuple[int, bool]:
    """List the window page by page from the progress' offset; hand each 100 distinct orders to
    the run. Returns (list entries taken, whether the window was read to its end)."""
    from cwsync.domain.plausibility import DuplicateOrders

    seen: set[str] = set()
    duplicates = DuplicateOrders()
    batch: list[OrderSummary] = []
    taken, batches = progress.offset, 0
    # created_to pins the window, so orders arriving meanwhile do not shift the offset pages.
    extra = {"offset": progress.offset} if progress.offset else {}
    listing = iter(deps.marketplace.orders(created_from=progress.window_from, created_to=progress.window_to,
                                           page_size=PAGE_SIZE, **extra))
    while True:
        if not batch and batches and budget.nearly_spent():
            result.listed = len(seen)
            return taken, False
        entry = next(listing, _END)
        if entry is _END:
            break
        taken += 1
        try:
            summary = mp_orders.order_summary(entry)
        except InvalidRecord as error:  # no id: it cannot be an order's task; the run says which and why
            result.unreadable += 1
            result.unreadable_reasons.append(str(error))
            logger.warning("Skipped a listed order without an id", extra={"entry": _preview(entry),
                                                                          "reason": str(error)})
            continue
        for flagged, reason in duplicates.add(summary).items():
            run.flag_duplicate(flagged, reason)
        if summary.id in seen:  # newest-first offset paging can repeat an order across pages
            continue
        seen.add(summary.id)
        batch.append(summary)
        if len(batch) >= BATCH_SIZE:
            run.process(batch)
            batch, batches = [], batches + 1
    if batch:
        run.process(batch)
    result.listed = len(seen)
    return taken, True


_END = object()


class _Run:
    """The state of one run: which orders were stored and which hold the watermark back."""

    def __init__(self, deps: CheckDeps, result: CheckResult, pool: ThreadPoolExecutor | None = None, *,
                 now: datetime | None = None):
        self.deps = deps
        self.result = result
        self.pool = pool
        self.now = now or datetime.now(timezone.utc)
        self._began = time.monotonic()
        self.batch_starts: BatchStarts | None = None
        self.lock = threading.Lock()  # guards counters; list.append is atomic in CPython
        self.stored_times: list[datetime] = []  # creation times of orders now in the table
        self.held_times: list[datetime] = []  # pending or deferred orders: read again next run
        self.held_without_time = False
        self.duplicates: dict[str, str] = {}  # order id → why it is not synced automatically
        self.processed: set[str] = set()

    def flag_duplicate(self, order_id: str, reason: str) -> None:
        """An order sharing its id or number with another: stored invalid, never merged silently."""
        if order_id in self.duplicates:
            return
        self.duplicates[order_id] = reason
        logger.warning("Flagged a duplicate marketplace order", extra={"orderId": order_id, "reason": reason})
        if order_id in self.processed:  # its task was stored earlier in this run: mark it
            task = self.deps.store.get_task(order_id) or {}
            if task.get("status") in (TaskStatus.NEW, TaskStatus.INVALID, TaskStatus.IGNORED):
                self.deps.store.set_task_attributes(order_id, duplicateWarning=reason)

    def clock(self) -> datetime:
        """The run's time now: its start time (given or real) plus the time it has taken."""
        return self.now + timedelta(seconds=time.monotonic() - self._began)

    def finish_stale(self, starts: list[dict]) -> None:
        """Start the tasks of batches whose run ended between storing and starting them."""
        stale = stale_starts(starts, self.now)
        if stale:
            self.result.restarted.extend(finish_stale_starts(self.deps.store, stale, self._start_stale))

    def _start_stale(self, task_id: str) -> bool | None:
        try:
            return self.deps.workflow.start(task_id) is not False
        except Exception as error:  # noqa: BLE001 - one task's start must not fail the run
            logger.exception("Could not start the SyncTask execution; the next run tries again",
                             extra={"taskId": task_id, "error": str(error)})
            self.result.not_started.append(task_id)
            return None

    def process(self, batch: list[OrderSummary]) -> None:
        self.processed.update(summary.id for summary in batch)
        known = self.deps.store.known_tasks(summary.id for summary in batch)
        new = []
        for summary in batch:
            task = known.get(summary.id)
            if task is not None:
                self._already_known(summary.id, task, summary.created_at)
            else:
                new.append(summary)
        if not new:
            return
        self.batch_starts = BatchStarts(self.deps.store, [summary.id for summary in new], self.clock)
        if self.pool is None:
            for summary in new:
                self._new_order(summary)
        else:
            futures = [self.pool.submit(self._new_order, summary) for summary in new]
            for future in futures:
                future.result()  # re-raises what must stop the run (an auth failure, the table gone)
        # Reached only when every start of the batch was answered; otherwise the item stays.
        self.batch_starts.done()

    def _already_known(self, order_id: str, task: Mapping, created: datetime | None) -> None:
        self.result.already_known.append(order_id)
        self._stored(created)
        if task.get("status") == TaskStatus.NEW and not task.get("workflowStartedAt"):
            # Stored by a run that stopped before starting its execution (or whose start failed).
            if self._start(order_id, mark=True):
                self.result.restarted.append(order_id)

    def _new_order(self, summary: OrderSummary) -> None:
        order_id, created = summary.id, summary.created_at
        if order_id in self.duplicates:
            flagged = Classification(INVALID, None, f"Order {summary.label}: {self.duplicates[order_id]}")
            return self._store(summary, flagged, detail=None)
        if summary.problem:  # a field of its list entry cannot be read: this order is not synced
            return self._store(summary, Classification(INVALID, None, summary.problem), detail=None)
        # The list already says whether an order is unfinished or never completed: no detail needed.
        early = classify_status(summary.label, summary.status, summary.status_code)
        if early is not None and early.outcome == PENDING:
            return self._hold(order_id, created, self.result.pending)
        if early is not None and early.outcome == IGNORED:
            return self._store(summary, early, detail=None)
        try:
            with self.lock:
                self.result.details_fetched += 1
            detail = self.deps.marketplace.order(order_id)
        except TransientError as error:
            logger.warning("Order detail not readable now; trying again next run",
                           extra={"orderId": order_id, "error": str(error)})
            return self._hold(order_id, created, self.result.deferred)
        except ExternalApiError as error:
            if error.status in _AUTH_STATUSES:
                raise
            classification = Classification(
                INVALID, None, f"Order {summary.label}: the marketplace refused its detail: {error}")
            return self._store(summary, classification, detail=None)
        classification = _classify(detail, self.deps.settings)
        if classification.outcome == PENDING:
            return self._hold(order_id, created, self.result.pending)
        self._store(summary, classification, detail=detail)

    def _hold(self, order_id: str, created: datetime | None, into: list[str]) -> None:
        into.append(order_id)
        if created is None:
            self.held_without_time = True
        else:
            self.held_times.append(created)

    def _store(self, summary: OrderSummary, classification: Classification, *, detail: Mapping | None) -> None:
        order_id, created = summary.id, summary.created_at
        status = {TASK: TaskStatus.NEW, INVALID: TaskStatus.INVALID, IGNORED: TaskStatus.IGNORED}[classification.outcome]
        task = _task_item(summary, detail, classification, status)
        if status == TaskStatus.NEW:  # marked started by the same write; the batch item covers the gap
            task["workflowStartedAt"] = format_time(datetime.now(timezone.utc))
            self.batch_starts.before_store()
        if not self._create(task):
            self.result.already_known.append(order_id)  # a concurrent run stored it first
            self._stored(created)
            return
        self._stored(created)
        if status == TaskStatus.NEW:
            self.result.new_tasks.append(order_id)
            self._start(order_id)
        elif status == TaskStatus.INVALID:
            logger.warning("Stored an invalid order", extra={"orderId": order_id, "reason": classification.reason})
            self.result.invalid.append(order_id)
        else:
            self.result.ignored.append(order_id)

    def _create(self, task: dict) -> bool:
        try:
            return self.deps.store.create_task(task)
        except Exception as error:  # noqa: BLE001 - the order detail itself may be unstorable
            if "order" not in task or not _is_item_problem(error):
                raise
            logger.warning("Order detail could not be stored; keeping the task without it",
                           extra={"orderId": task["taskId"], "error": str(error)})
            slim = {k: v for k, v in task.items() if k != "order"}
            slim["orderOmitted"] = True
            return self.deps.store.create_task(slim)

    def _start(self, task_id: str, *, mark: bool = False) -> bool:
        """Start the task's execution (and, with `mark`, record that it was started: a task
        stored by this run carries the mark already); a failure waits for the next run."""
        try:
            self.deps.workflow.start(task_id)  # False = it exists already, which is as good
            if mark:
                self.deps.store.set_task_attributes(task_id, workflowStartedAt=format_time(datetime.now(timezone.utc)))
            return True
        except Exception as error:  # noqa: BLE001 - one task's start must not fail the run
            logger.exception("Could not start the SyncTask execution; the next run tries again",
                             extra={"taskId": task_id, "error": str(error)})
            self.result.not_started.append(task_id)
            if not mark:
                self._unmark(task_id)
            return False

    def _unmark(self, task_id: str) -> None:
        """A task stored as started whose start failed: `new` without the mark, started next run."""
        try:
            self.deps.store.set_task_attributes(task_id, workflowStartedAt=None)
        except Exception as error:  # noqa: BLE001 - the batch's item then stays for a later run
            logger.exception("Could not record that the execution did not start; a later run starts it",
                             extra={"taskId": task_id, "error": str(error)})
            self.batch_starts.keep()

    def _stored(self, created: datetime | None) -> None:
        if created is not None:
            self.stored_times.append(created)


# --- helpers -----------------------------------------------------------------------------------

def _setting(settings: Any, name: str, default: int) -> int:
    value = getattr(settings, name, None)
    return default if value is None else int(value)


def _classify(detail: Any, settings: Any = None) -> Classification:
    from cwsync.config import DEFAULT_PRICE_FIELD, plausibility_limits

    try:
        return classify_order(mp_orders.read_order(detail), limits=plausibility_limits(settings),
                              price_field=getattr(settings, "price_field", None) or DEFAULT_PRICE_FIELD)
    except Exception as error:  # noqa: BLE001 - a classifier bug on one odd order must not stop the run
        logger.exception("Classifying an order failed")
        return Classification(INVALID, None, "The order could not be read as a marketplace order; "
                                             "handle it by hand in ConnectWise")
