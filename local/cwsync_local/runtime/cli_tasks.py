"""`cwsync tasks`: list sync tasks (from a running `cwsync run`, else from the saved state)."""
from __future__ import annotations

import argparse
import sys

from .cli_common import STATUSES, add_data_dir, print_tasks, saved_tasks


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_data_dir(parser)
    parser.add_argument("--status", choices=STATUSES, help="only tasks with this status")
    parser.add_argument("--json", action="store_true",
                        help='print {"tasks": [{"id", "order", "type", "customer", "status", "reason"}]}')


def run(args: argparse.Namespace) -> int:
    from .console import control_request, task_summary

    try:
        answer = control_request(args.data_dir, "tasks", query={"status": args.status} if args.status else None)
    except RuntimeError as error:
        print(f"Could not list the tasks: {error}", file=sys.stderr)
        return 1
    if answer is not None:
        summaries = answer.get("tasks", [])
    else:
        tasks = saved_tasks(args.data_dir, args.status)
        if tasks is None:
            print(f"No saved state in {args.data_dir}: start cwsync with `make run` (or `cwsync run`) first.",
                  file=sys.stderr)
            return 1
        summaries = [task_summary(task) for task in tasks]
    print_tasks(summaries, as_json=args.json)
    return 0
