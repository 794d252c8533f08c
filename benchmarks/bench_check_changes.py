"""Benchmark: Check Changes over many marketplace orders (simulator over HTTP, DynamoDB on moto).

    python -m benchmarks.bench_check_changes [--orders 10000] [--tracemalloc]

Measures, in one process (simulator thread + moto + the run share one interpreter):
1. download only: list every page (500 a page) and fetch every detail with the same client —
   the floor any Check Changes run over these orders pays;
2. first run: every order new (list + detail + classify + conditional put + start);
3. second run: every order known (list + BatchGetItem, no detail calls);
`--concurrency 1` runs the first run's new orders one at a time (as the download does).
and the ratio of (2) to (1). Peak memory is the process's max RSS (includes the simulator
and moto); `--tracemalloc` also reports the Python heap peak of the first run (slower).
"""
from __future__ import annotations

import argparse
import gc
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace


def _orders(count: int, newest: datetime) -> list[dict]:
    """`count` completed sales orders, one a minute going back from `newest`, in the seed shape."""
    orders = []
    for index in range(count):
        subscription = f"SUB-{index:06d}"
        created = (newest - timedelta(minutes=index)).strftime("%Y-%m-%dT%H:%M:%SZ")
        orders.append({
            "id": str(500000 + index), "orderNumber": f"SO{index:07d}", "type": "sales",
            "customerId": f"{1000048531 + index % 250}", "creationDate": created, "status": "completed",
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


def run(count: int, *, use_tracemalloc: bool, concurrency: int = 8) -> dict:
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

    now = datetime.now(timezone.utc).replace(microsecond=0)
    numbers: dict = {"orders": count, "concurrency": concurrency}
    with tempfile.TemporaryDirectory() as folder, mock_aws():
        log_path = Path(folder) / "requests.jsonl"
        sim = marketplace_sim.start({"marketplace": {"orders": _orders(count, now - timedelta(minutes=1))}},
                                    request_log=log_path)
        try:
            client = MarketplaceClient.from_secret({"baseUrl": sim.url, **sim.credentials},
                                                   retry=RetryPolicy.fast())
            lookback = timedelta(days=count // 1440 + 2)
            window_from = now - lookback

            # 1. download only
            gc.collect()
            started = time.perf_counter()
            ids = [summary["id"] for summary in client.orders(created_from=window_from, created_to=now)]
            for order_id in ids:
                client.order(order_id)
            numbers["download_s"] = time.perf_counter() - started
            numbers["download_calls"] = _count_calls(sim.requests())
            mark = len(sim.requests())

            dynamodb = boto3.client("dynamodb")
            create_table(dynamodb, "bench")
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
            first = check_changes(deps, now=now, concurrency=concurrency)
            numbers["first_run_s"] = time.perf_counter() - started
            if use_tracemalloc:
                numbers["first_run_heap_peak_mib"] = tracemalloc.get_traced_memory()[1] / 2 ** 20
                tracemalloc.stop()
            numbers["first_run_calls"] = _count_calls(sim.requests()[mark:])
            numbers["first_run_new"] = len(first.new_tasks)
            numbers["workflows_started"] = workflow.started
            mark = len(sim.requests())

            # 3. second run: all known
            started = time.perf_counter()
            second = check_changes(deps, now=now + timedelta(minutes=1), concurrency=concurrency)
            numbers["second_run_s"] = time.perf_counter() - started
            numbers["second_run_calls"] = _count_calls(sim.requests()[mark:])
            numbers["second_run_known"] = len(second.already_known)
            numbers["maxrss_before_runs_mib"] = rss_before
            numbers["maxrss_after_runs_mib"] = _maxrss_mib()
            numbers["ratio_first_to_download"] = numbers["first_run_s"] / numbers["download_s"]
        finally:
            sim.stop()
    return numbers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=8, help="new orders handled at once (default 8)")
    parser.add_argument("--tracemalloc", action="store_true", help="also measure the Python heap peak (slower)")
    args = parser.parse_args(argv)
    numbers = run(args.orders, use_tracemalloc=args.tracemalloc, concurrency=args.concurrency)
    n = numbers["orders"]
    print(f"Check changes over {n} orders (simulator over HTTP, DynamoDB on moto {_moto_version()}, "
          f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, concurrency {numbers['concurrency']})")
    lists, details = numbers["download_calls"]
    print(f"  download only (list + details):  {numbers['download_s']:8.2f} s   "
          f"{lists} list + {details} detail calls")
    lists, details = numbers["first_run_calls"]
    print(f"  first run, all new:              {numbers['first_run_s']:8.2f} s   "
          f"{lists} list + {details} detail calls, {numbers['first_run_new']} tasks, "
          f"{numbers['workflows_started']} executions started")
    lists, details = numbers["second_run_calls"]
    print(f"  second run, all known:           {numbers['second_run_s']:8.2f} s   "
          f"{lists} list + {details} detail calls, {numbers['second_run_known']} already known")
    print(f"  first run / download only:       {numbers['ratio_first_to_download']:8.2f}x")
    print(f"  max RSS: {numbers['maxrss_before_runs_mib']:.0f} MiB before the runs, "
          f"{numbers['maxrss_after_runs_mib']:.0f} MiB after (whole process: simulator + moto + run)")
    if "first_run_heap_peak_mib" in numbers:
        print(f"  Python heap peak during the first run (tracemalloc): {numbers['first_run_heap_peak_mib']:.1f} MiB")
    return 0


def _moto_version() -> str:
    import moto

    return moto.__version__


if __name__ == "__main__":
    raise SystemExit(main())
