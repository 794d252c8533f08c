"""The applier never duplicates and never skips a ConnectWise write, whatever fails and wherever it stops.

ConnectWise is the simulator over real HTTP, with "commit then fail" faults (the write is
saved, the answer is a 500); the applied-operation records live in DynamoDB on moto,
through the real store. A crash is a `Crash` raised right after the k-th write (to
ConnectWise or to the store); the applier then runs again from scratch with new objects,
as a retried Lambda would. The end state must equal a clean run's, exactly.
"""
from __future__ import annotations

import copy
import itertools
import json
import logging
from collections import Counter
from decimal import Decimal

import pytest

from cwsync.adapters.connectwise import ConnectWiseClient
from cwsync.adapters.http import RetryPolicy
from cwsync.adapters.store import Store, create_table
from cwsync.errors import TransientError
from cwsync.services.apply import Applier
from cwsync_local.simulators import connectwise as simulator
from cwsync_local.simulators.common import Faults
from cwsync_local.simulators.connectwise.sample import sample_seed

logging.getLogger("werkzeug").setLevel(logging.ERROR)
CREDENTIALS = simulator.DEFAULT_CREDENTIALS
TASK = "ORD-5001"
CATALOG_KEY = "create-catalog-item:MS-365-BB"

PLAN = {
    "taskId": TASK, "taskType": "change", "currency": "USD", "agreementId": 12,
    "summary": "Microsoft 365 Business Basic: 10 → 12 licences from 2026-02-15",
    "nothingToChange": False, "decrease": False, "total": "103.40",
    "operations": [
        {"key": CATALOG_KEY, "action": "create_catalog_item", "agreementId": None,
         "match": {"identifier": "MS-365-BB"},
         "fields": {"identifier": "MS-365-BB", "description": "Microsoft 365 Business Basic",
                    "customerDescription": "Microsoft 365 Business Basic (monthly)",
                    "subcategory": {"id": 1}, "type": {"id": 1}, "productClass": "Service",
                    "price": "6.00", "cost": "4.80", "taxableFlag": True},
         "explanation": "Add product MS-365-BB to the ConnectWise catalog"},
        {"key": "create-addition:MP-SUB-1-CH0001", "action": "create_addition", "agreementId": 12,
         "match": {"serialNumber": "MP-SUB-1-CH0001"},
         "fields": {"product": {"identifier": "MS-365-BB"}, "quantity": "12", "unitPrice": "6.00",
                    "unitCost": "4.80", "billCustomer": "Billable", "taxableFlag": True,
                    "effectiveDate": "2026-02-15T00:00:00Z", "serialNumber": "MP-SUB-1-CH0001",
                    "description": "Microsoft 365 Business Basic",
                    "invoiceDescription": "Microsoft 365 Business Basic (subscription SUB-1)"},
         "explanation": "New quantity 12 from 2026-02-15"},
        {"key": "create-addition:MP-SUB-2-CH0001", "action": "create_addition", "agreementId": 12,
         "match": {"serialNumber": "MP-SUB-2-CH0001"},
         "fields": {"product": {"ref": CATALOG_KEY}, "quantity": "1.5", "unitPrice": "0.10",
                    "unitCost": "0.07", "billCustomer": "Billable", "taxableFlag": False,
                    "effectiveDate": "2026-02-15T00:00:00Z", "serialNumber": "MP-SUB-2-CH0001",
                    "description": "Microsoft 365 add-on storage"},
         "explanation": "Add-on storage"},
        {"key": "cancel-addition:100", "action": "cancel_addition", "agreementId": 12,
         "match": {"id": 100, "serialNumber": "MP-SUB-1-ORD1"},
         "fields": {"cancelledDate": "2026-02-15T00:00:00Z"},
         "explanation": "Old quantity 10 ends on 2026-02-15"},
        {"key": "create-adjustment:MP-SUB-1-CH0001:recurring:1", "action": "create_adjustment", "agreementId": 12,
         "match": {"description": 'MP-SUB-1-CH0001 Prorated charge: "Business Basic" × 2'},
         "fields": {"amount": "5.23", "description": 'MP-SUB-1-CH0001 Prorated charge: "Business Basic" × 2',
                    "effectiveDate": "2026-02-15T00:00:00Z"},
         "explanation": "2 more licences for 14 of 28 days"},
    ],
}
OPERATIONS = len(PLAN["operations"])


class Crash(BaseException):
    """The Lambda stops here (timeout, out of memory, a lost container)."""


class Crasher:
    """Counts writes (ConnectWise writes and applied-operation records); raises `Crash` after the k-th."""

    def __init__(self, after: int | None = None):
        self.after = after
        self.writes = 0

    def wrote(self) -> None:
        self.writes += 1
        if self.after is not None and self.writes == self.after:
            raise Crash(f"crash after write {self.writes}")


class CrashingConnectWise(ConnectWiseClient):
    def __init__(self, *args, crasher: Crasher, **kwargs):
        super().__init__(*args, **kwargs)
        self.crasher = crasher
        self.write_requests = 0

    def _send(self, method, url, **kwargs):
        if method == "GET":
            return super()._send(method, url, **kwargs)
        self.write_requests += 1
        try:
            return super()._send(method, url, **kwargs)
        finally:  # whether ConnectWise answered 2xx or a 500 after saving, the write may be there
            self.crasher.wrote()


class CrashingStore(Store):
    def __init__(self, *args, crasher: Crasher, **kwargs):
        super().__init__(*args, **kwargs)
        self.crasher = crasher

    def record_applied(self, *args, **kwargs):
        result = super().record_applied(*args, **kwargs)
        self.crasher.wrote()
        return result


_tables = itertools.count()


def new_table(module_dynamodb) -> str:
    name = f"cwsync-apply-{next(_tables)}"
    create_table(module_dynamodb, name)
    return name


def connectwise(sim, crasher: Crasher) -> CrashingConnectWise:
    base = f"{sim.url}/{simulator.CODEBASE}apis/3.0"
    return CrashingConnectWise(base, CREDENTIALS["companyId"], CREDENTIALS["publicKey"], CREDENTIALS["privateKey"],
                               CREDENTIALS["clientId"], retry=RetryPolicy.fast(2), crasher=crasher)


def state(sim) -> dict:
    """What ConnectWise holds, minus the audit timestamps that differ between runs."""
    with sim.state.lock:
        data = copy.deepcopy({name: sim.state.data[name] for name in ("catalog", "additions", "adjustments")})
    for records in data.values():
        for record in records:
            record.pop("_info", None)
    return data


def run_until_done(sim, dynamodb_client, table: str, *, crash_after: int | None = None, max_runs: int = 6,
                   interruptions: list | None = None):
    """Run the applier as Step Functions would: again after a crash or a transient failure."""
    results = []
    for run in range(max_runs):
        crasher = Crasher(crash_after if run == 0 else None)
        client = connectwise(sim, crasher)
        store = CrashingStore(table, client=dynamodb_client, crasher=crasher)
        try:
            results.append(Applier(client, store).apply(TASK, copy.deepcopy(PLAN)))
            return results
        except (Crash, TransientError) as stop:
            if interruptions is not None:
                interruptions.append(stop)
            continue
        finally:
            client.close()
    raise AssertionError(f"the plan did not finish in {max_runs} runs")


@pytest.fixture(scope="module")
def expected(module_dynamodb):
    """ConnectWise after one clean run without faults."""
    with simulator.start(sample_seed()) as sim:
        before = state(sim)
        (result,) = run_until_done(sim, module_dynamodb, new_table(module_dynamodb), max_runs=1)
        assert [change["status"] for change in result.changes] == ["created"] * 3 + ["updated", "created"]
        after = state(sim)
    assert len(after["catalog"]) == len(before["catalog"]) + 1
    assert len(after["additions"]) == len(before["additions"]) + 2
    assert len(after["adjustments"]) == len(before["adjustments"]) + 1
    return after


def assert_no_duplicates(data: dict) -> None:
    serials = Counter(a.get("serialNumber") for a in data["additions"] if a.get("serialNumber"))
    assert max(serials.values()) == 1, serials
    descriptions = Counter((a["agreementId"], a.get("description")) for a in data["adjustments"])
    assert max(descriptions.values()) == 1, descriptions
    identifiers = Counter(item["identifier"] for item in data["catalog"])
    assert max(identifiers.values()) == 1


def test_a_clean_run_writes_what_the_plan_says(expected):
    additions = {a["serialNumber"]: a for a in expected["additions"] if a.get("serialNumber")}
    item = next(i for i in expected["catalog"] if i["identifier"] == "MS-365-BB")
    assert additions["MP-SUB-1-CH0001"]["product"]["id"] == item["id"]
    assert additions["MP-SUB-2-CH0001"]["product"]["id"] == item["id"]
    assert additions["MP-SUB-1-CH0001"]["unitPrice"] == 6.0 and additions["MP-SUB-2-CH0001"]["quantity"] == 1.5
    assert additions["MP-SUB-1-ORD1"]["cancelledDate"] == "2026-02-15T00:00:00Z"
    (adjustment,) = [a for a in expected["adjustments"] if a["description"].startswith("MP-SUB-1-CH0001")]
    assert adjustment["amount"] == 5.23
    assert_no_duplicates(expected)


# 5 ConnectWise writes + 5 records in a clean run; failed writes add a few more.
@pytest.mark.parametrize("crash_after", range(1, 2 * OPERATIONS + 3))
def test_a_crash_after_any_write_with_commit_then_fail_faults_ends_in_the_same_state(
        module_dynamodb, expected, crash_after):
    faults = Faults(commit_then_fail_rate=0.3, random_seed=1000 + crash_after)
    interruptions: list = []
    with simulator.start(sample_seed(), faults=faults) as sim:
        results = run_until_done(sim, module_dynamodb, new_table(module_dynamodb), crash_after=crash_after,
                                 interruptions=interruptions)
        final = state(sim)
    if crash_after <= 2 * OPERATIONS:  # a run has at least this many writes, so the crash happened
        assert any(isinstance(stop, Crash) for stop in interruptions)
    assert final == expected
    assert_no_duplicates(final)
    statuses = {change["status"] for change in results[-1].changes}
    assert statuses <= {"created", "updated", "already_present", "skipped_already_applied"}
    assert [change["key"] for change in results[-1].changes] == [op["key"] for op in PLAN["operations"]]


@pytest.mark.parametrize("random_seed", [1, 2, 3, 4])
def test_every_write_answered_500_after_saving_is_confirmed_by_its_tag_and_never_repeated(module_dynamodb, expected,
                                                                                        random_seed, tmp_path):
    log = tmp_path / "requests.jsonl"
    with simulator.start(sample_seed(), faults=Faults(commit_then_fail_rate=1.0, random_seed=random_seed),
                         request_log=log) as sim:
        (result,) = run_until_done(sim, module_dynamodb, new_table(module_dynamodb), max_runs=1)
        final = state(sim)
        posts = [entry for entry in sim.requests() if entry["method"] == "POST"]
    assert final == expected
    assert len(posts) == 4  # catalog item, two additions, adjustment: each sent once
    assert [change["status"] for change in result.changes] == ["created"] * 3 + ["updated", "created"]


def test_running_a_finished_plan_again_writes_nothing_and_reports_it(module_dynamodb, expected):
    with simulator.start(sample_seed()) as sim:
        table = new_table(module_dynamodb)
        run_until_done(sim, module_dynamodb, table, max_runs=1)
        crasher = Crasher()
        client = connectwise(sim, crasher)
        again = Applier(client, Store(table, client=module_dynamodb)).apply(TASK, copy.deepcopy(PLAN))
        assert state(sim) == expected
    assert client.write_requests == 0 and client.requests_sent == 0
    assert [change["status"] for change in again.changes] == ["skipped_already_applied"] * OPERATIONS
    assert all(type(change["id"]) is int for change in again.changes)
    assert json.dumps(again.changes)  # what the step records and returns: JSON-safe


def test_writes_already_in_connectwise_but_not_recorded_are_reported_as_already_present(module_dynamodb, expected):
    with simulator.start(sample_seed()) as sim:
        run_until_done(sim, module_dynamodb, new_table(module_dynamodb), max_runs=1)
        client = connectwise(sim, Crasher())
        # A new table: the records are gone (or were never written), ConnectWise has everything.
        result = Applier(client, Store(new_table(module_dynamodb), client=module_dynamodb)).apply(TASK, copy.deepcopy(PLAN))
        assert state(sim) == expected
    assert client.write_requests == 0
    assert [change["status"] for change in result.changes] == ["already_present"] * OPERATIONS


# ---- the ApplyChanges step: a first attempt that asks nothing its plan read, then a crash anywhere ----------
# CH000140 (SUB-101 12 → 15, linked): the first attempt ends the ×12, creates the ×15 and the prorated
# charge without a lookup. A crash after any of its writes (the store's first-attempt marker included),
# then the execution that starts again (LoadTask answers `resume_apply`) looks everything up, and each
# addition and the adjustment end up in ConnectWise exactly once.

from cwsync.services import steps  # noqa: E402
from tests.integration.test_request_economy import (PLAN_STEPS, linked_change_task, make_deps,  # noqa: E402,F401
                                                    simulators, sub_101)

# begin_apply, then per operation its ConnectWise write and its record: 1 + 3 × 2.
STEP_WRITES = 7


def crash_on(deps, crasher: Crasher) -> None:
    """Count the step's writes (the first-attempt marker, ConnectWise writes, applied records) on `deps`."""
    send, record, begin = deps.connectwise._send, deps.store.record_applied, deps.store.begin_apply

    def counted(call):
        def wrapper(*args, **kwargs):
            try:
                return call(*args, **kwargs)
            finally:
                crasher.wrote()
        return wrapper

    def sending(method, url, **kwargs):
        return send(method, url, **kwargs) if method == "GET" else counted(send)(method, url, **kwargs)

    deps.connectwise._send, deps.store.record_applied, deps.store.begin_apply = (
        sending, counted(record), counted(begin))


@pytest.mark.parametrize("crash_after", range(1, STEP_WRITES + 1))
def test_a_first_apply_attempt_stopped_after_any_write_ends_with_each_write_once_after_the_restart(
        module_dynamodb, simulators, crash_after):
    connectwise_sim, marketplace_sim = simulators
    table = new_table(module_dynamodb)
    task_id = linked_change_task(make_deps(module_dynamodb, connectwise_sim, marketplace_sim, table=table), simulators)
    deps = make_deps(module_dynamodb, connectwise_sim, marketplace_sim, table=table)
    for name in PLAN_STEPS:
        getattr(steps, name)(deps, task_id)
    first_mark = len(connectwise_sim.requests())
    crash_on(deps, Crasher(crash_after))
    with pytest.raises(Crash):
        steps.apply_changes(deps, task_id)
    first = connectwise_sim.requests()[first_mark:]
    assert not [e for e in first if e["method"] == "GET"]  # the first attempt asked nothing its plan read

    again = make_deps(module_dynamodb, connectwise_sim, marketplace_sim, table=table)  # a new container
    assert steps.load_task(again, task_id)["outcome"] == "resume_apply"
    mark = len(connectwise_sim.requests())
    applied = steps.apply_changes(again, task_id)
    retry = [(e["method"], e["path"], e["query"].get("conditions")) for e in connectwise_sim.requests()[mark:]]
    for index, (method, path, _) in enumerate(retry):  # each write of the retry after its own lookup
        if method == "POST":
            assert any(m == "GET" and p == path and c for m, p, c in retry[:index]), retry
        if method == "PATCH":
            assert ("GET", path, None) in retry[:index], retry

    assert applied["operations"] == 3
    live, prorate = sub_101(connectwise_sim)
    assert live == [(Decimal(15), Decimal(6))]
    assert len(prorate) == 1 and "12 → 15" in prorate[0]
    posts = [e for e in connectwise_sim.requests()[first_mark:] if e["method"] == "POST"]
    assert len(posts) == 2  # the ×15 and the prorated charge, each sent once in both attempts together
    assert again.store.get_task(task_id)["applyBegunAt"]


def test_a_first_attempts_write_answered_500_after_saving_is_found_by_its_tag_and_not_sent_again(
        module_dynamodb, simulators):
    connectwise_sim, marketplace_sim = simulators
    deps = make_deps(module_dynamodb, connectwise_sim, marketplace_sim, table=new_table(module_dynamodb))
    task_id = linked_change_task(deps, simulators)
    for name in PLAN_STEPS:
        getattr(steps, name)(deps, task_id)
    send = deps.connectwise._send

    def saved_then_500(method, url, **kwargs):
        answer = send(method, url, **kwargs)
        if method == "POST":
            raise TransientError("ConnectWise answered 500 (the write was saved)")
        return answer

    deps.connectwise._send = saved_then_500
    mark = len(connectwise_sim.requests())
    applied = steps.apply_changes(deps, task_id)
    assert applied == {"outcome": "applied", "operations": 3, "written": 3}
    requests = [(e["method"], e["path"].rsplit("/", 1)[-1]) for e in connectwise_sim.requests()[mark:]]
    assert requests.count(("POST", "additions")) == 1 and requests.count(("POST", "adjustments")) == 1
    # after each unanswered POST, its tag was looked up (that answer is never taken as known)
    assert requests.index(("GET", "additions")) > requests.index(("POST", "additions"))
    assert requests.index(("GET", "adjustments")) > requests.index(("POST", "adjustments"))
    live, prorate = sub_101(connectwise_sim)
    assert live == [(Decimal(15), Decimal(6))] and len(prorate) == 1
