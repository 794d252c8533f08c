"""Benchmark: a reconciliation of many subscriptions (both simulators over HTTP, DynamoDB on moto).

    python -m benchmarks.bench_reconcile [--subscriptions 5000] [--latency-ms 50] [--workers 8] [--repair [--one-per-subscription]]

Data: `cwsync_local.data.reconcile_seed.scale_seed` — four subscriptions per customer, one
agreement per company, six in ten subscriptions in step, the rest not billed, with the wrong
quantity or price, or billed twice; customers and products not linked yet (a first connection:
one companies and one catalog listing). Both simulators add `--latency-ms` to every request
(a slow network). Reported: wall time, requests to each system, requests per subscription,
ConnectWise additions listings per agreement (the request-economy rule: at most one).
With `--repair`: the repair tasks a reconciliation with repair stores (one per customer
agreement), and what planning them costs (each task's PlanChanges reads its customer again),
per task and per subscription repaired; `--one-per-subscription` splits the tasks into one per
subscription (the shape before repairs were grouped per customer agreement), for comparison.
"""
from __future__ import annotations

import argparse
import logging
import os
import re
import resource
import sys
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

ADDITIONS = re.compile(r"/finance/agreements/(\d+)/additions$")


class RecordedStarts:
    def __init__(self):
        self.started = []

    def start(self, task_id):
        self.started.append(task_id)
        return True


class NoNotifications:
    def publish(self, subject, message, links=None):
        return {"messageId": None}


def run(subscriptions: int, latency_ms: int, workers: int, repair: bool = False, single: bool = False) -> dict:
    for name, value in {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
                        "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        os.environ.setdefault(name, value)
    for name in ("cwsync", "werkzeug"):
        logging.getLogger(name).setLevel(logging.WARNING)
    import tempfile

    import boto3
    from moto import mock_aws

    from cwsync.adapters.connectwise import ConnectWiseClient
    from cwsync.adapters.http import RetryPolicy
    from cwsync.adapters.marketplace import MarketplaceClient
    from cwsync.adapters.store import Store, create_table
    from cwsync.config import Settings
    from cwsync.services import reconcile_read
    from cwsync.services.deps import Dependencies
    from cwsync.services.reconcile import reconcile
    from cwsync_local.data.reconcile_seed import scale_seed
    from cwsync_local.simulators import connectwise as cw_simulator
    from cwsync_local.simulators import marketplace as mp_simulator
    from cwsync_local.simulators.common import Faults

    now = datetime.now(timezone.utc)
    seed = scale_seed(now.date(), subscriptions)
    folder = Path(tempfile.mkdtemp(prefix="bench-reconcile-"))
    faults = Faults(latency_ms=latency_ms)
    reconcile_read.WORKERS = workers
    with mock_aws():
        client = boto3.client("dynamodb")
        create_table(client, "bench")
        with cw_simulator.start(seed=seed, faults=faults, request_log=folder / "cw.jsonl") as cw, \
                mp_simulator.start(seed=seed, faults=faults, request_log=folder / "mp.jsonl") as mp:
            deps = Dependencies(
                Settings.from_environment({"TABLE_NAME": "bench"}), store=Store("bench", client=client),
                connectwise=ConnectWiseClient.from_secret({"siteUrl": cw.url, **cw_simulator.DEFAULT_CREDENTIALS},
                                                          retry=RetryPolicy.fast()),
                marketplace=MarketplaceClient.from_secret({"baseUrl": mp.url, **mp_simulator.DEFAULT_CREDENTIALS},
                                                          retry=RetryPolicy.fast()),
                notifier=NoNotifications(), workflow=RecordedStarts(), clock=lambda: now)
            start_cw, start_mp = len(cw.requests()), len(mp.requests())
            started = time.perf_counter()
            report = reconcile(deps, repair=False)
            seconds = time.perf_counter() - started
            cw_log, mp_log = cw.requests()[start_cw:], mp.requests()[start_mp:]
            repaired = plan_repairs(deps, cw, mp, single) if repair else {}
    cw_reads = [e for e in cw_log if "/login/companyinfo/" not in e["path"]]
    listings = Counter(m.group(1) for e in cw_reads for m in [ADDITIONS.search(e["path"])] if m)
    agreements = len(seed["connectwise"]["agreements"])
    return {"subscriptions": subscriptions, "latency_ms": latency_ms, "workers": workers, "seconds": seconds,
            "connectwise_requests": len(cw_reads), "marketplace_requests": len(mp_log),
            "per_subscription_cw": len(cw_reads) / subscriptions, "per_subscription_mp": len(mp_log) / subscriptions,
            "agreements": agreements, "additions_listings": sum(listings.values()),
            "max_listings_per_agreement": max(listings.values()) if listings else 0,
            "checked": report["totals"]["subscriptionsChecked"], "in_step": report["totals"]["inStep"],
            "differences": report["totals"]["differences"],
            "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, **repaired}


def plan_repairs(deps, cw, mp, single: bool) -> dict:
    """Store the repair tasks (not run) and plan each as its PlanChanges does, counting the requests."""
    from cwsync.services import reconcile as service
    from cwsync.services.reconcile import reconcile, reconcile_plan, task_subscriptions

    if single:
        grouped = service.repair_groups
        service.repair_groups = lambda findings, busy=(): [
            [f for f in group if f.subscription.id == sub]
            for group in grouped(findings, busy) for sub in dict.fromkeys(f.subscription.id for f in group)]

    result = reconcile(deps, repair=True)
    tasks = [deps.store.get_task(task_id) for task_id in result["tasks"]]
    start_cw, start_mp = len(cw.requests()), len(mp.requests())
    started = time.perf_counter()
    operations = 0
    for task in tasks:
        chosen = {**task, "agreementId": task.get("targetAgreementId")}  # as SelectAgreement checks it
        operations += len(reconcile_plan(deps, chosen)["operations"])
    seconds = time.perf_counter() - started
    cw_reads = [e for e in cw.requests()[start_cw:] if "/login/companyinfo/" not in e["path"]]
    mp_reads = mp.requests()[start_mp:]
    repaired = sum(len(task_subscriptions(task)) for task in tasks)
    return {"repair_tasks": len(tasks), "repaired_subscriptions": repaired, "repair_operations": operations,
            "plan_seconds": seconds, "plan_cw_requests": len(cw_reads), "plan_mp_requests": len(mp_reads)}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_reconcile", description=__doc__)
    parser.add_argument("--subscriptions", type=int, default=5000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--repair", action="store_true", help="also store the repair tasks and plan each")
    parser.add_argument("--one-per-subscription", action="store_true",
                        help="with --repair: one repair task per subscription, for comparison")
    args = parser.parse_args(argv)
    result = run(args.subscriptions, args.latency_ms, args.workers, args.repair, args.one_per_subscription)
    print(f"reconciled {result['checked']} subscriptions ({result['in_step']} in step, "
          f"{result['differences']} differences) at {result['latency_ms']} ms latency, {result['workers']} workers")
    print(f"  wall time            {result['seconds']:.1f} s")
    print(f"  ConnectWise requests {result['connectwise_requests']} "
          f"({result['per_subscription_cw']:.3f} per subscription; {result['additions_listings']} additions "
          f"listings for {result['agreements']} agreements, at most {result['max_listings_per_agreement']} each)")
    print(f"  marketplace requests {result['marketplace_requests']} ({result['per_subscription_mp']:.3f} per subscription)")
    print(f"  peak memory          {result['max_rss_mib']:.0f} MiB (process, simulators and moto included)")
    if "repair_tasks" in result:
        tasks, subs = result["repair_tasks"], max(result["repaired_subscriptions"], 1)
        print(f"  repair tasks         {tasks} for {result['repaired_subscriptions']} subscriptions "
              f"({result['repair_operations']} planned writes)")
        print(f"  planning them        {result['plan_seconds']:.1f} s; ConnectWise {result['plan_cw_requests']} requests "
              f"({result['plan_cw_requests'] / max(tasks, 1):.1f} per task, {result['plan_cw_requests'] / subs:.2f} per "
              f"subscription), marketplace {result['plan_mp_requests']} "
              f"({result['plan_mp_requests'] / subs:.2f} per subscription)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
