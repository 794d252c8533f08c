"""Arguments and output shared by `cwsync run`, `cwsync check` and `cwsync tasks`."""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Iterable, Mapping

from cwsync.vocabulary import TaskStatus

DEFAULT_DATA_DIR = ".cwsync"
STATUSES = tuple(TaskStatus)


def add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", default=DEFAULT_DATA_DIR, metavar="DIR",
                        help="where state, outbox and logs are kept (default: %(default)s)")


def parse_parameters(pairs: Iterable[str] | None) -> dict[str, str]:
    """`NAME=VALUE` strings to a dict; a malformed one is a usage error."""
    values: dict[str, str] = {}
    for pair in pairs or ():
        name, separator, value = pair.partition("=")
        if not separator or not name.strip():
            raise SystemExit(f"--parameter expects NAME=VALUE, got {pair!r}")
        values[name.strip()] = value.strip()
    return values


def saved_tasks(data_dir: str | Path, status: str | None = None) -> list[dict] | None:
    """Tasks saved in `<data-dir>` (no runtime needed); None when there is no saved state."""
    from cwsync.adapters.store import from_attribute_values

    from .state import read_items

    items = read_items(data_dir)
    if items is None:
        return None
    tasks = []
    for raw in items:
        item = from_attribute_values(raw)
        if item.get("SK") != "TASK" or not str(item.get("PK", "")).startswith("TASK#"):
            continue
        if status and item.get("status") != status:
            continue
        tasks.append(item)
    tasks.sort(key=lambda task: str(task.get("updatedAt", "")), reverse=True)
    return tasks


def print_tasks(summaries: list[Mapping[str, Any]], *, as_json: bool) -> None:
    if as_json:
        from cwsync.adapters.store import to_plain

        print(json.dumps({"tasks": [to_plain(dict(s)) for s in summaries]}, indent=2, default=str))
        return
    if not summaries:
        print("No tasks.")
        return
    rows = [(str(s.get("order") or s.get("id")), str(s.get("type") or ""), str(s.get("customer") or ""),
             str(s.get("status") or ""), str(s.get("reason") or "")) for s in summaries]
    headers = ("ORDER", "TYPE", "CUSTOMER", "STATUS", "REASON")
    widths = [max(len(headers[i]), *(len(row[i]) for row in rows)) for i in range(4)]
    print("  ".join(h.ljust(w) for h, w in zip(headers[:4], widths)) + "  " + headers[4])
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row[:4], widths)) + "  " + row[4])


class Console:
    """Prints lines; once the output is gone (a closed pipe, a vanished terminal) it stays quiet,
    so nothing that prints can stop cwsync or skip a save."""

    def __init__(self, stream):
        self.stream = stream
        self.closed = False

    def __call__(self, line: str) -> None:
        if self.closed:
            return
        try:
            print(line, file=self.stream, flush=True)
        except (OSError, ValueError):  # BrokenPipeError, EIO, a closed file
            self.closed = True
            quiet_closed_output(self.stream)


def quiet_closed_output(stream) -> None:
    """Point a closed stream's file descriptor at /dev/null, so no later write or flush complains."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
