"""After a restart, approval requests wait until each open approval points at its new task
token — and no longer: a re-binding in the very second the restart began still counts."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

from fakes.store import FakeStore

from cwsync.vocabulary import TaskStatus
from cwsync_local.runtime.resuming import Resuming

RESTART = datetime(2026, 12, 1, 11, 24, 40, 500000, tzinfo=timezone.utc)


class CountingStore(FakeStore):
    """Counts how often the open approval was read, so a test can wait for polls, not time."""

    def __init__(self, clock):
        super().__init__(clock)
        self.reads = 0
        self.read_twice = threading.Event()

    def get_approval(self, approval_id):
        self.reads += 1
        if self.reads >= 3:
            self.read_twice.set()
        return super().get_approval(approval_id)


class Runtime(Resuming):
    def __init__(self, store):
        self.store = store
        self._stopping = threading.Event()
        self._rebound = threading.Event()


def waiting_task(store: FakeStore) -> None:
    store.create_task({"taskId": "5000112", "status": TaskStatus.WAITING_APPROVAL, "approvalId": "a1"})
    store.put_approval({"approvalId": "a1", "taskId": "5000112", "token": "token-before-restart",
                        "expiresAt": RESTART + timedelta(days=1)})


def test_approval_requests_are_released_once_the_open_approval_points_at_the_new_token():
    store = CountingStore(clock=lambda: RESTART)  # re-bound within the second the restart began
    waiting_task(store)
    runtime = Runtime(store)
    waiter = threading.Thread(target=runtime._await_rebinding,
                              args=({"5000112": ("a1", "token-before-restart")},), daemon=True)
    waiter.start()
    assert store.read_twice.wait(timeout=120), "the re-binding was never looked at"
    assert not runtime._rebound.is_set(), "requests were let through before the approval was re-bound"

    assert store.rebind_approval("a1", "token-of-the-new-execution")

    assert runtime._rebound.wait(timeout=120), "requests stayed held after the approval was re-bound"
    waiter.join(timeout=120)


def test_approval_requests_are_released_when_the_open_approval_was_decided_meanwhile():
    store = CountingStore(clock=lambda: RESTART)
    waiting_task(store)
    runtime = Runtime(store)
    store.decide_approval("a1", {"decision": "reject", "reason": "wrong customer"}, now=RESTART)

    runtime._await_rebinding({"5000112": ("a1", "token-before-restart")})

    assert runtime._rebound.is_set()
