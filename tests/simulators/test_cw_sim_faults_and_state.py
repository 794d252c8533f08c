"""Fault injection, the request log, the state file and the command line of the ConnectWise simulator."""
import argparse
import json

from cwsync_local.simulators.common import Faults
from cwsync_local.simulators.connectwise import DEFAULT_CREDENTIALS, start
from cwsync_local.simulators.connectwise.cli import add_arguments
from cwsync_local.simulators.connectwise.sample import sample_seed
from cwsync_local.simulators.connectwise.testing import ContractCheckingSession

ADDITION = {"product": {"id": 3}, "quantity": 4, "billCustomer": "Billable"}


def test_fail_rate_one_answers_500_and_changes_nothing(tmp_path):
    with start(sample_seed(5), faults=Faults(fail_rate=1.0)) as sim, ContractCheckingSession(sim.url) as cw:
        response = cw.post(cw.url("finance/agreements/12/additions"), json=ADDITION)
        assert response.status_code == 500 and response.json()["code"]
        assert len(sim.state.data["additions"]) == 2


def test_throttle_answers_429_with_retry_after():
    with start(sample_seed(5), faults=Faults(throttle=3)) as sim, ContractCheckingSession(sim.url) as cw:
        statuses = [cw.get(cw.url("company/companies")).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        throttled = cw.get(cw.url("company/companies"))
        assert throttled.status_code == 429 and 1 <= int(throttled.headers["Retry-After"]) <= 61


def test_commit_then_fail_saves_the_write_but_answers_500(tmp_path):
    state = tmp_path / "cw-state.json"
    with start(sample_seed(5), state=state, faults=Faults(commit_then_fail_rate=1.0)) as sim, \
            ContractCheckingSession(sim.url) as cw:
        response = cw.post(cw.url("finance/agreements/12/additions"), json={**ADDITION, "serialNumber": "TAG-1"})
        assert response.status_code == 500
        found = cw.get(cw.url("finance/agreements/12/additions"), params={"conditions": 'serialNumber = "TAG-1"'})
        assert len(found.json()) == 1
    saved = json.loads(state.read_text())["connectwise"]["additions"]
    assert [addition["serialNumber"] for addition in saved if addition.get("serialNumber") == "TAG-1"] == ["TAG-1"]


def test_latency_is_added(tmp_path):
    with start(sample_seed(5), faults=Faults(latency_ms=150)) as sim, ContractCheckingSession(sim.url) as cw:
        response = cw.get(cw.url("company/companies"))
        assert response.elapsed.total_seconds() >= 0.15


def test_request_log_has_one_line_per_request(tmp_path):
    log = tmp_path / "requests.jsonl"
    with start(sample_seed(5), request_log=log) as sim, ContractCheckingSession(sim.url) as cw:
        cw.get(cw.url("company/companies"), params={"conditions": "id = 250"})
        cw.post(cw.url("finance/agreements/12/additions"), json=ADDITION)
        cw.get(cw.url("finance/agreements/999"))
        entries = sim.requests()
    assert [(e["method"], e["status"]) for e in entries] == [("GET", 200), ("POST", 201), ("GET", 404)]
    assert entries[0]["path"].endswith("/company/companies") and entries[0]["query"] == {"conditions": "id = 250"}


def test_state_is_saved_on_every_write_and_loaded_at_start(tmp_path):
    state = tmp_path / "state" / "connectwise.json"
    with start(sample_seed(5), state=state) as sim, ContractCheckingSession(sim.url) as cw:
        created = cw.post(cw.url("finance/agreements/12/additions"), json=ADDITION).json()
        saved = json.loads(state.read_text())["connectwise"]
        assert created["id"] in [addition["id"] for addition in saved["additions"]]
        cw.patch(cw.url("company/companies/250"), json=[{"op": "replace", "path": "name", "value": "Green Lane Inc"}])
    # A new simulator with the same state file (and a different seed) starts from the saved state.
    with start(sample_seed(1), state=state) as again, ContractCheckingSession(again.url) as cw:
        assert cw.get(cw.url(f"finance/agreements/12/additions/{created['id']}")).json()["quantity"] == 4
        assert cw.get(cw.url("company/companies/250")).json()["name"] == "Green Lane Inc"
        assert cw.get(cw.url("procurement/catalog/count")).json()["count"] == 5
        next_one = cw.post(cw.url("finance/agreements/12/additions"), json=ADDITION).json()
        assert next_one["id"] > created["id"]


def test_seed_file_path_is_accepted(tmp_path):
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps(sample_seed(3)))
    with start(seed) as sim, ContractCheckingSession(sim.url) as cw:
        assert cw.get(cw.url("procurement/catalog/count")).json() == {"count": 3}


def test_custom_credentials(tmp_path):
    credentials = {"companyId": "acme", "publicKey": "pub", "privateKey": "priv", "clientId": "client-1"}
    with start(sample_seed(1), credentials=credentials) as sim:
        with ContractCheckingSession(sim.url, credentials) as cw:
            assert cw.get(cw.url("company/companies")).status_code == 200
        with ContractCheckingSession(sim.url) as default:
            assert default.get(default.url("company/companies")).status_code == 401


def test_command_line_flags_and_documented_defaults():
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args([])
    assert (args.host, args.company_id, args.public_key, args.private_key, args.client_id) == (
        "127.0.0.1", DEFAULT_CREDENTIALS["companyId"], DEFAULT_CREDENTIALS["publicKey"],
        DEFAULT_CREDENTIALS["privateKey"], DEFAULT_CREDENTIALS["clientId"])
    args = parser.parse_args(["--port", "9000", "--seed", "s.json", "--state", "t.json", "--fail-rate", "0.1",
                              "--throttle", "100", "--latency-ms", "5", "--commit-then-fail-rate", "0.2",
                              "--request-log", "r.jsonl", "--company-id", "acme"])
    assert (args.port, args.throttle, args.company_id, args.request_log) == (9000, 100, "acme", "r.jsonl")
