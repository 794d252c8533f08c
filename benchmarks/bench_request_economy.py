"""Benchmark: requests each sync task costs, per task type, linked and unlinked.

    python -m benchmarks request_economy [--seed FILE] [--rounds 2] [--json]

Both simulators serve the seed (default: the demo data) with request logs; DynamoDB is moto.
One Check Changes run stores a task per order; the tasks then run through the steps one at
a time, oldest order first, with one set of clients (as one warm container would), approval
policy `never`, until each is finished or waits for a person. Round 2 repeats every order
as a new one (new order id and number, same customer, subscription and products), so every
task type is seen once more with its links remembered.

Per task: ConnectWise requests (without the API discovery and the reference data: billing
cycles, currencies, agreement types, which are counted per run), marketplace requests,
DynamoDB requests and request units (`benchmarks/meter.py`). A task is *linked* when its
customer and all its products were linked before it started.
"""
from __future__ import annotations

import argparse
import copy
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

REFERENCE = ("/finance/billingCycles", "/finance/currencies", "/finance/agreements/types")
DISCOVERY = "/login/companyinfo/"
TABLE = "bench"


def cw_kind(entry: dict) -> str:
    path = entry["path"]
    if path.startswith(DISCOVERY):
        return "discovery"
    return "reference" if path.split("/apis/3.0", 1)[-1].rstrip("/") in REFERENCE else "task"


def second_round(seed: dict, now: datetime) -> list[dict]:
    """Every order again as a new one: new id and number, moved in time (order and provisioning
    alike) so the newest is five minutes old, after the watermark the first round left."""
    from cwsync.adapters.store import parse_time

    orders = seed["marketplace"]["orders"]
    shift = now - timedelta(minutes=5) - max(parse_time(o["creationDate"]) for o in orders)
    again = []
    for order in orders:
        clone = copy.deepcopy(order)
        clone["id"] = f"9{order['id']}"
        clone["orderNumber"] = f"{order['orderNumber']}R"
        for name in ("creationDate", "provisioningDate"):
            if clone.get(name):
                clone[name] = (parse_time(clone[name]) + shift).strftime("%Y-%m-%dT%H:%M:%SZ")
        again.append(clone)
    return again


def run(seed_path: str | None, rounds: int) -> dict:
    for name, value in (("AWS_DEFAULT_REGION", "us-east-1"), ("AWS_ACCESS_KEY_ID", "testing"),
                        ("AWS_SECRET_ACCESS_KEY", "testing"), ("POWERTOOLS_LOG_LEVEL", "ERROR")):
        os.environ.setdefault(name, value)
    import boto3
    from moto import mock_aws

    from benchmarks.meter import DynamoMeter, table_sizes
    from cwsync.adapters.connectwise import ConnectWiseClient
    from cwsync.adapters.http import RetryPolicy
    from cwsync.adapters.marketplace import MarketplaceClient
    from cwsync.adapters.store import Store, create_table
    from cwsync.config import Settings
    from cwsync.adapters.mp_orders import read_order
    from cwsync.domain.classify import classify_order
    from cwsync.services.check_changes import check_changes
    from cwsync.services.deps import Dependencies
    from cwsync_local.loadtest import Notifications, run_steps
    from cwsync_local.simulators import connectwise as cw_sim
    from cwsync_local.simulators import marketplace as mp_sim
    from cwsync_local.simulators.common import load_seed

    seed = load_seed(seed_path)
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as folder, mock_aws():
        dynamodb = boto3.client("dynamodb")
        create_table(dynamodb, TABLE)
        meter = DynamoMeter(dynamodb)
        with cw_sim.start(seed, request_log=Path(folder) / "cw.jsonl") as cw, \
                mp_sim.start(seed, request_log=Path(folder) / "mp.jsonl") as mp:
            settings = Settings.from_environment({"TABLE_NAME": TABLE, "APPROVAL_POLICY": "never",
                                                  "CONNECTWISE_REQUESTS_PER_MINUTE": "0",
                                                  "OVERLAP_MINUTES": str(60 * 24 * 60)})  # round 2 re-lists all
            deps = Dependencies(
                settings, store=Store(TABLE, client=dynamodb), notifier=Notifications(),
                connectwise=ConnectWiseClient.from_secret({"siteUrl": cw.url, **cw_sim.DEFAULT_CREDENTIALS},
                                                          retry=RetryPolicy.fast()),
                marketplace=MarketplaceClient.from_secret({"baseUrl": mp.url, **mp.credentials},
                                                          retry=RetryPolicy.fast()),
                workflow=SimpleNamespace(start=lambda task_id: True))
            check_runs = []
            for round_number in range(1, rounds + 1):
                if round_number > 1:
                    mp.add_orders(second_round(seed, datetime.now(timezone.utc)))
                mp_mark, cw_mark = len(mp.requests()), len(cw.requests())
                meter.take()
                stored = check_changes(deps)
                check = meter.take()
                check_runs.append({"round": round_number, "new": len(stored.new_tasks),
                                   "mp_requests": len(mp.requests()) - mp_mark,
                                   "cw_requests": len(cw.requests()) - cw_mark, "dynamodb": check})
                tasks = sorted((deps.store.get_task(t) for t in stored.new_tasks),
                               key=lambda t: (t.get("orderCreatedAt") or "", t["taskId"]))
                for task in tasks:
                    order = task.get("order") or {}
                    mpns = [p.get("mpn") for p in order.get("products") or [] if p.get("mpn")]
                    linked = bool(deps.store.get_customer_link(str(task.get("customerId")))) and all(
                        deps.store.get_product_link(m) for m in mpns)
                    cw_mark, mp_mark = len(cw.requests()), len(mp.requests())
                    meter.take()
                    started = time.perf_counter()
                    try:
                        outcome = run_steps(deps, task["taskId"])
                    except Exception as error:  # noqa: BLE001 - reported, the run goes on
                        outcome = f"failed ({type(error).__name__})"
                    cw_log = cw.requests()[cw_mark:]
                    rows.append({"round": round_number, "order": task.get("orderNumber"),
                                 "type": str(classify_order(read_order(order)).task_type), "linked": linked,
                                 "outcome": outcome,
                                 "cw": sum(1 for e in cw_log if cw_kind(e) == "task"),
                                 "cw_requests": [f"{e['method']} {e['path'].split('/apis/3.0', 1)[-1]} {e['status']}"
                                                 for e in cw_log if cw_kind(e) == "task"],
                                 "cw_reference": sum(1 for e in cw_log if cw_kind(e) == "reference"),
                                 "mp": len(mp.requests()) - mp_mark, "dynamodb": meter.take(),
                                 "seconds": round(time.perf_counter() - started, 3)})
            reference_total = sum(1 for e in cw.requests() if cw_kind(e) == "reference")
            reference_distinct = {e["path"] for e in cw.requests() if cw_kind(e) == "reference"}
        sizes = table_sizes(boto3.client("dynamodb"), TABLE)
    for row in rows:
        snap = row.pop("dynamodb")
        row.update(dynamodb_requests=snap.requests(), rru=snap.read_units, wru=snap.write_units(sizes))
    for check in check_runs:
        snap = check.pop("dynamodb")
        check.update(dynamodb_requests=snap.requests(), rru=snap.read_units, wru=snap.write_units(sizes))
    return {"tasks": rows, "checks": check_runs, "reference_requests_per_run": reference_total,
            "reference_paths": sorted(reference_distinct)}


def by_kind(rows: list[dict]) -> list[dict]:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        groups[(row["type"], "linked" if row["linked"] else "unlinked", row["outcome"])].append(row)
    table = []
    for (kind, linked, outcome), members in sorted(groups.items()):
        table.append({"type": kind, "links": linked, "outcome": outcome, "tasks": len(members),
                      "cw_max": max(r["cw"] for r in members), "cw_median": statistics.median(r["cw"] for r in members),
                      "mp_max": max(r["mp"] for r in members),
                      "dynamodb_median": statistics.median(r["dynamodb_requests"] for r in members),
                      "rru_median": statistics.median(r["rru"] for r in members),
                      "wru_median": statistics.median(r["wru"] for r in members)})
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", help="seed file (default: the demo data)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    result = run(args.seed, args.rounds)
    if args.json:
        print(json.dumps(result, indent=1, default=str))
    print("type          links     outcome            tasks  CW max  CW median  MP max  DDB req  RRU   WRU")
    for row in by_kind(result["tasks"]):
        print(f"{row['type']:<13} {row['links']:<9} {row['outcome']:<18} {row['tasks']:>5}  {row['cw_max']:>6}  "
              f"{row['cw_median']:>9}  {row['mp_max']:>6}  {row['dynamodb_median']:>7}  {row['rru_median']:>4}  "
              f"{row['wru_median']:>4}")
    for check in result["checks"]:
        print(f"check round {check['round']}: {check['new']} new tasks, {check['mp_requests']} marketplace, "
              f"{check['cw_requests']} ConnectWise, {check['dynamodb_requests']} DynamoDB requests, "
              f"{check['rru']} RRU, {check['wru']} WRU")
    print(f"reference data: {result['reference_requests_per_run']} requests in the whole run "
          f"({', '.join(result['reference_paths'])})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
