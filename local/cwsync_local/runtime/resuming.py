"""Resuming after a restart: every task in flight gets a live execution again."""
from __future__ import annotations

import threading
import time

from cwsync.vocabulary import FINAL_STATUSES, ApprovalStatus, TaskStatus

IN_FLIGHT_STATUSES = (TaskStatus.NEW, TaskStatus.IN_PROGRESS, TaskStatus.WAITING_APPROVAL)
REBIND_WAIT_SECONDS = 120  # after a restart, how long approval requests may wait for the re-binding


class Resuming:
    """Mixed into EmbeddedRuntime: needs `store`, `client()`, `executions()`, `state_machine_arn`,
    `_stopping` and `_rebound` (an Event, set while no re-binding is under way)."""

    def resume(self) -> list[str]:
        """Give every task still in flight a live execution again; returns the executions' names.

        Executions live in memory only, so after a restart (a clean stop or a kill) the tasks
        that were new, syncing or waiting for a person have none. Each gets a new attempt
        (`cwsync.services.operator.resume`, named as "Sync again" names attempts): steps already done
        are found done, a plan being written is finished, and an open approval is re-bound
        to the new execution, so the link already sent keeps working.
        """
        from cwsync.adapters.stepfunctions import SyncTaskWorkflow
        from cwsync.services.operator import resume

        workflow = SyncTaskWorkflow(self.state_machine_arn, client=self.client("stepfunctions"))
        live = {execution["name"] for execution in self.executions("RUNNING")}
        names, waiting = [], {}
        for task in self.store.list_tasks():
            if task.get("status") in IN_FLIGHT_STATUSES and task.get("executionName") not in live:
                if task.get("status") == TaskStatus.WAITING_APPROVAL and task.get("approvalId"):
                    approval = self.store.get_approval(str(task["approvalId"])) or {}
                    waiting[str(task["taskId"])] = (str(task["approvalId"]), approval.get("token"))
                names.append(resume(self.store, workflow, str(task["taskId"])))
        if not waiting:
            self._rebound.set()
        else:
            # A click on an old link must reach the new execution, not the old token: approval
            # requests wait (at most REBIND_WAIT_SECONDS) until the open approvals are re-bound.
            threading.Thread(target=self._await_rebinding, args=(waiting,), name="cwsync-rebind",
                             daemon=True).start()
        return names

    def _await_rebinding(self, waiting: dict[str, tuple[str, str | None]]) -> None:
        """Hold approval requests until each open approval of `waiting` (task id → approval id and
        the task token it had before the restart) points at a new token or stopped being open."""
        deadline = time.monotonic() + REBIND_WAIT_SECONDS
        try:
            while waiting and time.monotonic() < deadline and not self._stopping.is_set():
                for task_id, (approval_id, old_token) in list(waiting.items()):
                    task = self.store.get_task(task_id) or {}
                    approval = self.store.get_approval(approval_id) or {}
                    if (approval.get("token") != old_token or approval.get("status") != ApprovalStatus.PENDING
                            or task.get("status") in FINAL_STATUSES or str(task.get("approvalId")) != approval_id):
                        waiting.pop(task_id)
                if waiting:
                    self._stopping.wait(0.2)
        finally:
            self._rebound.set()

    def resume_task(self, task_id: str) -> str:
        """Start a new attempt of one task in flight, keeping what it has (see `resume`)."""
        from cwsync.adapters.stepfunctions import SyncTaskWorkflow
        from cwsync.services.operator import resume

        workflow = SyncTaskWorkflow(self.state_machine_arn, client=self.client("stepfunctions"))
        return resume(self.store, workflow, str(task_id))

