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
    """Tasks from `<data-dir>/dynamodb.json` (no runtime needed); None when there is no saved state."""
    from cwsync.adapters.store import from_attribute_values

    path = Path(data_dir) / "dynamodb.json"
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    tasks = []
    for raw in data.get("items", []):
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
