"""The table on disk: `<data-dir>/dynamodb.json` (snapshot) + `dynamodb.journal` (every write since).

Every DynamoDB write the functions make is acknowledged only after its new state is on
disk: `DurableTable.record` runs inside moto's gate (moto_gate) before the answer returns,
appends one JSON line per touched item (`{"key": …, "item": … | null}`, the whole item as
it is now, so replaying a line twice does no harm) and flushes it with `os.fsync`.
A SIGKILL at any moment therefore loses nothing that was acknowledged.

Why a journal and not a full save per write: a snapshot of 10,000 items is megabytes, a
journal line is the size of one item. On start (`load`) and stop (`compact`) the journal
is folded into a new snapshot (written to a temporary file and renamed, then the journal
emptied; a crash between the two replays lines that are already in the snapshot).
Items are DynamoDB's typed JSON (`{"S": ...}`, `{"N": ...}`): numbers and sets round-trip exactly.
"""
from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from . import moto_gate

FORMAT = "cwsync-dynamodb/1"
SNAPSHOT = "dynamodb.json"
JOURNAL = "dynamodb.journal"
COMPACT_BYTES = 32 * 1024 * 1024  # fold the journal into the snapshot when it grows past this
KEY_NAMES = ("PK", "SK")


def _key_id(key: dict) -> str:
    return json.dumps({name: key.get(name) for name in KEY_NAMES}, sort_keys=True)


def read_items(data_dir: str | Path) -> list[dict] | None:
    """The saved items (snapshot with the journal applied), sorted by key; None when nothing is saved."""
    folder = Path(data_dir)
    snapshot, journal = folder / SNAPSHOT, folder / JOURNAL
    if not snapshot.exists() and not journal.exists():
        return None
    items: dict[str, dict] = {}
    if snapshot.exists():
        try:
            data = json.loads(snapshot.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise SystemExit(f"{snapshot} is not valid JSON ({error}); move it away to start afresh") from None
        for item in (data.get("items", []) if isinstance(data, dict) else []):
            items[_key_id(item)] = item
    if journal.exists():
        lines = journal.read_bytes().split(b"\n")
        for number, line in enumerate(lines):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                if number >= len(lines) - 2:
                    break  # the last line, cut short by a kill while it was written: never acknowledged
                raise SystemExit(f"{journal} line {number + 1} is damaged; move the file away to start "
                                 "from the snapshot") from None
            if entry.get("item") is None:
                items.pop(_key_id(entry["key"]), None)
            else:
                items[_key_id(entry["key"])] = entry["item"]
    return [items[key] for key in sorted(items)]


def write_snapshot(data_dir: str | Path, items: list[dict]) -> None:
    folder = Path(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SNAPSHOT
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        json.dump({"format": FORMAT, "items": items}, handle, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


class DurableTable:
    """Keeps one moto table on disk; `load(client)` at start, `record` per write, `compact()` at stop."""

    def __init__(self, data_dir: str | Path, table_name: str, region: str, *, fsync: bool = True):
        self.data_dir = Path(data_dir)
        self.table_name = table_name
        self.region = region
        self.fsync = fsync
        self.writes = 0  # journal appends (for benchmarks)
        self._fd: int | None = None
        self._bytes = 0
        self._lock = threading.Lock()

    def load(self, client) -> int:
        """Put the saved items into the (empty) table, then compact; returns how many."""
        items = read_items(self.data_dir) or []
        for start in range(0, len(items), 25):
            pending = {self.table_name: [{"PutRequest": {"Item": item}} for item in items[start:start + 25]]}
            while pending:
                pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
        self.compact()
        return len(items)

    def record(self, table_name: str, keys: list[dict]) -> None:
        """The gate's hook: append the touched items' current state (moto_gate.lock is held)."""
        if table_name != self.table_name:
            return
        entries = moto_gate.current_items(table_name, keys, KEY_NAMES, self.region)
        data = "".join(json.dumps({"key": key, "item": item}) + "\n" for key, item in entries).encode("utf-8")
        with self._lock:
            if self._fd is None:
                self.data_dir.mkdir(parents=True, exist_ok=True)
                self._fd = os.open(self.data_dir / JOURNAL, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            os.write(self._fd, data)
            if self.fsync:
                os.fsync(self._fd)
            self.writes += 1
            self._bytes += len(data)
            if self._bytes > COMPACT_BYTES:
                self._compact_locked()

    def compact(self) -> int:
        """Fold the journal into a new snapshot of the table as it is now; returns the item count."""
        with moto_gate.lock, self._lock:
            return self._compact_locked()

    def _compact_locked(self) -> int:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.dynamodb.models import dynamodb_backends

        table = dynamodb_backends[DEFAULT_ACCOUNT_ID][self.region].get_table(self.table_name)
        items = [moto_gate.typed_json(item) for item in table.all_items()]
        items.sort(key=_key_id)
        write_snapshot(self.data_dir, items)
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        (self.data_dir / JOURNAL).unlink(missing_ok=True)
        self._bytes = 0
        return len(items)

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
