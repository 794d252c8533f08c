"""Benchmark: sync tasks through the steps against ConnectWise throttled at its limit.

    python -m benchmarks throttle [--tasks 1000] [--limit 1000] [--workers 16]

The ConnectWise simulator answers 429 with Retry-After past `--limit` requests a minute;
`--workers` concurrent executions (threads, each with its own clients as Lambda containers
have) share one token bucket in the table (`cwsync.adapters.rate_limit`), DynamoDB on moto.
The tasks are demo-like sales orders that need no person (`cwsync_local.loadtest`). This
runs the step services as Step Functions would, without the embedded runtime.
Reports: tasks by outcome, ConnectWise requests and 429s, the longest run of refusals of
one request, and the accepted request rate as a share of the limit.
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
    parser.add_argument("--workers", type=int, default=16, help="concurrent executions")
    args = parser.parse_args(argv)
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


if __name__ == "__main__":
    sys.exit(main())
