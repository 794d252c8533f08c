"""Notifications remembered on their task, and one digest per check of every task waiting for a person."""
from __future__ import annotations

from datetime import datetime, timezone

from cwsync.adapters.store import Store
from cwsync.config import Settings
from cwsync.services.deps import Dependencies
from cwsync.services.task_notices import notify_task, send_digest

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


class Outbox:
    def __init__(self):
        self.sent = []

    def publish(self, subject, message, links=None):
        self.sent.append({"subject": subject, "message": message, "links": list(links or [])})
        return {"messageId": str(len(self.sent))}


def make_deps(dynamodb, outbox):
    return Dependencies(Settings.from_environment({"TABLE_NAME": "cwsync-test"}),
                        store=Store("cwsync-test", client=dynamodb), notifier=outbox, clock=lambda: NOW)


def waiting(store, task_id, number, kind="confirm"):
    store.create_task({"taskId": task_id, "orderNumber": number, "customerName": f"Customer {number}"})
    store.update_task(task_id, "waiting_approval", "Waiting for approval", approvalKind=kind,
                      approvalLink=f"https://approvals.example/approvals/{task_id}?exp=1&sig=s")


def test_a_notification_about_a_task_is_listed_on_the_task(dynamodb):
    outbox = Outbox()
    d = make_deps(dynamodb, outbox)
    d.store.create_task({"taskId": "1", "orderNumber": "SO1"})
    notify_task(d, "1", "Synced: order SO1 for Green Lane LLC", "done")
    notify_task(d, "missing", "Synced: order SO9", "a task that is gone only loses the note")
    assert [n["subject"] for n in d.store.get_task("1")["notifications"]] == ["Synced: order SO1 for Green Lane LLC"]
    assert len(outbox.sent) == 2


def test_one_digest_lists_every_waiting_task_with_its_link_and_is_not_repeated_unchanged(dynamodb):
    outbox = Outbox()
    d = make_deps(dynamodb, outbox)
    waiting(d.store, "1", "SO1", "customer")
    waiting(d.store, "2", "SO2")
    d.store.create_task({"taskId": "3", "orderNumber": "SO3"})
    listed = send_digest(d, previous=None)
    assert listed == ["1", "2"]
    [digest] = outbox.sent
    assert digest["subject"] == "2 task(s) waiting for a person"
    assert "Order SO1 for Customer SO1: Link customer to a ConnectWise company" in digest["message"]
    assert [label for label, _ in digest["links"]] == ["Order SO1", "Order SO2"]
    assert send_digest(d, previous=listed) == listed and len(outbox.sent) == 1  # nothing new: no message
    waiting(d.store, "4", "SO4")
    send_digest(d, previous=listed)
    assert len(outbox.sent) == 2 and "3 task(s)" in outbox.sent[-1]["subject"]
