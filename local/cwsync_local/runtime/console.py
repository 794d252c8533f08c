"""What `cwsync run` prints and how another terminal talks to it: task lines in a billing
person's words, and the control API client (`cwsync check` / `cwsync tasks`)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import Request as UrlRequest, urlopen

from cwsync.vocabulary import FINAL_STATUSES, ApprovalKind, ApprovalStatus, TaskStatus, TaskType

TASK_TYPE_WORDS = {TaskType.SALES: "new subscription", TaskType.CHANGE: "upgrade/downgrade",
                   TaskType.BILLING: "usage billing", TaskType.CANCELLATION: TaskType.CANCELLATION.value,
                   TaskType.RENEWAL: TaskType.RENEWAL.value}
APPROVAL_WORDS = {ApprovalKind.CUSTOMER: "choose the ConnectWise company",
                  ApprovalKind.PRODUCT: "choose the ConnectWise product",
                  ApprovalKind.AGREEMENT: "choose the agreement", ApprovalKind.CONFIRM: "confirm the changes",
                  "confirmation": "confirm the changes"}
STATUS_WORDS = {TaskStatus.NEW: "found", TaskStatus.IN_PROGRESS: "syncing", TaskStatus.SYNCED: "synced to ConnectWise",
                TaskStatus.NOTHING_TO_CHANGE: "nothing to change (ConnectWise already matches)",
                TaskStatus.FAILED: TaskStatus.FAILED.value, TaskStatus.EXPIRED: "expired (no one decided in time)",
                TaskStatus.REJECTED: TaskStatus.REJECTED.value, TaskStatus.INVALID: "cannot be synced", TaskStatus.IGNORED: TaskStatus.IGNORED.value}


def task_summary(task: Mapping[str, Any]) -> dict:
    """`{"id", "order", "type", "customer", "status", "reason"}` (the `--json` shape)."""
    order = task.get("order") if isinstance(task.get("order"), Mapping) else {}
    nested = order.get("customer") if isinstance(order.get("customer"), Mapping) else {}
    customer = (task.get("customerName") or order.get("customerName") or nested.get("name")
                or task.get("customerId"))
    return {"id": str(task.get("taskId")), "order": task.get("orderNumber") or task.get("orderId"),
            "type": task.get("taskType"), "customer": customer, "status": task.get("status"),
            "reason": task.get("reason")}


def describe(summary: Mapping[str, Any], *, link: str | None = None, kind: str | None = None) -> str:
    """One line a billing person understands."""
    head = " ".join(str(part) for part in (summary.get("order"), summary.get("customer")) if part)
    kind_words = TASK_TYPE_WORDS.get(summary.get("type") or "", summary.get("type") or "order")
    status = summary.get("status")
    if status == TaskStatus.WAITING_APPROVAL:
        what = f"waiting for you to {APPROVAL_WORDS.get(kind or '', 'decide')}"
        text = f"{what}: open {link}" if link else what
    else:
        text = STATUS_WORDS.get(status, status or "")
        if summary.get("reason") and status in FINAL_STATUSES - {TaskStatus.SYNCED}:
            text = f"{text}: {summary['reason']}"
    return f"{head} — {kind_words}: {text}"



def control_request(data_dir: str | Path, path: str, *, method: str = "GET", query: Mapping | None = None,
                    timeout: float = 120) -> dict | None:
    """Call a running `cwsync run`'s control API; None when none is running for this data folder."""
    file = Path(data_dir) / "runtime.json"
    if not file.exists():
        return None
    info = json.loads(file.read_text(encoding="utf-8"))
    url = f"{info['url']}/_local/{path}" + (f"?{urlencode(query)}" if query else "")
    request = UrlRequest(url, method=method, data=b"" if method == "POST" else None,
                         headers={"Authorization": f"Bearer {info['token']}"})
    try:
        with urlopen(request, timeout=timeout) as response:
            return json.loads(response.read().decode("utf-8"))
    except HTTPError as error:
        raise RuntimeError(f"the running cwsync answered {error.code}: {error.read().decode('utf-8', 'replace')}") from None
    except OSError:
        return None  # a stale runtime.json: the process is gone


class Console:
    """The runtime's progress lines (mixed into `EmbeddedRuntime`)."""

    def _say(self, line: str) -> None:
        if self.echo:
            self.echo(line)

    def _announce_message(self, entry: dict) -> None:
        if self.echo:
            subject = entry.get("subject") or "(no subject)"
            self.echo(f"  notification: {subject}")

    def _watch(self) -> None:
        while not self._stopping.wait(0.5):
            try:
                if self.auto_approve:
                    self.approve_pending()
                self.report_progress()
            except Exception as error:  # noqa: BLE001 - the console must not stop the runtime
                if not self._stopping.is_set():
                    self._say(f"(progress display: {error})")

    def report_progress(self) -> None:
        """Print a line for each task whose status changed since the last call."""
        for task in self.tasks():
            summary = task_summary(task)
            link = kind = None
            if summary["status"] == TaskStatus.WAITING_APPROVAL:
                pending = self.approvals(ApprovalStatus.PENDING, task_id=summary["id"])
                if pending:
                    kind = pending[0].get("kind")
                    link = self.approval_link(pending[0]["approvalId"])
            state = (summary["status"], link)
            if self._seen.get(summary["id"]) != state:
                self._seen[summary["id"]] = state
                self._say(describe(summary, link=link, kind=kind))
