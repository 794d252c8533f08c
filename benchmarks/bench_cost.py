"""Benchmark: the monthly AWS bill, from counts measured by the request-economy run.

    python -m benchmarks cost [--tasks 100,1000,10000] [--cw-latency-ms 250]

Runs `benchmarks request_economy` (both rounds of the demo orders through the steps) and
prices each task that needed no person with its measured DynamoDB request units and
ConnectWise requests. Lambda invocations and Step Functions state transitions per task
follow the state machine's path (infra/statemachine/sync_task.asl.json): synced = Start,
LoadTask, TaskLoaded, LinkCustomer, CustomerLinked, LinkProduct, ProductLinked,
SelectAgreement, AgreementSelected, PlanChanges, Planned, ApplyChanges, MarkSynced, Synced
(14 transitions, 7 Lambda invocations); nothing to change = 13 and 6; each approval adds the
Await state and the step again (+2 transitions, +2 invocations: RequestApproval and the
step). Lambda time in AWS is modelled as the measured local time of the steps plus
`--cw-latency-ms` per ConnectWise request and 6 ms per DynamoDB request (the local
simulators answer in about a millisecond), at the template's 512 MB on arm64. Every
ConnectWise request also writes the shared rate-limit item once (1 WRU). Each task also
carries its share of the Check Changes run that stored it: the DynamoDB units the
request-economy run's checks measured, divided by the tasks they stored (the Lambda time
of a check is in the scheduled check's line). Prices: us-east-1 list prices (below),
without free tiers.
"""
from __future__ import annotations

import argparse
import statistics
import sys

PRICES = {  # USD, us-east-1 on-demand list prices
    "sfn_transition": 0.025 / 1000,  # Step Functions Standard
    "lambda_request": 0.20 / 1_000_000,
    "lambda_gb_second_arm": 0.0000133334,
    "dynamodb_wru": 0.625 / 1_000_000,  # on-demand write request unit
    "dynamodb_rru": 0.125 / 1_000_000,  # on-demand read request unit
    "secret_month": 0.40,  # Secrets Manager, per secret (3 secrets)
    "logs_gb": 0.50,  # CloudWatch Logs ingestion
}
PATHS = {"synced": (14, 7), "nothing_to_change": (13, 6)}
CHECKS_A_MONTH = 30 * 24 * 4  # rate(15 minutes)
CHECK_SECONDS, CHECK_GB = 1.0, 1769 / 1024  # an idle check: one Query, one list call
LOG_BYTES_A_TASK = 20_000  # about 40 JSON lines of Powertools logs across the steps


def check_share(checks: list[dict]) -> tuple[float, float]:
    """(WRU, RRU) of the measured Check Changes runs per task they stored."""
    stored = sum(check["new"] for check in checks)
    if not stored:
        return 0.0, 0.0
    return (sum(check["wru"] for check in checks) / stored, sum(check["rru"] for check in checks) / stored)


def task_costs(rows: list[dict], cw_latency_s: float, check: tuple[float, float] = (0.0, 0.0)) -> list[dict]:
    costs = []
    for row in rows:
        if row["outcome"] not in PATHS:
            continue
        transitions, invocations = PATHS[row["outcome"]]
        seconds = row["seconds"] + row["cw"] * cw_latency_s + row["dynamodb_requests"] * 0.006
        gb_seconds = seconds * 0.5 + invocations * 0.5 * 0.001  # billed per ms
        wru = row["wru"] + row["cw"] + row["cw_reference"] + check[0]  # + the rate-limit bucket + the check
        rru = row["rru"] + check[1]
        cost = {"sfn": transitions * PRICES["sfn_transition"],
                "lambda": invocations * PRICES["lambda_request"] + gb_seconds * PRICES["lambda_gb_second_arm"],
                "dynamodb": wru * PRICES["dynamodb_wru"] + rru * PRICES["dynamodb_rru"],
                "logs": LOG_BYTES_A_TASK / 1e9 * PRICES["logs_gb"]}
        costs.append({"type": row["type"], "links": "linked" if row["linked"] else "unlinked",
                      "outcome": row["outcome"], "transitions": transitions, "invocations": invocations,
                      "gb_seconds": round(gb_seconds, 3), "wru": round(wru, 2), "rru": round(rru, 2), "cost": cost})
    return costs


def monthly(tasks: int, costs: list[dict]) -> dict:
    parts = {key: statistics.mean(c["cost"][key] for c in costs) * tasks for key in ("sfn", "lambda", "dynamodb", "logs")}
    parts["check_schedule"] = CHECKS_A_MONTH * (PRICES["lambda_request"] + CHECK_SECONDS * CHECK_GB
                                                * PRICES["lambda_gb_second_arm"] + 2 * PRICES["dynamodb_rru"])
    parts["secrets"] = 3 * PRICES["secret_month"]
    parts["total"] = sum(parts.values())
    return parts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default="100,1000,10000")
    parser.add_argument("--cw-latency-ms", type=float, default=250.0)
    args = parser.parse_args(argv)
    import logging

    logging.disable(logging.WARNING)
    from benchmarks.bench_request_economy import run

    result = run(None, 2)
    check = check_share(result["checks"])
    costs = task_costs(result["tasks"], args.cw_latency_ms / 1000, check)
    for run in result["checks"]:
        print(f"check round {run['round']}: {run['new']} tasks stored, {run['dynamodb_requests']} DynamoDB requests, "
              f"{run['wru']} WRU, {run['rru']} RRU")
    print(f"check changes per stored task: {check[0]:.2f} WRU, {check[1]:.2f} RRU (in each task's WRU and RRU below)")
    print("per task (measured counts, modelled Lambda time):")
    print("type          links     outcome            transitions  invocations  GB-s    WRU   RRU   USD")
    for c in costs:
        print(f"{c['type']:<13} {c['links']:<9} {c['outcome']:<18} {c['transitions']:>11}  {c['invocations']:>11}  "
              f"{c['gb_seconds']:>5}  {c['wru']:>5}  {c['rru']:>4}  {sum(c['cost'].values()):.6f}")
    print("\nmonthly bill (USD), the measured mix of tasks:")
    for size in (int(n) for n in args.tasks.split(",")):
        bill = monthly(size, costs)
        parts = ", ".join(f"{k} {v:.2f}" for k, v in bill.items() if k != "total")
        top = max((k for k in bill if k != "total"), key=bill.get)
        print(f"  {size:>6} tasks: {bill['total']:.2f}  ({parts}; largest: {top})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
