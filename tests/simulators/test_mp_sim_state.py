"""The marketplace simulator's state file, seed handling and `cwsync simulate marketplace`."""
from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest

from cwsync_local.simulators import marketplace
from cwsync_local.simulators.common import load_seed
from cwsync_local.simulators.marketplace import generate
from cwsync_local.simulators.marketplace.testing import session, token


def test_orders_added_at_run_time_are_saved_and_come_back_after_a_restart(tmp_path):
    state = tmp_path / "marketplace-state.json"
    extra = generate.orders(3, first_id=8000000)
    with marketplace.start(state=state) as first:
        first.add_orders(extra)
        saved = json.loads(state.read_text())["marketplace"]  # saved on the write, before stop
        assert {o["id"] for o in extra} <= {o["id"] for o in saved["orders"]}
    with marketplace.start(seed={"marketplace": {}}, state=state) as second:  # the state wins over the seed
        http = session(second)
        assert http.get(f"{second.url}/orders/8000001").status_code == 200
        assert http.get(f"{second.url}/customers/1000048531").json()["name"] == "Green Lane LLC"


def test_a_saved_state_is_a_valid_seed(tmp_path):
    state = tmp_path / "state.json"
    with marketplace.start(state=state):
        pass
    assert load_seed(state)["marketplace"] == load_seed(None)["marketplace"]
    with marketplace.start(seed=state) as again:
        assert session(again).get(f"{again.url}/orders").json()["pagination"]["total"] == 24


def test_a_duplicate_or_malformed_record_is_refused_and_nothing_is_saved(tmp_path):
    state = tmp_path / "state.json"
    with marketplace.start(state=state) as sim:
        before = state.read_text() if state.exists() else None
        with pytest.raises(ValueError, match="already exists"):
            sim.add_orders([{**generate.orders(1)[0], "id": "5000112"}])
        with pytest.raises(ValueError, match="status"):
            sim.add_orders([{**generate.orders(1)[0], "status": "finished"}])
        with pytest.raises(ValueError, match="string"):
            sim.add_customers([{"id": 5, "name": "Numeric Id Inc."}])
        assert (state.read_text() if state.exists() else None) == before


def test_a_seed_with_a_bad_record_fails_at_start_with_the_reason():
    with pytest.raises(ValueError, match="creationDate"):
        marketplace.start({"marketplace": {"orders": [{"id": "1", "orderNumber": "SO1", "type": "sales",
                                                       "customerId": "2", "status": "completed",
                                                       "creationDate": "last tuesday"}]}})


CLI = ("import argparse, sys\n"
       "from cwsync_local.simulators.marketplace import cli\n"
       "parser = argparse.ArgumentParser(); cli.add_arguments(parser)\n"
       "sys.exit(cli.run(parser.parse_args(sys.argv[1:])))\n")


def test_the_command_serves_with_custom_credentials_and_saves_state_on_exit(tmp_path):
    state = tmp_path / "cli-state.json"
    process = subprocess.Popen(
        [sys.executable, "-c", CLI, "--port", "0", "--state", str(state), "--username", "demo",
         "--password", "pw", "--subscription-key", "key", "--marketplace", "eu", "--token-ttl", "300"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = process.stdout.readline()
        assert "listening on http://" in line, line
        url = line.split("listening on ", 1)[1].split()[0]
        sim = marketplace.MarketplaceSimulator("marketplace", url, None, None,
                                               {"username": "demo", "password": "pw", "subscriptionKey": "key",
                                                "marketplace": "eu"})
        answer = token(sim)
        assert answer.status_code == 200 and answer.json()["expiresInSeconds"] == 300
        assert token(sim, password="local-password").status_code == 401
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
    assert json.loads(state.read_text())["marketplace"]["customers"]


def test_the_command_documents_its_defaults():
    import argparse

    from cwsync_local.simulators.marketplace import cli

    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    args = parser.parse_args([])
    assert (args.username, args.password, args.subscription_key, args.marketplace) == (
        marketplace.DEFAULT_CREDENTIALS["username"], marketplace.DEFAULT_CREDENTIALS["password"],
        marketplace.DEFAULT_CREDENTIALS["subscriptionKey"], marketplace.DEFAULT_CREDENTIALS["marketplace"])
    assert args.port == cli.DEFAULT_PORT and args.token_ttl == 1500
    help_text = parser.format_help()
    assert "--subscription-key" in help_text and "--fail-rate" in help_text and "default:" in help_text


def test_ctrl_c_stops_and_saves_even_when_started_with_interrupts_ignored(tmp_path):
    # A background job of a non-interactive shell (CI, nohup) starts with SIGINT ignored.
    state = tmp_path / "ignored-sigint-state.json"
    process = subprocess.Popen(
        [sys.executable, "-c", CLI, "--port", "0", "--state", str(state)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        assert "listening on http://" in process.stdout.readline()
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    assert json.loads(state.read_text())["marketplace"]["customers"]
