"""Every `cwsync` command ends quietly when its output is a pipe nobody reads any more
(`cwsync tasks | head -3`): exit status 0, nothing on stderr, no traceback."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "cwsync_local.cli"]


def saved_state(folder: Path, tasks: int) -> Path:
    items = [{"PK": {"S": f"TASK#{n}"}, "SK": {"S": "TASK"}, "taskId": {"S": str(n)}, "status": {"S": "synced"},
              "orderNumber": {"S": f"SO{n:06d}"}, "taskType": {"S": "sales"}, "customerName": {"S": "Green Lane LLC"},
              "updatedAt": {"S": "2026-11-12T09:00:00Z"}} for n in range(tasks)]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dynamodb.json").write_text(json.dumps({"format": "cwsync-dynamodb/1", "items": items}), encoding="utf-8")
    return folder


def run_into_closed_pipe(arguments: list[str]) -> subprocess.CompletedProcess:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line is written
    try:
        return subprocess.run(CLI + arguments, stdout=write_end, stderr=subprocess.PIPE, cwd=ROOT, timeout=120)
    finally:
        os.close(write_end)


@pytest.mark.parametrize("arguments", [["tasks"], ["tasks", "--json"], ["--help"], ["run", "--help"],
                                       ["simulate", "connectwise", "--help"]])
def test_a_command_whose_reader_went_away_exits_quietly(tmp_path, arguments):
    data_dir = saved_state(tmp_path / "data", tasks=50)
    if arguments[0] == "tasks":
        arguments = arguments + ["--data-dir", str(data_dir)]
    result = run_into_closed_pipe(arguments)
    assert result.stderr.decode("utf-8", "replace") == ""
    assert result.returncode == 0


def test_the_tasks_of_a_saved_state_include_writes_not_yet_folded_into_the_snapshot(tmp_path):
    data_dir = saved_state(tmp_path / "data", tasks=1)
    later = {"key": {"PK": {"S": "TASK#0"}, "SK": {"S": "TASK"}},
             "item": {"PK": {"S": "TASK#0"}, "SK": {"S": "TASK"}, "taskId": {"S": "0"}, "status": {"S": "failed"},
                      "orderNumber": {"S": "SO000000"}, "updatedAt": {"S": "2026-11-13T09:00:00Z"}}}
    (data_dir / "dynamodb.journal").write_text(json.dumps(later) + "\n" + '{"key": {"PK": {"S": "TA', encoding="utf-8")
    result = subprocess.run(CLI + ["tasks", "--json", "--data-dir", str(data_dir)], capture_output=True, text=True,
                            cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert [task["status"] for task in json.loads(result.stdout)["tasks"]] == ["failed"]
