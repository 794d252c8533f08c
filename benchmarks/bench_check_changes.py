"""Benchmark: Check Changes over many marketplace orders (simulator over HTTP, DynamoDB on moto).

    python -m benchmarks check_changes [--orders 1000,10000] [--customers 5000] [--latency-ms 50]
                                       [--concurrency 8] [--tracemalloc] [--invocation-seconds 900]
                                       [--first-run-only]

For each size, in one process (simulator thread + moto + the run share one interpreter):
1. download only: list every page (500 a page), then fetch every detail with the same
   number of threads the run uses: the floor any Check Changes run over these orders pays;
2. first run: every order new (list + BatchGetItem per 100 + detail + classify + one
   conditional put marked started + start; a "starts under way" item per batch of 100);
3. second run: every order known (list + BatchGetItem, no detail calls); left out with
   `--first-run-only`.
Reported: wall time and its ratio to (1), marketplace calls (request log), DynamoDB
requests by operation (counted on the client), and max RSS of the process before and after
(it includes the simulator's and moto's data); `--tracemalloc` adds the Python heap peak of
the first run (about 5x slower). The simulator answers each request after `--latency-ms`.
`--invocation-seconds S` gives each run an invocation clock of S seconds (as Lambda's
`get_remaining_time_in_millis`): a run that nears it checkpoints and the benchmark starts the
next one, as the next scheduled invocation would, until the window is done; the number of
invocations and each one's wall time are reported.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import sys
import tempfile
import threading
import time
import tracemalloc
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace


def _orders(count: int, newest: datetime, customers: int) -> list[dict]:
    """`count` completed sales orders, one every 20 s going back from `newest`, spread over
    `customers` customers, in the seed shape."""
    orders = []
    for index in range(count):
        subscription = f"SUB-{index:06d}"
        created = (newest - timedelta(seconds=20 * index)).strftime("%Y-%m-%dT%H:%M:%SZ")
        orders.append({
            "id": str(500000 + index), "orderNumber": f"SO{index:07d}", "type": "sales",
            "customerId": f"{1000048531 + index % customers}", "creationDate": created, "status": "completed",
            "provisioningDate": created,
            "subscriptionId": subscription, "billingModel": "chargeBeforeBillingPeriod",
            "total": {"currency": "USD", "amount": 12.0},
            "products": [{"mpn": "MS-365-BB", "name": "Microsoft 365 Business Basic", "quantity": 2,
                          "billingPeriod": {"type": "month", "duration": 1}, "subscriptionId": subscription,
                          "type": "CREATE"}],
            "details": [{"type": "recurring", "mpn": "MS-365-BB", "quantity": 2,
                         "unitPrice": {"amount": 4.8, "currency": "USD"},
                         "salesUnitPrice": {"amount": 6.0, "currency": "USD"}}],
        })
    return orders


class DynamoCalls:
    """DynamoDB requests by operation, counted as the client sends them (retries not included)."""

    def __init__(self, client):
        self.counts: Counter = Counter()
        self.seconds = 0.0  # wall time inside DynamoDB calls, summed over threads
        self._started = threading.local()
        self._lock = threading.Lock()
        client.meta.events.register("before-call.dynamodb", self._before)
        client.meta.events.register("after-call.dynamodb", self._after)

    def _before(self, model, **kwargs):
        self.counts[model.name] += 1
        self._started.at = time.perf_counter()

    def _after(self, **kwargs):
        elapsed = time.perf_counter() - getattr(self._started, "at", time.perf_counter())
        with self._lock:
            self.seconds += elapsed

    def take(self) -> dict:
        taken = dict(self.counts)
        taken["seconds_in_calls"] = round(self.seconds, 2)
        self.counts.clear()
        self.seconds = 0.0
        return taken


class NoOpWorkflow:
    def __init__(self):
        self.started = 0

    def start(self, task_id: str) -> bool:
        self.started += 1
        return True


def _maxrss_mib() -> float:
    # ru_maxrss is KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _count_calls(log: list[dict]) -> tuple[int, int]:
    lists = sum(1 for r in log if r["path"] == "/orders")
    details = sum(1 for r in log if r["path"].startswith("/orders/"))
    return lists, details


def _invocation_clock(seconds: float | None):
    """A fresh Lambda-like clock per invocation (None: no limit)."""
    if seconds is None:
        return None
    deadline = time.perf_counter() + seconds
    return lambda: int((deadline - time.perf_counter()) * 1000)


def _until_done(check, deps, now, concurrency: int, invocation_seconds: float | None) -> tuple[list, list[float]]:
    """Runs `check` as consecutive invocations until one finishes its window."""
    results, walls = [], []
    while True:
        started = time.perf_counter()
        result = check(deps, now=now, concurrency=concurrency, remaining_ms=_invocation_clock(invocation_seconds))
        walls.append(round(time.perf_counter() - started, 2))
        results.append(result)
        if result.stopped_at is None:
            return results, walls
        print(f"    invocation {len(walls)} stopped near its time limit after {result.stopped_at} listed "
              f"orders ({walls[-1]:.0f} s, {len(result.new_tasks)} new); the next goes on", flush=True)


def run(count: int, *, use_tracemalloc: bool, concurrency: int = 8, customers: int = 5000,
        latency_ms: int = 50, invocation_seconds: float | None = None, second_run: bool = True) -> dict:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    import logging

    logging.getLogger("cwsync").setLevel(logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    import boto3
    from moto import mock_aws

    from cwsync.adapters.http import RetryPolicy
    from cwsync.adapters.marketplace import MarketplaceClient
    from cwsync.adapters.store import Store, create_table
    from cwsync.services.check_changes import check_changes
    from cwsync_local.simulators import marketplace as marketplace_sim
    from cwsync_local.simulators.common import Faults

    now = datetime.now(timezone.utc).replace(microsecond=0)
    numbers: dict = {"orders": count, "customers": customers, "concurrency": concurrency, "latency_ms": latency_ms,
                     "invocation_seconds": invocation_seconds}
    with tempfile.TemporaryDirectory() as folder, mock_aws():
        log_path = Path(folder) / "requests.jsonl"
        seed = {"marketplace": {"orders": _orders(count, now - timedelta(minutes=1), customers)}}
        sim = marketplace_sim.start(seed, request_log=log_path, faults=Faults(latency_ms=latency_ms))
        del seed
        try:
            client = MarketplaceClient.from_secret({"baseUrl": sim.url, **sim.credentials},
                                                   retry=RetryPolicy.fast(), pool_size=max(10, concurrency))
            lookback = timedelta(days=count // 4000 + 2)
            window_from = now - lookback

            # 1. download only, with the run's concurrency
            gc.collect()
            started = time.perf_counter()
            ids = [summary["id"] for summary in client.orders(created_from=window_from, created_to=now)]
            with ThreadPoolExecutor(max_workers=concurrency) as pool:
                for _ in pool.map(client.order, ids):
                    pass
            numbers["download_s"] = time.perf_counter() - started
            numbers["download_calls"] = _count_calls(sim.requests())
            mark = len(sim.requests())

            dynamodb = boto3.client("dynamodb")
            create_table(dynamodb, "bench")
            calls = DynamoCalls(dynamodb)
            calls.take()
            workflow = NoOpWorkflow()
            deps = SimpleNamespace(store=Store("bench", client=dynamodb), marketplace=client, workflow=workflow,
                                   settings=SimpleNamespace(first_run_lookback_days=lookback.days,
                                                            overlap_minutes=lookback.days * 1440))
            rss_before = _maxrss_mib()

            # 2. first run: all new
            gc.collect()
            if use_tracemalloc:
                tracemalloc.start()
            started = time.perf_counter()
            firsts, walls = _until_done(check_changes, deps, now, concurrency, invocation_seconds)
            numbers["first_run_s"] = time.perf_counter() - started
            numbers["first_run_invocations"] = walls
            if use_tracemalloc:
                numbers["first_run_heap_peak_mib"] = tracemalloc.get_traced_memory()[1] / 2 ** 20
                tracemalloc.stop()
            numbers["first_run_calls"] = _count_calls(sim.requests()[mark:])
            numbers["first_run_dynamodb"] = calls.take()
            numbers["first_run_new"] = sum(len(first.new_tasks) for first in firsts)
            numbers["workflows_started"] = workflow.started
            numbers["maxrss_after_first_mib"] = _maxrss_mib()
            mark = len(sim.requests())
            numbers["maxrss_before_runs_mib"] = rss_before
            numbers["ratio_first_to_download"] = numbers["first_run_s"] / numbers["download_s"]
            if not second_run:
                return numbers

            # 3. second run: all known
            started = time.perf_counter()
            seconds, walls = _until_done(check_changes, deps, now + timedelta(minutes=1), concurrency,
                                         invocation_seconds)
            numbers["second_run_s"] = time.perf_counter() - started
            numbers["second_run_invocations"] = walls
            numbers["second_run_calls"] = _count_calls(sim.requests()[mark:])
            numbers["second_run_dynamodb"] = calls.take()
            numbers["second_run_known"] = sum(len(second.already_known) for second in seconds)
            numbers["maxrss_after_runs_mib"] = _maxrss_mib()
        finally:
            sim.stop()
    return numbers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", default="10000", help="sizes, comma-separated (default 10000)")
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--latency-ms", type=int, default=50, help="the simulator's answer delay (default 50)")
    parser.add_argument("--concurrency", type=int, default=8, help="detail reads at once (default 8)")
    parser.add_argument("--tracemalloc", action="store_true", help="also measure the Python heap peak (slower)")
    parser.add_argument("--invocation-seconds", type=float, default=None,
                        help="each run's invocation time limit (e.g. 900 as Lambda's 15 minutes); default none")
    parser.add_argument("--first-run-only", action="store_true",
                        help="leave out the second run (every order known)")
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON lines too")
    args = parser.parse_args(argv)
    print(f"Check changes (simulator over HTTP with {args.latency_ms} ms latency, DynamoDB on moto "
          f"{_moto_version()}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"concurrency {args.concurrency}, {args.customers} customers)", flush=True)
    for size in (int(part) for part in args.orders.split(",")):
        numbers = run(size, use_tracemalloc=args.tracemalloc, concurrency=args.concurrency,
                      customers=args.customers, latency_ms=args.latency_ms,
                      invocation_seconds=args.invocation_seconds, second_run=not args.first_run_only)
        _print(numbers)
        if args.json:
            print(json.dumps(numbers), flush=True)
    return 0


def _print(numbers: dict) -> None:
    n = numbers["orders"]
    print(f"{n} orders:")
    lists, details = numbers["download_calls"]
    print(f"  download only (list + details):  {numbers['download_s']:8.2f} s   "
          f"{lists} list + {details} detail calls  ({numbers['download_s'] / n * 1000:.2f} ms an order)")
    lists, details = numbers["first_run_calls"]
    dynamo = numbers["first_run_dynamodb"]
    print(f"  first run, all new:              {numbers['first_run_s']:8.2f} s   "
          f"{lists} list + {details} detail calls, {numbers['first_run_new']} tasks, "
          f"{numbers['workflows_started']} executions started  ({numbers['first_run_s'] / n * 1000:.2f} ms an order)")
    print(f"    DynamoDB requests: {_requests(dynamo)} {dynamo}")
    print(f"    invocations: {len(numbers['first_run_invocations'])} "
          f"(wall s each: {numbers['first_run_invocations']}, limit {numbers['invocation_seconds'] or 'none'})")
    print(f"  first run / download only:       {numbers['ratio_first_to_download']:8.2f}x")
    if "second_run_calls" not in numbers:
        print(f"  max RSS: {numbers['maxrss_before_runs_mib']:.0f} MiB before the run, "
              f"{numbers['maxrss_after_first_mib']:.0f} MiB after it (whole process: simulator + moto + run)", flush=True)
        return
    lists, details = numbers["second_run_calls"]
    print(f"  second run, all known:           {numbers['second_run_s']:8.2f} s   "
          f"{lists} list + {details} detail calls, {numbers['second_run_known']} already known")
    print(f"    DynamoDB requests: {_requests(numbers['second_run_dynamodb'])} {numbers['second_run_dynamodb']}")
    print(f"  max RSS: {numbers['maxrss_before_runs_mib']:.0f} MiB before the runs, "
          f"{numbers['maxrss_after_first_mib']:.0f} MiB after the first, "
          f"{numbers['maxrss_after_runs_mib']:.0f} MiB after both (whole process: simulator + moto + run)", flush=True)
    if "first_run_heap_peak_mib" in numbers:
        print(f"  Python heap peak during the first run (tracemalloc): {numbers['first_run_heap_peak_mib']:.1f} MiB")


def _requests(counts: dict) -> int:
    return sum(value for key, value in counts.items() if key != "seconds_in_calls")


def _moto_version() -> str:
    import moto

    return moto.__version__


if __name__ == "__main__":
    raise SystemExit(main())
