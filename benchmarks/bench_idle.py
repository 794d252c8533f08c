"""Benchmark: CPU an idle `cwsync run` uses (target < 5 % of one core).

    python -m benchmarks idle [--seconds 60] [--wait 300]

Starts `cwsync run` on the demo data in a fresh folder (approval policy `always`, so tasks
wait for a person: executions stay open, the approvals API and the progress display stay
live), waits until the first check is done and nothing moves, then reads the process's CPU
time (user + system, /proc/<pid>/stat) over `--seconds` and prints it as a share of one core.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = [sys.executable, "-m", "cwsync_local.cli"]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def settled(data_dir: Path) -> bool:
    from cwsync_local.runtime.embedded import control_request

    try:
        answer = control_request(data_dir, "tasks", timeout=30)
    except RuntimeError:
        return False
    tasks = (answer or {}).get("tasks") or []
    return bool(tasks) and all(t["status"] not in ("new", "in_progress") for t in tasks)


def run(seconds: float, wait: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="cwsync-idle-") as folder:
        data_dir = Path(folder) / "data"
        process = subprocess.Popen(CLI + ["run", "--data-dir", str(data_dir), "--port", "0",
                                          "--parameter", "ApprovalPolicy=always"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + wait
            while not settled(data_dir):
                if time.monotonic() > deadline or process.poll() is not None:
                    raise SystemExit("cwsync run did not settle in time")
                time.sleep(1)
            time.sleep(5)  # the last notifications and progress lines
            start_cpu, start = cpu_seconds(process.pid), time.monotonic()
            time.sleep(seconds)
            used, elapsed = cpu_seconds(process.pid) - start_cpu, time.monotonic() - start
            threads = len(os.listdir(f"/proc/{process.pid}/task"))
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=120)
    return {"seconds": round(elapsed, 1), "cpu_seconds": round(used, 2),
            "share_of_one_core_percent": round(100 * used / elapsed, 2), "threads": threads}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--wait", type=float, default=300)
    args = parser.parse_args(argv)
    print(json.dumps(run(args.seconds, args.wait), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
