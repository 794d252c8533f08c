"""Deciding approvals on one machine as the approver's browser would: over the local approvals
API with the signed link, and `--auto-approve` (recommended options only)."""
from __future__ import annotations

import json
from typing import Any, Mapping
from urllib.error import HTTPError
from urllib.request import Request as UrlRequest, urlopen

from cwsync.vocabulary import ApprovalStatus, DecidedBy, Decision, OptionId

AUTO_APPROVE_ROUNDS = 2  # auto-answers per (task, kind, subject) before a question is left to a person
AUTO_APPROVE = DecidedBy.AUTO_APPROVE  # who decided, on decisions taken by --auto-approve (links remember it)


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
    # "Check again" is not an answer: it only asks the same question after a fix in ConnectWise.
    eligible = [o for o in options if o.get("eligible", True) and o.get("id") != OptionId.CHECK_AGAIN]
    if len(eligible) == 1:
        return str(eligible[0]["id"])
    return None


class LocalApprover:
    """Mixed into `EmbeddedRuntime` (which provides `store`, `locked()`, `url`, `_signing_key`, `_say`)."""

    def approvals(self, status: str | None = ApprovalStatus.PENDING, task_id: str | None = None) -> list[dict]:
        """Approval items (newest first), optionally of one status and task."""
        with self.locked():
            return self.store.list_approvals(status=status, task_id=task_id)

    def approval_link(self, approval_id: str) -> str:
        """The signed link the notification carries (`GET` shows the page, `POST` decides)."""
        from cwsync import approvals

        with self.locked():
            approval = self.store.get_approval(approval_id)
        if approval is None:
            raise KeyError(f"no approval {approval_id}")
        return approvals.approval_url(self.url, approval_id, approvals.expires_epoch(approval), self._signing_key)

    def decide(self, approval_id: str, body: Mapping[str, Any], *, link: str | None = None) -> tuple[int, str]:
        """POST a decision to the local approvals API (as the approver's browser would); (status, body)."""
        url = link or self.approval_link(approval_id)
        request = UrlRequest(url, data=json.dumps(body).encode("utf-8"), method="POST",
                             headers={"Content-Type": "application/json", "Accept": "application/json"})
        try:
            with urlopen(request, timeout=30) as response:
                return response.status, response.read().decode("utf-8")
        except HTTPError as error:
            return error.code, error.read().decode("utf-8")

    def approve(self, approval_id: str, choice: str | None = None, changes: Mapping | None = None,
                decided_by: str | None = None) -> tuple[int, str]:
        """Approve with `choice` (default: the recommended option)."""
        if choice is None:
            with self.locked():
                approval = self.store.get_approval(approval_id) or {}
            choice = recommended_choice(approval)
        body: dict[str, Any] = {"decision": Decision.APPROVE}
        if choice is not None:
            body["choice"] = choice
        if changes:
            body["changes"] = dict(changes)
        if decided_by:
            body["decidedBy"] = decided_by
        return self.decide(approval_id, body)

    def reject(self, approval_id: str, reason: str = "Rejected") -> tuple[int, str]:
        return self.decide(approval_id, {"decision": Decision.REJECT, "reason": reason})

    def approve_pending(self) -> int:
        """Auto-approve: each pending approval gets its recommended option, else it is rejected."""
        count = 0
        for approval in self.approvals(ApprovalStatus.PENDING):
            if approval["approvalId"] in self._auto_decided:
                continue  # answered once already (a refused answer is not retried)
            asked = (str(approval.get("taskId")), str(approval.get("kind")), str(approval.get("subject")))
            if self._auto_rounds.get(asked, 0) >= AUTO_APPROVE_ROUNDS:
                continue  # the same question again: the recommended answer does not help; leave it to a person
            self._auto_rounds[asked] = self._auto_rounds.get(asked, 0) + 1
            self._auto_decided.add(approval["approvalId"])
            choice = recommended_choice(approval, automatic=True)
            if choice is not None:
                status, body = self.approve(approval["approvalId"], choice, decided_by=AUTO_APPROVE)
            else:
                status, body = self.reject(approval["approvalId"], "auto-approve: no recommended option; "
                                                                   "decide it yourself with Sync again on the task's page")
            if status >= 400:
                self._say(f"(auto-approve: the approvals API answered {status} for {approval['approvalId']})")
            count += 1
        return count
