"""A decision is single-use at the store level (moto DynamoDB): the conditional
`pending → decided` lets only the first decision through. (Concurrent clicks are not
tested here: moto does not serialise conditional writes across threads; DynamoDB does.)"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from cwsync.adapters.store import Store


@pytest.fixture
def store(dynamodb):
    (table,) = dynamodb.list_tables()["TableNames"]
    return Store(table, client=dynamodb)


def pending(store, approval_id="a1", minutes=60):
    store.put_approval({"approvalId": approval_id, "token": "T", "kind": "customer", "options": [],
                        "expiresAt": datetime.now(timezone.utc) + timedelta(minutes=minutes)})


def test_the_first_decision_wins_and_a_replay_changes_nothing(store):
    pending(store)
    assert store.decide_approval("a1", {"decision": "approve", "choice": "1"}) is True
    assert store.decide_approval("a1", {"decision": "reject", "reason": "replay"}) is False
    stored = store.get_approval("a1")
    assert stored["status"] == "decided" and stored["decision"] == {"decision": "approve", "choice": "1"}


def test_an_expired_or_unknown_approval_cannot_be_decided(store):
    pending(store, "old", minutes=-1)
    assert store.decide_approval("old", {"choice": "1"}) is False
    assert store.get_approval("old")["status"] == "pending"
    assert store.decide_approval("missing", {"choice": "1"}) is False


def test_a_decision_not_taken_by_the_workflow_is_settled_once_and_only_from_decided(store):
    pending(store, "gone")
    assert store.settle_decided_approval("gone", "expired") is False  # still pending: untouched
    assert store.decide_approval("gone", {"decision": "approve", "choice": "1"}) is True
    assert store.settle_decided_approval("gone", "expired") is True
    assert store.get_approval("gone")["status"] == "expired"
    assert store.decide_approval("gone", {"choice": "1"}) is False

    pending(store, "retry")
    store.decide_approval("retry", {"decision": "approve", "choice": "1"})
    assert store.settle_decided_approval("retry", "pending") is True
    reopened = store.get_approval("retry")
    assert reopened["status"] == "pending" and "decision" not in reopened and "decidedAt" not in reopened
    assert store.decide_approval("retry", {"decision": "approve", "choice": "2"}) is True
    with pytest.raises(ValueError):
        store.settle_decided_approval("retry", "decided")
