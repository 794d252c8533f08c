"""`cwsync reconcile` in a new process, on the demo data: the report in the documented JSON shape,
with every kind the demo data holds, and `--customer` narrowing it to one customer."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from cwsync.domain.reconcile import KINDS

KEYS = {"kind", "customer", "subscriptionId", "mpn", "agreementId", "additionId", "field", "marketplace",
        "connectwise", "impactPerPeriod", "currency"}


def reconcile(data_dir: Path, *arguments: str) -> dict:
    environment = {key: value for key, value in os.environ.items() if value != ""}
    completed = subprocess.run(
        [sys.executable, "-m", "cwsync_local.cli", "reconcile", "--json", "--data-dir", str(data_dir), *arguments],
        capture_output=True, text=True, timeout=280, cwd=Path(__file__).resolve().parents[2], env=environment)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout)


def test_cwsync_reconcile_json_prints_every_difference_with_its_money_and_the_totals(tmp_path):
    report = reconcile(tmp_path / "all", "--parameter", "ReconcileNotBilledThreshold=1000")
    assert report["differences"] and all(KEYS <= set(d) for d in report["differences"])
    assert {d["kind"] for d in report["differences"]} == set(KINDS) - {"edited_in_connectwise"}
    totals = report["totals"]
    assert set(totals["byKind"]) == set(KINDS)
    assert totals["subscriptionsChecked"] == totals["inStep"] + totals["withDifferences"]
    assert totals["notBilledPerMonth"] == {"EUR": "92.80", "USD": "510.00"}
    assert report["tasks"] == [] and report["notified"] is False  # report only; below the threshold


def test_cwsync_reconcile_for_one_customer_reports_only_that_customer(tmp_path):
    report = reconcile(tmp_path / "one", "--customer", "1000048538")
    assert {d["customer"] for d in report["differences"]} == {"Quillfeather Translations Ltd"}
    assert report["totals"]["subscriptionsChecked"] == 6
