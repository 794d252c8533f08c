"""checkov on the template: no failed check; every check skipped says why, beside the resource.

checkov runs from its own environment (.venv/tools/checkov, made by scripts/bootstrap):
it pins boto3 and packaging to versions cwsync's test environment cannot use.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECKOV = ROOT / ".venv" / "tools" / "checkov" / "bin" / "checkov"


def checkov_report() -> dict:
    assert CHECKOV.exists(), "checkov is not installed: run `make venv` (scripts/bootstrap installs it)"
    answer = subprocess.run([str(CHECKOV), "--file", str(ROOT / "infra" / "template.yaml"), "--framework",
                             "cloudformation", "--output", "json", "--quiet", "--compact", "--skip-download"],
                            capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert answer.stdout.strip(), answer.stderr[-2000:]
    report = json.loads(answer.stdout)
    return report[0] if isinstance(report, list) else report


def test_checkov_finds_no_failed_check_and_every_skip_has_a_reason():
    report = checkov_report()
    results = report.get("results", {})
    failed = [(c["check_id"], c["resource"]) for c in results.get("failed_checks", [])]
    assert not failed, failed
    skipped = results.get("skipped_checks", [])
    assert all((c.get("check_result") or {}).get("suppress_comment", "").strip() for c in skipped), skipped
    assert report["summary"]["passed"] > 0
