"""Benchmark: sync tasks per minute through the embedded runtime (moto + real handlers + simulators).

    python -m benchmarks runtime [--tasks 500] [--concurrency 8] [--durable] [--timeout 1800]

Seeds the simulators with the demo data whose marketplace orders are replaced by `--tasks`
copies of a demo sales order that needs no person (Green Lane LLC, matched automatically in
ConnectWise, one eligible agreement, no setup fee), each a new subscription created within
the first-run lookback. Approval policy `never`. In one process (2 shared cores: the
simulators, moto's Step Functions threads and the handlers share one interpreter):
1. the floor: the same check by the service alone (`check_changes` over the same orders,
   same marketplace simulator, moto's DynamoDB, executions not started);
2. the runtime: the scheduled check (orders -> tasks -> executions started, the executions
   running meanwhile) and the time until every task has settled, with `--concurrency`
   steps at once; `--durable` keeps the table on disk (journal + fsync per write) as
   `cwsync run` does, else nothing is written to disk;
3. the same again warm (`--warm-rounds`, default 1): `--tasks` more such orders are added to
   the running marketplace simulator and checked and synced by the same runtime, whose
   functions are loaded by now (as in `cwsync run` after its first check; round 1 pays the
   cold start of every function: imports, clients, the tracer).
"""
from __future__ import annotations

import argparse
import json
import logging
import resource
import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path

from cwsync_local.loadtest import demo_like_orders, demo_like_seed  # noqa: E402 - the orders the benchmark syncs


def cpu_seconds() -> float:
    """CPU time of this process so far (user + system): unlike wall time, barely moved by other
    processes on a shared machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def service_check_seconds(seed: dict, concurrency: int) -> tuple[float, float]:
    """The floor: Check Changes alone over the seed's orders (no runtime, no executions);
    (wall seconds, CPU seconds)."""
    import boto3
    from moto import mock_aws
    from types import SimpleNamespace

    from benchmarks.bench_check_changes import NoOpWorkflow
    from cwsync.adapters.http import RetryPolicy
    from cwsync.adapters.marketplace import MarketplaceClient
    from cwsync.adapters.store import Store, create_table
    from cwsync.services.check_changes import check_changes
    from cwsync_local.simulators import marketplace as marketplace_sim

    with mock_aws():
        sim = marketplace_sim.start(seed)
        try:
            client = MarketplaceClient.from_secret({"baseUrl": sim.url, **sim.credentials}, retry=RetryPolicy.fast(),
                                                   pool_size=max(10, concurrency))
            dynamodb = boto3.client("dynamodb", region_name="us-east-1")
            create_table(dynamodb, "floor")
            deps = SimpleNamespace(store=Store("floor", client=dynamodb), marketplace=client, workflow=NoOpWorkflow(),
                                   settings=SimpleNamespace(first_run_lookback_days=30, overlap_minutes=30))
            started, cpu = time.perf_counter(), cpu_seconds()
            check_changes(deps, concurrency=8)
            return time.perf_counter() - started, cpu_seconds() - cpu
        finally:
            sim.stop()


def run(count: int, timeout: float, *, concurrency: int = 8, durable: bool = False, warm_rounds: int = 1) -> dict:
    from datetime import datetime, timedelta, timezone

    from cwsync_local.runtime.embedded import EmbeddedRuntime
    from cwsync_local.simulators.common import load_seed

    seed = demo_like_seed(count)
    floor, floor_cpu = service_check_seconds(seed, concurrency)
    rounds = []
    with tempfile.TemporaryDirectory(prefix="cwsync-bench-") as folder:
        seed_path = Path(folder) / "seed.json"
        seed_path.write_text(json.dumps(seed), encoding="utf-8")
        started = time.perf_counter()
        with EmbeddedRuntime(Path(folder) / "data", seed=seed_path, save_state=durable, concurrency=concurrency,
                             parameters={"ApprovalPolicy": "never"},
                             function_log=Path(folder) / "functions.log") as runtime:
            boot = time.perf_counter() - started
            for number in range(1 + warm_rounds):
                if number:  # `count` more orders, created after everything round 1 stored
                    now = datetime.now(timezone.utc)
                    orders, subscriptions = demo_like_orders(load_seed()["marketplace"], count,
                                                             lambda index: now - timedelta(seconds=90 + index),
                                                             first=count * number)
                    runtime.marketplace.add_subscriptions(subscriptions)
                    runtime.marketplace.add_orders(orders)
                rounds.append(_round(runtime, count, timeout, floor, floor_cpu))
            journal_writes = runtime.durable.writes if runtime.durable else 0
    first = rounds[0]
    return {"tasks": first["tasks"], "concurrency": concurrency, "durable": durable, "boot_s": round(boot, 2),
            "service_check_s": round(floor, 2), "service_check_cpu_s": round(floor_cpu, 2), **first,
            "journal_writes": journal_writes,
            "load_average_1min": round(__import__("os").getloadavg()[0], 1),
            "warm_rounds": rounds[1:]}


def _round(runtime, count: int, timeout: float, floor: float, floor_cpu: float) -> dict:
    """One check of `count` new orders and the time until every task has settled."""
    invocations_before = len(runtime.dispatcher.invocations)
    t0, cpu0 = time.perf_counter(), cpu_seconds()
    result = runtime.check()
    check_seconds, check_cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
    tasks = runtime.wait_until_settled(timeout=timeout, poll=1.0)
    total, total_cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
    calls = runtime.dispatcher.invocations[invocations_before:]
    outcomes = Counter(task["status"] for task in tasks)
    reasons = Counter(task.get("reason") for task in tasks if task["status"] != "synced")
    return {"new_tasks": len(result.get("newTasks") or []) if isinstance(result, dict) else None,
            "tasks": len(tasks), "check_s": round(check_seconds, 2),
            "check_ratio_to_service": round(check_seconds / floor, 2), "check_cpu_s": round(check_cpu, 2),
            "check_cpu_ratio_to_service": round(check_cpu / floor_cpu, 2),
            "settled_s": round(total, 2), "tasks_per_minute": round(count / total * 60, 1),
            "cpu_s": round(total_cpu, 2), "cpu_ms_per_task": round(1000 * total_cpu / max(1, count), 1),
            # one interpreter: at most one core; on an idle machine the runtime would reach about this
            "cpu_bound_tasks_per_minute": round(60 * count / max(total_cpu, 1e-9), 1),
            "load_average_1min": round(__import__("os").getloadavg()[0], 1),
            "invocations": len(calls), "handler_s": round(sum(call["seconds"] for call in calls), 2),
            "outcomes": dict(outcomes), "check": result if count <= 20 else None,
            "other_reasons": dict(reasons.most_common(3))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--durable", action="store_true", help="keep the table on disk, as cwsync run does")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--warm-rounds", type=int, default=1, help="rounds with the functions loaded (default 1)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    for name in ("werkzeug", "moto"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    warnings.filterwarnings("ignore")
    print(json.dumps(run(args.tasks, args.timeout, concurrency=args.concurrency, durable=args.durable,
                         warm_rounds=args.warm_rounds),
                     indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
