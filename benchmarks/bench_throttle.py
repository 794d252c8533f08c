"""Benchmark: sync tasks against ConnectWise throttled at its limit.

    python -m benchmarks throttle --runtime [--tasks 1000] [--limit 1000] [--concurrency 8]
                                  [--simulator-process] [--durable] [--timeout 3600]
    python -m benchmarks throttle [--tasks 1000] [--limit 1000] [--workers 16]

The ConnectWise simulator answers 429 with Retry-After past `--limit` requests in any 60 s.
The tasks are demo-like sales orders that need no person (`cwsync_local.loadtest`).

`--runtime`: the tasks go through the embedded runtime as `cwsync run` runs them (the real
template, moto's Step Functions, the real handlers, `--concurrency` steps at once, the
shared token bucket in the table at `--limit`, `Retry-After` honoured), against the
ConnectWise simulator given to the runtime as a configured ConnectWise
(`cwsync_local.runtime_load`). It serves from a thread of the benchmark's process, or with
`--simulator-process` from its own process (the real ConnectWise has its own CPU), so the
runtime's process does not also pay for the simulator. `--durable` keeps the table on disk
as `cwsync run` does. Reports: tasks by outcome (and any reason blaming the throttling),
ConnectWise requests, 429s, the longest run of refusals of one request, the accepted
requests a minute as a ratio to the limit over the whole window (from the first to the last
ConnectWise request of the sync; API discovery left out) and over the steady window (from
the end of the check, when every task has been stored and started, to the last request),
each whole minute's count, time waiting for tokens, tasks a minute, CPU per task and per
request (so the most this process could send when CPU-bound), the simulator process's CPU,
the load average, and whether each task's addition is in ConnectWise once.

Without `--runtime`: `--workers` concurrent executions (threads, each with its own clients
as Lambda containers have) run the step services in the state machine's order, without the
embedded runtime, sharing one token bucket in the table (DynamoDB on moto).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--limit", type=int, default=1000, help="ConnectWise requests a minute")
    parser.add_argument("--workers", type=int, default=16, help="concurrent executions (without --runtime)")
    parser.add_argument("--runtime", action="store_true", help="through the embedded runtime")
    parser.add_argument("--concurrency", type=int, default=8, help="steps at once in the runtime")
    parser.add_argument("--simulator-process", action="store_true",
                        help="the ConnectWise simulator in its own process (with --runtime)")
    parser.add_argument("--durable", action="store_true", help="keep the table on disk (with --runtime)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds to wait for every task (--runtime)")
    args = parser.parse_args(argv)
    if args.runtime:
        return through_runtime(args)
    for name, value in (("AWS_DEFAULT_REGION", "us-east-1"), ("AWS_ACCESS_KEY_ID", "testing"),
                        ("AWS_SECRET_ACCESS_KEY", "testing"), ("POWERTOOLS_LOG_LEVEL", "ERROR")):
        os.environ.setdefault(name, value)
    logging.disable(logging.WARNING)
    import boto3
    from moto import mock_aws

    from cwsync.adapters.store import create_table
    from cwsync_local.loadtest import atomic_moto_dynamodb, demo_like_seed, run_tasks
    from cwsync_local.simulators.common import Faults

    with mock_aws(), atomic_moto_dynamodb():  # item writes atomic, as in DynamoDB
        dynamodb = boto3.client("dynamodb")
        create_table(dynamodb, "bench")
        run = run_tasks(dynamodb, "bench", demo_like_seed(args.tasks), workers=args.workers,
                        per_minute=args.limit, faults=Faults(throttle=args.limit))
    summary = run.summary()
    summary["limit_per_minute"] = args.limit
    summary["accepted_share_of_limit"] = round(summary["accepted_per_minute"] / args.limit, 3)
    summary["tasks_per_minute"] = round(run.tasks / run.seconds * 60, 1)
    print(json.dumps(summary, indent=2))
    return 0


def through_runtime(args: argparse.Namespace) -> int:
    import tempfile
    import warnings
    from pathlib import Path

    from cwsync_local.loadtest import demo_like_seed
    from cwsync_local.runtime_load import run_through_runtime

    logging.basicConfig(level=logging.ERROR)
    for name in ("werkzeug", "moto"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    warnings.filterwarnings("ignore")
    with tempfile.TemporaryDirectory(prefix="cwsync-throttle-") as folder:
        run = run_through_runtime(demo_like_seed(args.tasks), args.limit, Path(folder), concurrency=args.concurrency,
                                  separate=args.simulator_process, durable=args.durable, timeout=args.timeout)
    summary = run.summary()
    added = run.added_once("MP-SUB-B")
    summary["additions"] = {"tagged": len(added), "more_than_once": sum(1 for n in added.values() if n > 1)}
    print(json.dumps(summary, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
