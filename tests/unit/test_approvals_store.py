"""A decision is single-use at the store level (moto DynamoDB): the conditional
`pending → decided` lets only the first decision through. (Concurrent clicks are not
tested here: moto does not serialise conditional writes across threads; DynamoDB does.)"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import boto3
import pytest
from moto import mock_aws

from cwsync.adapters.store import Store, create_table


@pytest.fixture
def store(monkeypatch):
    for name, value in {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
                        "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("dynamodb")
        create_table(client, "approvals")
        yield Store("approvals", client=client)


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
