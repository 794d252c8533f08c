"""DynamoDB items to and from `<data-dir>/dynamodb.json`, so links and history survive restarts.

Items are kept in DynamoDB's typed JSON (`{"S": ...}`, `{"N": ...}`), which round-trips
numbers and sets exactly. Writes are atomic (temp file + rename).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

FORMAT = "cwsync-dynamodb/1"


def save_table(client, table_name: str, path: Path) -> int:
    """Write every item of the table; returns the number of items."""
    items: list[dict] = []
    paginator = client.get_paginator("scan")
    for page in paginator.paginate(TableName=table_name, ConsistentRead=True):
        items.extend(page.get("Items", []))
    items.sort(key=lambda item: (item.get("PK", {}).get("S", ""), item.get("SK", {}).get("S", "")))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps({"format": FORMAT, "items": items}, indent=1), encoding="utf-8")
    os.replace(temporary, path)
    return len(items)


def load_table(client, table_name: str, path: Path) -> int:
    """Put the saved items into the table; returns how many (0 when there is no file)."""
    path = Path(path)
    if not path.exists():
        return 0
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise SystemExit(f"{path} is not valid JSON ({error}); move it away to start afresh") from None
    items = data.get("items", []) if isinstance(data, dict) else []
    for start in range(0, len(items), 25):
        requests = [{"PutRequest": {"Item": item}} for item in items[start:start + 25]]
        pending = {table_name: requests}
        while pending:
            answer = client.batch_write_item(RequestItems=pending)
            pending = answer.get("UnprocessedItems") or {}
    return len(items)
