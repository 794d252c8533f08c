"""What the applier does with each kind of operation, and what it refuses to do.

ConnectWise is the simulator over real HTTP; applied-operation records live in DynamoDB on
moto through the real store.
"""
from __future__ import annotations

import itertools
import logging

import pytest

from cwsync.adapters.connectwise import ConnectWiseClient
from cwsync.adapters.http import RetryPolicy
from cwsync.adapters.store import Store, create_table
from cwsync.errors import ExternalApiError, SyncFailed, TransientError
from cwsync.services.apply import Applier
from cwsync_local.simulators import connectwise as simulator
from cwsync_local.simulators.connectwise.sample import sample_seed

logging.getLogger("werkzeug").setLevel(logging.ERROR)
CREDENTIALS = simulator.DEFAULT_CREDENTIALS
_tables = itertools.count()


@pytest.fixture
def store(module_dynamodb):
    name = f"cwsync-behaviour-{next(_tables)}"
    create_table(module_dynamodb, name)
    return Store(name, client=module_dynamodb)


@pytest.fixture
def sim(tmp_path):
    with simulator.start(sample_seed(), request_log=tmp_path / "requests.jsonl") as running:
        yield running


@pytest.fixture
def cw(sim):
    client = ConnectWiseClient(f"{sim.url}/{simulator.CODEBASE}apis/3.0", CREDENTIALS["companyId"],
                               CREDENTIALS["publicKey"], CREDENTIALS["privateKey"], CREDENTIALS["clientId"],
                               retry=RetryPolicy.fast(2))
    yield client
    client.close()


def addition_op(serial: str, **fields) -> dict:
    return {"key": f"create-addition:{serial}", "action": "create_addition", "agreementId": 12,
            "match": {"serialNumber": serial},
            "fields": {"product": {"id": 1}, "quantity": "3", "unitPrice": "6.00", "unitCost": "4.80",
                       "billCustomer": "Billable", "effectiveDate": "2026-02-15T00:00:00Z",
                       "serialNumber": serial, **fields}}


def plan(*operations) -> dict:
    return {"taskId": "T1", "agreementId": 12, "operations": list(operations)}


def additions(sim, serial: str) -> list[dict]:
    return [a for a in sim.state.data["additions"] if a.get("serialNumber") == serial]


def test_creating_one_addition_costs_one_lookup_and_one_post(sim, cw, store):
    result = Applier(cw, store).apply("T1", plan(addition_op("MP-SUB-7-SO1")))
    assert cw.requests_sent == 2
    (change,) = result.changes
    assert change["status"] == "created" and change["agreementId"] == 12
    assert change["id"] == additions(sim, "MP-SUB-7-SO1")[0]["id"]
    assert "MP-SUB-7-SO1" in change["summary"]
    assert store.get_applied("T1", "create-addition:MP-SUB-7-SO1")["result"]["id"] == change["id"]


def test_an_addition_with_the_tag_but_another_product_is_not_taken_for_ours_when_the_match_names_the_product(
        sim, cw, store):
    Applier(cw, store).apply("T1", plan(addition_op("MP-SUB-7-SO1")))
    second = addition_op("MP-SUB-7-SO1", product={"id": 2})
    second["key"], second["match"] = "create-addition:MP-SUB-7-SO1:2", {"serialNumber": "MP-SUB-7-SO1",
                                                                        "product": {"id": 2}}
    (change,) = Applier(cw, store).apply("T1", plan(second)).changes
    assert change["status"] == "created"
    assert sorted(a["product"]["id"] for a in additions(sim, "MP-SUB-7-SO1")) == [1, 2]


def test_an_addition_without_an_ownership_tag_is_refused_before_any_write(sim, cw, store):
    op = addition_op("X")
    op["match"], op["fields"]["serialNumber"] = {}, None
    with pytest.raises(SyncFailed, match="ownership tag"):
        Applier(cw, store).apply("T1", plan(op))
    assert cw.requests_sent == 0


def test_a_cancellation_of_an_addition_whose_tag_was_changed_by_hand_is_refused(sim, cw, store):
    op = {"key": "cancel-addition:100", "action": "cancel_addition", "agreementId": 12,
          "match": {"id": 100, "serialNumber": "MP-SUB-1-SOMETHING-ELSE"},
          "fields": {"cancelledDate": "2026-02-15T00:00:00Z"}}
    with pytest.raises(SyncFailed, match="changed by hand"):
        Applier(cw, store).apply("T1", plan(op))
    assert not additions(sim, "MP-SUB-1-ORD1")[0].get("cancelledDate")
    assert store.get_applied("T1", "cancel-addition:100") is None


def test_a_cancellation_of_an_addition_that_no_longer_exists_fails_with_a_reason(cw, store):
    op = {"key": "cancel-addition:999", "action": "cancel_addition", "agreementId": 12,
          "match": {"id": 999, "serialNumber": "MP-SUB-1-ORD1"}, "fields": {"cancelledDate": "2026-02-15T00:00:00Z"}}
    with pytest.raises(SyncFailed, match="no longer exists"):
        Applier(cw, store).apply("T1", plan(op))


def test_a_cancellation_found_by_tag_alone_ends_the_active_addition(sim, cw, store):
    op = {"key": "cancel:MP-SUB-1-ORD1", "action": "cancel_addition", "agreementId": 12,
          "match": {"serialNumber": "MP-SUB-1-ORD1"}, "fields": {"cancelledDate": "2026-02-15T00:00:00Z"}}
    (change,) = Applier(cw, store).apply("T1", plan(op)).changes
    assert change["status"] == "updated" and change["id"] == 100
    assert additions(sim, "MP-SUB-1-ORD1")[0]["cancelledDate"] == "2026-02-15T00:00:00Z"


def test_an_update_changes_only_the_fields_that_differ_and_is_already_present_the_second_time(sim, cw, store):
    op = {"key": "update-addition:100", "action": "update_addition", "agreementId": 12,
          "match": {"id": 100, "serialNumber": "MP-SUB-1-ORD1"},
          "fields": {"quantity": "12", "unitPrice": "6.00"}}
    (change,) = Applier(cw, store).apply("T1", plan(op)).changes
    assert change["status"] == "updated" and "quantity → 12" in change["summary"]
    assert "unitPrice" not in change["summary"]  # 6.0 already
    assert additions(sim, "MP-SUB-1-ORD1")[0]["quantity"] == 12
    op["key"] = "update-addition:100:again"
    (change,) = Applier(cw, store).apply("T1", plan(op)).changes
    assert change["status"] == "already_present"


def test_a_reference_to_an_operation_that_is_not_earlier_in_the_plan_fails_after_the_earlier_ones_are_recorded(
        sim, cw, store):
    first = addition_op("MP-SUB-7-SO1")
    second = addition_op("MP-SUB-8-SO1", product={"ref": "create-catalog-item:NOPE"})
    with pytest.raises(SyncFailed, match="NOPE"):
        Applier(cw, store).apply("T1", plan(first, second))
    assert store.get_applied("T1", first["key"]) is not None
    assert additions(sim, "MP-SUB-8-SO1") == []


def test_a_product_named_by_an_identifier_that_does_not_exist_fails_with_a_reason(cw, store):
    with pytest.raises(SyncFailed, match="NO-SUCH-SKU"):
        Applier(cw, store).apply("T1", plan(addition_op("MP-SUB-7-SO1", product={"identifier": "NO-SUCH-SKU"})))


def test_a_product_named_by_an_existing_identifier_is_resolved_to_its_id(sim, cw, store):
    Applier(cw, store).apply("T1", plan(addition_op("MP-SUB-7-SO1", product={"identifier": "SKU-00003"})))
    assert additions(sim, "MP-SUB-7-SO1")[0]["product"]["id"] == 3


def test_connectwise_refusing_a_write_stops_the_plan_without_recording_it(sim, cw, store):
    op = addition_op("MP-SUB-7-SO1", billCustomer="Sometimes")
    with pytest.raises(ExternalApiError, match="billCustomer"):
        Applier(cw, store).apply("T1", plan(op))
    assert store.get_applied("T1", op["key"]) is None


def test_by_default_a_failing_write_is_sent_once_per_run_and_left_to_the_state_machine_to_retry(sim, cw, store):
    attempts, lookups = [], []
    find = cw.find_additions

    def failing_create(agreement_id, body):
        attempts.append(body["serialNumber"])
        raise TransientError("ConnectWise could not create an addition right now (HTTP 503)")

    def counted_find(*args, **kwargs):
        lookups.append(args)
        return find(*args, **kwargs)

    cw.create_addition, cw.find_additions = failing_create, counted_find
    with pytest.raises(TransientError, match="after 1 attempt;"):
        Applier(cw, store).apply("T1", plan(addition_op("MP-SUB-7-SO1")))
    assert attempts == ["MP-SUB-7-SO1"]  # the one retry budget: cwsync.retries
    assert len(lookups) == 2  # looked up before the write and again after it failed
    assert store.get_applied("T1", "create-addition:MP-SUB-7-SO1") is None


def test_a_write_that_keeps_failing_without_saving_is_tried_a_bounded_number_of_times(sim, cw, store):
    attempts = []

    def failing_create(agreement_id, body):
        attempts.append(body["serialNumber"])
        raise TransientError("ConnectWise could not create an addition right now (HTTP 503)")

    cw.create_addition = failing_create
    with pytest.raises(TransientError, match="after 3 attempts"):
        Applier(cw, store, write_attempts=3).apply("T1", plan(addition_op("MP-SUB-7-SO1")))
    assert attempts == ["MP-SUB-7-SO1"] * 3
    assert store.get_applied("T1", "create-addition:MP-SUB-7-SO1") is None


@pytest.mark.parametrize("bad", [
    {"operations": [{"key": "a", "action": "delete_agreement", "agreementId": 12}]},
    {"operations": [{"action": "create_addition"}]},
    {"operations": [addition_op("A"), addition_op("A")]},
])
def test_malformed_plans_are_refused_before_any_write(cw, store, bad):
    with pytest.raises(SyncFailed):
        Applier(cw, store).apply("T1", bad)
    assert cw.requests_sent == 0


def test_a_plan_with_nothing_to_change_writes_nothing(cw, store):
    result = Applier(cw, store).apply("T1", {"taskId": "T1", "nothingToChange": True, "operations": []})
    assert result.changes == [] and cw.requests_sent == 0
    assert [change["status"] for change in result.changes].count("created") == 0
