"""Watching the embedded runtime: when are the tasks settled, and what does the console print."""
from __future__ import annotations

import time

from cwsync.vocabulary import FINAL_STATUSES, SETTLED_STATUSES, ApprovalStatus, TaskStatus

from .console import describe, task_summary

__all__ = ["FINAL_STATUSES", "SETTLED_STATUSES", "NotSettled", "Watching"]
PROGRESS_SECONDS = 1.0  # how often the console looks for changed tasks
# Statuses a task only passes through: while any task has one, nothing is settled.
MOVING_STATUSES = tuple(status for status in TaskStatus if status not in SETTLED_STATUSES)


class NotSettled(TimeoutError):
    """`wait_until_settled` ran out of time; `.open` lists the tasks still moving."""

    def __init__(self, timeout: float, open_tasks: list[dict]):
        self.open = open_tasks
        names = ", ".join(f"{t.get('order') or t.get('id')} ({t.get('status')})" for t in open_tasks[:10])
        more = f" and {len(open_tasks) - 10} more" if len(open_tasks) > 10 else ""
        super().__init__(f"{len(open_tasks)} task(s) still open after {timeout:g} s: {names}{more}")


class Watching:
    """Mixed into EmbeddedRuntime: needs `tasks()`, `approvals()`, `executions()`, `locked()`,
    `approval_link()`, `approve_pending()`, `auto_approve`, `_stopping`, `_seen`, `_say`."""

    def open_tasks(self) -> list[dict]:
        """Summaries of the tasks still moving: not finished, and not (only) waiting for a person."""
        from cwsync.adapters.stepfunctions import execution_name

        with self.locked():
            tasks = self.tasks()
            asked = {str(approval.get("taskId")) for approval in self.approvals(ApprovalStatus.PENDING)}
            running = {execution["name"] for execution in self.executions("RUNNING")}
        open_ones = []
        for task in tasks:
            status = task.get("status")
            name = task.get("executionName") or execution_name(task["taskId"])
            if status not in SETTLED_STATUSES:
                open_ones.append(task)
            elif status == TaskStatus.WAITING_APPROVAL and str(task["taskId"]) not in asked:
                open_ones.append(task)  # just decided, not resumed yet: nobody is asked any more
            elif status != TaskStatus.WAITING_APPROVAL and name in running:
                open_ones.append(task)  # its execution is still finishing
        return [task_summary(task) for task in open_ones]

    def settled(self) -> bool:
        """Every task synced, finished otherwise, or waiting for a person; nothing else running.

        While tasks move, one task in a moving status answers it (a query of one item per
        status); only then are all tasks, approvals and executions read together."""
        store = self.store
        if any(store.list_tasks(status, limit=1) for status in MOVING_STATUSES):
            return False
        return not self.open_tasks()

    def wait_until_settled(self, timeout: float = 60, poll: float = 0.5) -> list[dict]:
        """Wait until `settled()` (auto-approving on the way if enabled); NotSettled (a TimeoutError)
        naming the open tasks when not in time."""
        deadline = time.monotonic() + timeout
        while True:
            answered = self.auto_approve and self.approve_pending()
            if not answered and self.settled() and not (self.auto_approve and self.approve_pending()):
                return self.tasks()
            if time.monotonic() >= deadline:
                raise NotSettled(timeout, self.open_tasks())
            time.sleep(poll)

    def _watch(self) -> None:
        from . import moto_gate

        seen_writes = -1
        while not self._stopping.wait(PROGRESS_SECONDS):
            writes = moto_gate.write_count()
            if writes == seen_writes:
                continue  # no DynamoDB write since the last look: no task or approval changed
            seen_writes = writes
            try:
                if self.auto_approve:
                    self.approve_pending()
                self.report_progress()
            except Exception as error:  # noqa: BLE001 - the console must not stop the runtime
                if not self._stopping.is_set():
                    self._say(f"(progress display: {error})")

    def report_progress(self) -> None:
        """Print a line for each task whose status changed since the last call."""
        with self.locked():
            tasks = self.tasks()
            pending: dict[str, dict] = {}
            if any(task.get("status") == TaskStatus.WAITING_APPROVAL for task in tasks):
                for approval in reversed(self.approvals(ApprovalStatus.PENDING)):  # newest last: it wins
                    pending[str(approval.get("taskId"))] = approval
        for task in tasks:
            summary = task_summary(task)
            link = kind = None
            approval = pending.get(summary["id"]) if summary["status"] == TaskStatus.WAITING_APPROVAL else None
            if approval:
                kind = approval.get("kind")
                link = self.approval_link(approval["approvalId"])
            state = (summary["status"], link)
            if self._seen.get(summary["id"]) != state:
                self._seen[summary["id"]] = state
                self._say(describe(summary, link=link, kind=kind))
