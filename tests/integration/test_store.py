"""The DynamoDB store on moto: conditional writes hold under races, history and GSI move together."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import boto3
import pytest
from boto3.dynamodb.conditions import Key

from cwsync.adapters.store import Store, TaskNotFound, format_time, table_definition

TABLE = "cwsync-test"
T0 = datetime(2026, 1, 15, 9, 30, tzinfo=timezone.utc)


@pytest.fixture
def store(dynamodb):
    return Store(TABLE, client=dynamodb)


def test_table_has_the_keys_gsi_and_ttl_the_template_declares(dynamodb):
    described = dynamodb.describe_table(TableName=TABLE)["Table"]
    assert described["KeySchema"] == [{"AttributeName": "PK", "KeyType": "HASH"},
                                      {"AttributeName": "SK", "KeyType": "RANGE"}]
    (gsi,) = described["GlobalSecondaryIndexes"]
    assert gsi["IndexName"] == "GSI1" and gsi["Projection"] == {"ProjectionType": "ALL"}
    assert [k["AttributeName"] for k in gsi["KeySchema"]] == ["GSI1PK", "GSI1SK"]
    assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    ttl = dynamodb.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "ttl"}
    assert table_definition(TABLE)["TableName"] == TABLE


def test_a_task_is_created_once_and_a_second_create_says_false(store):
    task = {"taskId": "ORD-1", "taskType": "sales", "total": Decimal("12.50"), "order": {"qty": 1.5}}
    assert store.create_task(task, now=T0) is True
    assert store.create_task({**task, "taskType": "change"}, now=T0) is False
    stored = store.get_task("ORD-1")
    assert stored["taskType"] == "sales" and stored["status"] == "new"
    assert stored["total"] == Decimal("12.50") and stored["order"] == {"qty": Decimal("1.5")}
    assert stored["history"] == [{"status": "new", "at": "2026-01-15T09:30:00.000Z", "reason": None}]
    assert "PK" not in stored and "GSI1PK" not in stored


def test_racing_creates_of_one_task_have_exactly_one_winner(dynamodb, atomic_dynamodb):
    results = []

    def create():
        client = boto3.client("dynamodb")
        results.append(Store(TABLE, client=client).create_task({"taskId": "ORD-RACE"}))

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True]


def test_of_executions_racing_to_apply_one_task_exactly_one_is_told_it_is_the_first(dynamodb, atomic_dynamodb):
    Store(TABLE, client=dynamodb).create_task({"taskId": "ORD-APPLY"})
    results = []

    def begin():
        results.append(Store(TABLE, client=boto3.client("dynamodb")).begin_apply("ORD-APPLY"))

    threads = [threading.Thread(target=begin) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True]


def test_update_appends_history_and_moves_the_task_between_status_lists(store):
    store.create_task({"taskId": "A"}, now=T0)
    updated = store.update_task("A", "waiting_approval", "Which company is Green Lane LLC?",
                                now=T0 + timedelta(minutes=1), approvalId="ap-1")
    assert updated["status"] == "waiting_approval" and updated["approvalId"] == "ap-1"
    assert [h["status"] for h in updated["history"]] == ["new", "waiting_approval"]
    assert updated["history"][-1] == {"status": "waiting_approval", "at": "2026-01-15T09:31:00.000Z",
                                      "reason": "Which company is Green Lane LLC?"}
    assert store.list_tasks("new") == []
    assert [t["taskId"] for t in store.list_tasks("waiting_approval")] == ["A"]


def test_update_with_an_expected_status_does_nothing_when_someone_moved_the_task(store):
    store.create_task({"taskId": "A"}, now=T0)
    assert store.update_task("A", "in_progress", expected_status="new")["status"] == "in_progress"
    assert store.update_task("A", "in_progress", expected_status="new") is None
    assert len(store.get_task("A")["history"]) == 2


def test_updating_a_missing_task_raises_task_not_found(store):
    with pytest.raises(TaskNotFound):
        store.update_task("nope", "failed", "x")
    with pytest.raises(TaskNotFound):
        store.update_task("nope", "failed", "x", expected_status="new")


def test_list_tasks_is_newest_first_and_follows_pages(store):
    for index in range(30):
        store.create_task({"taskId": f"T{index:02d}"}, now=T0 + timedelta(seconds=index))
    store.create_task({"taskId": "BAD", "status": "invalid", "reason": "no lines"}, now=T0 + timedelta(hours=1))
    new = store.list_tasks("new")
    assert [t["taskId"] for t in new] == [f"T{i:02d}" for i in reversed(range(30))]
    everything = store.list_tasks()
    assert everything[0]["taskId"] == "BAD" and len(everything) == 31
    assert [t["taskId"] for t in store.list_tasks(limit=3)] == ["BAD", "T29", "T28"]
    # many items per page on a real table; a small Limit exercises LastEvaluatedKey paging
    assert len(list(store._query(Key("GSI1PK").eq("STATUS#new"), IndexName="GSI1", Limit=7))) == 30


def test_known_tasks_batches_more_than_a_hundred_ids(store):
    for index in range(0, 250, 2):
        store.create_task({"taskId": f"O{index}"})
    known = store.known_tasks(f"O{index}" for index in range(250))
    assert set(known) == {f"O{index}" for index in range(0, 250, 2)}
    assert known["O0"]["status"] == "new"


def test_links_are_remembered(store):
    assert store.get_customer_link("1000048531") is None
    store.put_customer_link("1000048531", 250, "Green Lane LLC")
    assert store.get_customer_link("1000048531")["companyId"] == "250"
    store.put_product_link("MS-365-BB", 7, "M365-BB")
    assert store.get_product_link("MS-365-BB")["catalogItemId"] == "7"
    store.put_subscription_link("SUB-1", 12, taskId="ORD-1")
    link = store.get_subscription_link("SUB-1")
    assert link["agreementId"] == "12" and link["taskId"] == "ORD-1"


def test_an_approval_is_decided_once(store):
    expires = datetime.now(timezone.utc) + timedelta(hours=1)
    approval = {"approvalId": "ap-1", "taskId": "A", "kind": "customer", "token": "tok",
                "options": [{"id": "250", "label": "Green Lane LLC", "eligible": True, "reason": ""}],
                "expiresAt": expires}
    assert store.put_approval(approval) is True
    assert store.put_approval(approval) is False
    stored = store.get_approval("ap-1")
    assert stored["status"] == "pending" and stored["ttl"] > int(expires.timestamp())
    assert store.decide_approval("ap-1", {"choice": "250"}) is True
    assert store.decide_approval("ap-1", {"choice": "other"}) is False
    assert store.get_approval("ap-1")["decision"] == {"choice": "250"}
    assert store.decide_approval("missing", {"choice": "x"}) is False


def test_an_expired_approval_cannot_be_decided(store):
    store.put_approval({"approvalId": "ap-old", "expiresAt": "2020-01-01T00:00:00Z", "token": "t"})
    assert store.decide_approval("ap-old", {"choice": "1"}) is False
    assert store.get_approval("ap-old")["status"] == "pending"


def test_racing_decisions_have_exactly_one_winner(dynamodb, atomic_dynamodb):
    Store(TABLE, client=dynamodb).put_approval({"approvalId": "ap-race", "token": "t",
                                            "expiresAt": datetime.now(timezone.utc) + timedelta(hours=1)})
    results = []

    def decide(choice):
        results.append(Store(TABLE, client=boto3.client("dynamodb")).decide_approval("ap-race", {"choice": choice}))

    threads = [threading.Thread(target=decide, args=(str(i),)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 5 + [True]


def test_the_watermark_never_moves_back(store):
    assert store.get_watermark() is None
    assert store.advance_watermark(T0) is True
    assert store.advance_watermark(T0 - timedelta(seconds=1)) is False
    assert store.advance_watermark(T0) is False
    assert store.get_watermark() == T0
    assert store.advance_watermark(T0 + timedelta(milliseconds=5)) is True
    assert store.get_watermark() == T0 + timedelta(milliseconds=5)


def test_racing_watermark_advances_end_at_the_newest(dynamodb, atomic_dynamodb):
    times = [T0 + timedelta(minutes=i) for i in range(10)]

    def advance(ts):
        Store(TABLE, client=boto3.client("dynamodb")).advance_watermark(ts)

    threads = [threading.Thread(target=advance, args=(ts,)) for ts in reversed(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Store(TABLE, client=dynamodb).get_watermark() == times[-1]


def test_an_applied_operation_is_recorded_once(store):
    assert store.get_applied("A", "create-addition:MP-1") is None
    assert store.record_applied("A", "create-addition:MP-1", {"additionId": 91}) is True
    assert store.record_applied("A", "create-addition:MP-1", {"additionId": 92}) is False
    record = store.get_applied("A", "create-addition:MP-1")
    assert record["result"] == {"additionId": 91} and record["ttl"] > 0
    store.record_applied("A", "create-adjustment:MP-1", {"adjustmentId": 5})
    assert [r["key"] for r in store.list_applied("A")] == ["create-addition:MP-1", "create-adjustment:MP-1"]


def test_times_are_fixed_width_utc_and_naive_times_are_refused():
    assert format_time("2026-01-15T10:30:00+01:00") == "2026-01-15T09:30:00.000Z"
    with pytest.raises(ValueError):
        format_time(datetime(2026, 1, 1))
