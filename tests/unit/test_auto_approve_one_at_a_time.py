"""Auto-approve answers one approval at a time, so `--once` never settles around a decision in flight."""
from __future__ import annotations

import threading

from cwsync.vocabulary import ApprovalStatus
from cwsync_local.runtime.approving import Approving


class SlowApprover(Approving):
    """The auto-approver over one pending approval whose decision takes until `release` is set."""

    def __init__(self):
        self._auto_decided = set()
        self._auto_rounds = {}
        self._auto_lock = threading.Lock()
        self.sending = threading.Event()
        self.release = threading.Event()
        self.decided = False

    def approvals(self, status=ApprovalStatus.PENDING, task_id=None):
        if self.decided:
            return []
        return [{"approvalId": "a1", "taskId": "t1", "kind": "agreement", "subject": "s",
                 "options": [{"id": "401", "recommended": True}], "recommended": "401"}]

    def approve(self, approval_id, choice=None, changes=None, decided_by=None, *, link=None):
        self.sending.set()
        assert self.release.wait(60)
        self.decided = True
        return 200, "{}"

    def reject(self, approval_id, reason="Rejected"):
        return self.approve(approval_id)

    def _say(self, text):
        pass


def test_a_second_auto_approver_waits_for_the_decision_the_first_is_still_sending():
    runtime = SlowApprover()
    first = threading.Thread(target=runtime.approve_pending)
    first.start()
    assert runtime.sending.wait(60)
    answers = []
    second = threading.Thread(target=lambda: answers.append(runtime.approve_pending()))
    second.start()
    try:
        second.join(0.2)
        # Before the fix the second caller returned at once: "nothing to answer", while the first
        # decision was still on its way and the approval still read as pending.
        assert answers == []
    finally:
        runtime.release.set()
        first.join(60)
        second.join(60)
    assert answers == [0] and runtime.decided
