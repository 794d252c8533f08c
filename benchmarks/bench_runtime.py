"""Benchmark: sync tasks per minute through the embedded runtime (moto + real handlers + simulators).

    python -m benchmarks.bench_runtime [--tasks 500] [--timeout 1800]

Seeds the simulators with the demo data whose marketplace orders are replaced by `--tasks`
copies of a demo sales order that needs no person (Green Lane LLC, matched automatically in
ConnectWise, one eligible agreement, no setup fee), each a new subscription created within
the first-run lookback. Approval policy `never`. Measures the scheduled check (orders →
tasks → executions started) and the time until every task has settled, in one process
(2 shared cores: the simulators, moto's Step Functions threads and the handlers share one
interpreter, and the runtime runs one handler at a time).
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path

from cwsync_local.loadtest import demo_like_seed  # noqa: E402 - the seed the benchmark syncs


def run(count: int, timeout: float) -> dict:
    from cwsync_local.runtime.embedded import EmbeddedRuntime

    with tempfile.TemporaryDirectory(prefix="cwsync-bench-") as folder:
        seed_path = Path(folder) / "seed.json"
        seed_path.write_text(json.dumps(demo_like_seed(count)), encoding="utf-8")
        started = time.perf_counter()
        with EmbeddedRuntime(Path(folder) / "data", seed=seed_path, save_state=False,
                             parameters={"ApprovalPolicy": "never"},
                             function_log=Path(folder) / "functions.log") as runtime:
            boot = time.perf_counter() - started
            t0 = time.perf_counter()
            result = runtime.check()
            check_seconds = time.perf_counter() - t0
            tasks = runtime.wait_until_settled(timeout=timeout, poll=1.0)
            total = time.perf_counter() - t0
            outcomes = Counter(task["status"] for task in tasks)
            reasons = Counter(task.get("reason") for task in tasks if task["status"] != "synced")
            invocations = len(runtime.dispatcher.invocations)
            handler_seconds = sum(call["seconds"] for call in runtime.dispatcher.invocations)
    return {"tasks": len(tasks), "boot_s": round(boot, 2), "check_s": round(check_seconds, 2),
            "settled_s": round(total, 2), "tasks_per_minute": round(len(tasks) / total * 60, 1),
            "invocations": invocations, "handler_s": round(handler_seconds, 2),
            "outcomes": dict(outcomes), "check": result if count <= 20 else None,
            "other_reasons": dict(reasons.most_common(3))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=500)
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    for name in ("werkzeug", "moto"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    warnings.filterwarnings("ignore")
    print(json.dumps(run(args.tasks, args.timeout), indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
