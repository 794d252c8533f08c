"""When the applier takes its plan's read as known, and what it then does not ask ConnectWise (in-memory fakes)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from cwsync.adapters import cw_records
from cwsync.errors import NotFound, SyncFailed
from cwsync.services.apply import Applier
from cwsync.services.apply_known import PLAN_READ_TRUSTED_FOR, KnownAnswers, known_answers, plan_read
from fakes import FakeStore

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)
FIELDS = ("id", "serialNumber", "quantity", "unitPrice", "cancelledDate", "product")
OLD = {"id": 9001, "serialNumber": "MP-SUB-1-SO1", "quantity": 10, "unitPrice": "6.00", "product": {"id": 701}}
OTHER = {"id": 9002, "serialNumber": "MP-SUB-2-SO2", "quantity": 5, "unitPrice": "6.00", "product": {"id": 701}}
OPERATIONS = [
    {"key": "cancel-addition:9001", "action": "cancel_addition", "agreementId": 3101,
     "match": {"id": 9001, "serialNumber": "MP-SUB-1-SO1"}, "fields": {"cancelledDate": "2026-11-24T00:00:00Z"}},
    {"key": "create-addition:MP-SUB-1-CH2", "action": "create_addition", "agreementId": 3101,
     "match": {"serialNumber": "MP-SUB-1-CH2"},
     "fields": {"product": {"id": 701}, "quantity": 12, "unitPrice": "6.00", "serialNumber": "MP-SUB-1-CH2"}},
    {"key": "create-adjustment:MP-SUB-1-CH2:prorate", "action": "create_adjustment", "agreementId": 3101,
     "match": {"tag": "MP-SUB-1-CH2:prorate"}, "fields": {"amount": "1.40", "description": "Prorated 10 → 12"}},
]


def read_at(at: datetime) -> dict:
    additions = [cw_records.addition(OLD), cw_records.addition(OTHER)]
    return {"operations": OPERATIONS, "read": plan_read(additions, OPERATIONS, at, FIELDS)}


class RecordingConnectWise:
    """The applier's ConnectWise calls, answered from lists; `calls` is what was asked, in order."""

    def __init__(self, additions=(), adjustments=()):
        self.additions = [dict(a) for a in additions]
        self.adjustments = [dict(a) for a in adjustments]
        self.calls: list[str] = []

    def addition(self, agreement_id, addition_id, fields=None):
        self.calls.append(f"GET addition {addition_id}")
        found = next((a for a in self.additions if a["id"] == int(addition_id)), None)
        if found is None:
            raise NotFound("404")
        return cw_records.addition(found)

    def find_additions(self, agreement_id, serial, fields=None):
        self.calls.append(f"GET additions {serial}")
        return [cw_records.addition(a) for a in self.additions if a.get("serialNumber") == serial]

    def create_addition(self, agreement_id, body):
        self.calls.append(f"POST addition {body['serialNumber']}")
        self.additions.append({**body, "id": 9100 + len(self.additions)})
        return cw_records.addition(self.additions[-1])

    def cancel_addition(self, agreement_id, addition_id, cancelled):
        self.calls.append(f"PATCH addition {addition_id}")
        found = next((a for a in self.additions if a["id"] == int(addition_id)), None)
        if found is None:
            raise NotFound("404")
        found["cancelledDate"] = cancelled
        return dict(found)

    def find_tagged_adjustments(self, agreement_id, tag, fields=None):
        self.calls.append(f"GET adjustments {tag}")
        return [cw_records.adjustment(a) for a in self.adjustments if a["description"].startswith(tag)]

    def create_adjustment(self, agreement_id, body):
        self.calls.append(f"POST adjustment {body['description']}")
        self.adjustments.append({**body, "id": 500 + len(self.adjustments)})
        return cw_records.adjustment(self.adjustments[-1])


def test_a_fresh_plan_on_its_first_apply_attempt_has_its_read_taken_as_known():
    known = known_answers(read_at(NOW), {}, first_attempt=True, now=NOW + PLAN_READ_TRUSTED_FOR)
    assert known is not None
    assert known.addition(9001, ("id", "serialNumber", "cancelledDate")).quantity == Decimal(10)
    assert known.addition(9002, ("id",)) is None  # read, but no operation of the plan changes it: not kept
    assert known.addition(9001, ("id", "invoiceDescription")) is None  # a field the plan's read did not ask for


@pytest.mark.parametrize("why, plan, task, first, now", [
    ("a retry, a resumed or a second execution", read_at(NOW), {}, False, NOW),
    ("a person confirmed it", read_at(NOW), {"confirmed": True}, True, NOW),
    ("read longer ago than trusted", read_at(NOW), {}, True, NOW + PLAN_READ_TRUSTED_FOR + timedelta(seconds=1)),
    ("read after now (a clock that moved back)", read_at(NOW + timedelta(seconds=5)), {}, True, NOW),
    ("a plan without its read (a repair, or one planned before)", {"operations": OPERATIONS}, {}, True, NOW),
    ("a read without a readable time", {"operations": OPERATIONS, "read": {"at": "soon"}}, {}, True, NOW),
])
def test_nothing_is_taken_as_known_when(why, plan, task, first, now):
    assert known_answers(plan, task, first_attempt=first, now=now) is None, why


def test_with_known_answers_the_applier_writes_without_looking_up_and_records_each_write():
    cw, store = RecordingConnectWise([OLD]), FakeStore(clock=lambda: NOW)
    known = known_answers(read_at(NOW), {}, first_attempt=True, now=NOW)
    result = Applier(cw, store).apply("T1", read_at(NOW), known)
    assert cw.calls == ["PATCH addition 9001", "POST addition MP-SUB-1-CH2",
                        "POST adjustment MP-SUB-1-CH2:prorate Prorated 10 → 12"]
    assert [c["status"] for c in result.changes] == ["updated", "created", "created"]
    assert {op["key"] for op in OPERATIONS} == {key for (_, key) in store.applied}


def test_without_known_answers_every_write_comes_after_its_lookup():
    cw, store = RecordingConnectWise([OLD]), FakeStore(clock=lambda: NOW)
    Applier(cw, store).apply("T1", read_at(NOW))
    assert cw.calls == ["GET addition 9001", "PATCH addition 9001", "GET additions MP-SUB-1-CH2",
                        "POST addition MP-SUB-1-CH2", "GET adjustments MP-SUB-1-CH2:prorate",
                        "POST adjustment MP-SUB-1-CH2:prorate Prorated 10 → 12"]


def test_an_addition_gone_since_the_plans_read_fails_its_operation_with_the_reason_and_records_nothing():
    cw, store = RecordingConnectWise([]), FakeStore(clock=lambda: NOW)
    known = known_answers(read_at(NOW), {}, first_attempt=True, now=NOW)
    with pytest.raises(SyncFailed, match="Addition 9001 on agreement 3101 no longer exists"):
        Applier(cw, store).apply("T1", read_at(NOW), known)
    assert cw.calls == ["PATCH addition 9001"] and not store.applied


def test_an_addition_the_plan_read_as_ended_is_reported_as_already_done_without_a_write():
    ended = {**OLD, "cancelledDate": "2026-11-20T00:00:00Z"}
    plan = {"operations": OPERATIONS[:1], "read": plan_read([cw_records.addition(ended)], OPERATIONS, NOW, FIELDS)}
    cw = RecordingConnectWise([ended])
    known = known_answers(plan, {}, first_attempt=True, now=NOW)
    (change,) = Applier(cw, FakeStore(clock=lambda: NOW)).apply("T1", plan, known).changes
    assert change["status"] == "already_present" and cw.calls == []


def test_known_answers_name_only_what_was_read():
    assert KnownAnswers().addition(9001, ("id",)) is None


def test_sync_again_clears_the_plans_marker_but_never_the_tasks_first_attempt_marker():
    from cwsync.services.operator import ATTEMPT_ATTRIBUTES

    assert "applyStartedAt" in ATTEMPT_ATTRIBUTES and "applyBegunAt" not in ATTEMPT_ATTRIBUTES
