"""What a person sees of the embedded runtime: task lines, approval choices, the control client."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import Request as UrlRequest, urlopen

from cwsync.vocabulary import FINAL_STATUSES, ApprovalKind, DecidedBy, OptionId, TaskStatus, TaskType

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
                TaskStatus.REJECTED: TaskStatus.REJECTED.value, TaskStatus.INVALID: "cannot be synced",
                TaskStatus.IGNORED: TaskStatus.IGNORED.value}
AUTO_APPROVE = DecidedBy.AUTO_APPROVE  # who decided, on decisions taken by --auto-approve (links remember it)


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


def recommended_choice(approval: Mapping[str, Any], *, automatic: bool = False) -> str | None:
    """The option to take: the recommended one, else (a person approving without naming one) the only eligible one.

    `automatic` (auto-approve): the recommended option only. Options are recommended only on
    exact evidence, so a guess (a similar name) is never taken without a person.
    """
    options = approval.get("options") or []
    recommended = approval.get("recommended")
    if recommended not in (None, ""):
        return str(recommended)
    flagged = [o for o in options if o.get("recommended") and o.get("eligible", True)]
    if flagged:
        return str(flagged[0]["id"])
    if automatic:
        return None
    # "Check again" is not an answer: it only asks the same question after a fix in ConnectWise; a
    # company found by search or created needs what the person types on the page.
    not_answers = (OptionId.CHECK_AGAIN, OptionId.FOUND_COMPANY, OptionId.CREATE_COMPANY)
    eligible = [o for o in options if o.get("eligible", True) and o.get("id") not in not_answers]
    if len(eligible) == 1:
        return str(eligible[0]["id"])
    return None


def now_text() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


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
