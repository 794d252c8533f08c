"""Billing-safety fault campaign: tasks of every type through `cwsync run`, killed and restarted, under faults.

    python -m benchmarks billing_safety [--tasks 200] [--kills 10] [--seed 9] [--fail-rate 0.05]
                                        [--commit-then-fail-rate 0.15] [--latency-ms 2] [--throttle 2400]

Each task has its own customer, company and agreement; existing additions are tagged by
cwsync or typed by hand; an approver confirms every plan through its notification link and
edits prices (change orders) and charge descriptions (billing orders) on half of them.
`cwsync run` runs as its own process and is stopped `--kills` times at seeded moments
(mostly SIGKILL, sometimes Ctrl-C) and started again; `--seed` fixes those moments and the
simulators' fault sequence. Prints the figures as a table: tasks synced, failed with a
stated reason, stops and restarts, duplicate writes, missing writes, and how many agreements
hold exactly the state computed from the scenario (see cwsync_local.campaign).
"""
from __future__ import annotations

import argparse
import logging
import sys
import warnings


def main(argv: list[str] | None = None) -> int:
    from cwsync_local.campaign import DEFAULT_FAULTS, DEFAULT_KILLS
    from cwsync_local.campaign_run import run_campaign

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--kills", type=int, default=DEFAULT_KILLS, help="stops of the runtime (SIGKILL or Ctrl-C)")
    parser.add_argument("--timeout", type=float, default=5400)
    parser.add_argument("--fail-rate", type=float, default=DEFAULT_FAULTS["fail_rate"])
    parser.add_argument("--commit-then-fail-rate", type=float, default=DEFAULT_FAULTS["commit_then_fail_rate"])
    parser.add_argument("--latency-ms", type=int, default=DEFAULT_FAULTS["latency_ms"])
    parser.add_argument("--throttle", type=int, default=DEFAULT_FAULTS["throttle"])
    parser.add_argument("--seed", type=int, default=DEFAULT_FAULTS["random_seed"],
                        help="fixes the stop moments and the fault sequence")
    parser.add_argument("--keep", metavar="FOLDER", help="run in FOLDER and keep it (logs, data folder, simulator state)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")
    faults = {"fail_rate": args.fail_rate, "commit_then_fail_rate": args.commit_then_fail_rate,
              "latency_ms": args.latency_ms, "throttle": args.throttle, "random_seed": args.seed}
    result = run_campaign(args.tasks, kills=args.kills, faults=faults, timeout=args.timeout, folder=args.keep)
    print(f"faults: {faults}; stops planned: {args.kills}")
    print(result.table())
    for reason, count in result.failed_reasons.most_common():
        print(f"failed ×{count}: {reason}")
    for line in result.partial:
        print(f"NOT AS EXPECTED: {line}")
    ok = not (result.duplicate_writes or result.missing_writes or result.extra_live or result.partial
              or result.asked_again or result.open_tasks)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
