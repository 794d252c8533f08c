"""`cwsync reconcile`: compare every marketplace subscription with ConnectWise billing.

Talks to a running `cwsync run` for the same data folder when there is one; otherwise
starts the embedded runtime itself (as `cwsync run --once` does), runs the Reconcile
function, prints the report and, with `--repair`, waits until each repair task is applied
or waiting for a person (approve it from the link, then `cwsync run` carries on).
"""
from __future__ import annotations

import argparse
import json
import sys

from .cli_common import add_data_dir, parse_parameters


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_data_dir(parser)
    parser.add_argument("--customer", metavar="ID", help="only this marketplace customer's subscriptions")
    parser.add_argument("--json", action="store_true", help="print the report as JSON (docs/RECONCILIATION.md)")
    parser.add_argument("--repair", action="store_true",
                        help="also start the repair tasks, one per customer agreement with differences "
                             "(confirmed per approval policy)")
    parser.add_argument("--seed", metavar="FILE", help="simulator seed data (default: the demo data; docs/SEED.md)")
    parser.add_argument("--config", metavar="FILE",
                        help="JSON file with real endpoints and parameters (default: <data-dir>/config.json)")
    parser.add_argument("--parameter", action="append", metavar="NAME=VALUE", default=[],
                        help="override a template parameter, e.g. ApprovalPolicy=always (repeatable)")
    parser.add_argument("--timeout", type=float, default=300, metavar="SECONDS",
                        help="with --repair: how long to wait for the repair tasks (default: %(default)s)")


def run(args: argparse.Namespace) -> int:
    from .cli_run import _quiet_libraries
    from .embedded import EmbeddedRuntime, control_request

    _quiet_libraries()
    parameters = parse_parameters(args.parameter)
    query = {**({"customerId": args.customer} if args.customer else {}), **({"repair": "true"} if args.repair else {})}
    try:
        answer = control_request(args.data_dir, "reconciliation", method="POST", query=query, timeout=3600)
    except RuntimeError as error:
        print(f"The reconciliation failed: {error}", file=sys.stderr)
        return 1
    if answer is not None:
        result = answer.get("result") or {}
    else:
        say = (lambda line: print(line, file=sys.stderr, flush=True))
        runtime = EmbeddedRuntime(args.data_dir, seed=args.seed, parameters=parameters, config=args.config,
                                  schedule=False, echo=None if args.json else say,
                                  function_log=f"{args.data_dir}/functions.log")
        try:
            try:
                runtime.start()
            except ValueError as error:
                print(f"cwsync cannot start: {error}", file=sys.stderr)
                return 2
            try:
                result = runtime.reconcile(args.customer, repair=True if args.repair else None)
            except RuntimeError as error:
                print(f"The reconciliation failed: {error}", file=sys.stderr)
                return 1
            if result.get("tasks"):
                try:
                    runtime.wait_until_settled(timeout=args.timeout)
                except TimeoutError as error:
                    print(f"Gave up waiting for the repair tasks: {error}", file=sys.stderr)
                if not args.json:
                    runtime.report_progress()
        finally:
            runtime.stop()
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    else:
        print_report(result)
    return 0


def print_report(result: dict) -> None:
    totals = result.get("totals") or {}
    print(f"{totals.get('subscriptionsChecked', 0)} subscription(s) checked: {totals.get('inStep', 0)} in step, "
          f"{totals.get('withDifferences', 0)} with differences ({totals.get('differences', 0)} in all).")
    for label, key in (("Not billed", "notBilledPerMonth"), ("Billed too much", "overBilledPerMonth")):
        amounts = totals.get(key) or {}
        if amounts:
            print(f"{label} a month: " + ", ".join(f"{amount} {currency}" for currency, amount in amounts.items()))
    rows = [(d.get("customer") or "", d.get("subscriptionId") or "", d.get("label") or d.get("kind"),
             f"{d.get('impactPerPeriod')} {d.get('currency')}", d.get("explanation") or "")
            for d in result.get("differences") or []]
    if rows:
        headers = ("CUSTOMER", "SUBSCRIPTION", "DIFFERENCE", "A PERIOD")
        widths = [max(len(headers[i]), *(len(str(row[i])) for row in rows)) for i in range(4)]
        print()
        print("  ".join(h.ljust(w) for h, w in zip(headers, widths)) + "  WHAT")
        for row in rows:
            print("  ".join(str(c).ljust(w) for c, w in zip(row[:4], widths)) + "  " + row[4])
    for problem in result.get("problems") or []:
        print(f"Not compared: subscription {problem.get('subscriptionId')}: {problem.get('problem')}")
    if result.get("tasks"):
        print(f"\nStarted {len(result['tasks'])} repair task(s): " + ", ".join(result["tasks"]))
        print("Each waits for confirmation per the approval policy; see `cwsync tasks`.")
