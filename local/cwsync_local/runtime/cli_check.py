"""`cwsync check`: ask a running `cwsync run` to check the marketplace for changes now."""
from __future__ import annotations

import argparse
import json
import sys

from .cli_common import add_data_dir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_data_dir(parser)
    parser.add_argument("--json", action="store_true", help="print the check's result as JSON")


def run(args: argparse.Namespace) -> int:
    from .console import control_request

    try:
        answer = control_request(args.data_dir, "check", method="POST")
    except RuntimeError as error:
        print(f"The check failed: {error}", file=sys.stderr)
        return 1
    if answer is None:
        print(f"No cwsync is running for {args.data_dir}. Start it with `make run` (or `cwsync run "
              f"--data-dir {args.data_dir}`) in another terminal, then run `cwsync check` again.", file=sys.stderr)
        return 1
    result = answer.get("result")
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    else:
        print(describe_check(result))
        print("Follow the progress in the terminal running cwsync, or with `cwsync tasks`.")
    return 0


def describe_check(result) -> str:
    """The check's own sentence ("Checked 12 orders created since …: 2 new tasks."), the one the
    dashboard shows for the same run."""
    summary = result.get("summary") if isinstance(result, dict) else None
    if isinstance(summary, str) and summary:
        return summary
    return "The check finished without a summary; see what it found with `cwsync tasks`."
