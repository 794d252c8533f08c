"""DynamoDB requests and capacity units, metered on a boto3 client (benchmarks only).

On-demand DynamoDB bills request units by item size: a write 1 WRU per started KB of the
item (the larger of before and after for an update), written again for each GSI the item
is in; a strongly consistent read 1 RRU per started 4 KB (a query sums the items it
returns). moto does not compute these, so the meter does, from the items themselves: a
write is billed at the item's size when the run ends (items only grow during a task), a
read at the size of what came back (a BatchGetItem with a projection is billed for whole
items; task items stay under 4 KB, so that is 1 RRU either way).
"""
from __future__ import annotations

import json
import math
import threading
from collections import Counter, defaultdict
from typing import Any

WRITES = {"PutItem", "UpdateItem", "DeleteItem"}


def item_bytes(item: dict) -> int:
    """About the size DynamoDB counts: attribute names plus values (low-level JSON, close enough)."""
    return sum(len(name) + len(json.dumps(value, separators=(",", ":"))) - 6 for name, value in item.items())


class DynamoMeter:
    """Counts requests by operation and collects what is needed to price them afterwards."""

    def __init__(self, client: Any):
        self.client = client
        self.lock = threading.Lock()
        self.counts: Counter = Counter()
        self.writes: list[tuple[str, str, str]] = []  # (operation, PK, SK)
        self.read_units = 0.0
        self.failed_conditions = 0
        self._request = threading.local()
        client.meta.events.register("before-call.dynamodb", self._before)
        client.meta.events.register("after-call.dynamodb", self._after)

    def _before(self, model, params, **_):
        with self.lock:
            self.counts[model.name] += 1
        self._request.params = params
        self._request.name = model.name

    def _after(self, http_response, parsed, model, **_):
        params = getattr(self._request, "params", {})
        with self.lock:
            if model.name in WRITES:
                key = params.get("Key") or params.get("Item") or {}
                self.writes.append((model.name, key.get("PK", {}).get("S", ""), key.get("SK", {}).get("S", "")))
            elif model.name == "GetItem":
                item = parsed.get("Item")
                self.read_units += _read_units(item_bytes(item) if item else 1, params.get("ConsistentRead"))
            elif model.name == "Query":
                total = sum(item_bytes(i) for i in parsed.get("Items", []))
                self.read_units += _read_units(max(total, 1), params.get("ConsistentRead"))
            elif model.name == "BatchGetItem":
                for items in parsed.get("Responses", {}).values():  # billed per item, at least 1 RRU
                    self.read_units += sum(_read_units(item_bytes(i), True) for i in items)

    def take(self) -> "DynamoMeter.Snapshot":
        with self.lock:
            snapshot = DynamoMeter.Snapshot(dict(self.counts), list(self.writes), self.read_units)
            self.counts.clear()
            self.writes.clear()
            self.read_units = 0.0
        return snapshot

    class Snapshot:
        def __init__(self, counts: dict, writes: list, read_units: float):
            self.counts, self.writes, self.read_units = counts, writes, read_units

        def requests(self) -> int:
            return sum(self.counts.values())

        def write_units(self, sizes: dict[tuple[str, str], tuple[int, bool]]) -> float:
            """WRU of the writes, given {(PK, SK): (bytes, in GSI1)} of the items at the end."""
            units = 0.0
            for _, pk, sk in self.writes:
                size, indexed = sizes.get((pk, sk), (1, False))
                per = math.ceil(size / 1024)
                units += per * (2 if indexed else 1)
            return units


def _read_units(size: int, consistent: bool | None) -> float:
    units = math.ceil(size / 4096)
    return units if consistent else units / 2


def table_sizes(client: Any, table: str) -> dict[tuple[str, str], tuple[int, bool]]:
    """{(PK, SK): (bytes, has GSI1 keys)} of every item now in the table (read without metering)."""
    sizes: dict[tuple[str, str], tuple[int, bool]] = defaultdict(lambda: (1, False))
    paginator = client.get_paginator("scan")
    for page in paginator.paginate(TableName=table):
        for item in page.get("Items", []):
            sizes[(item["PK"]["S"], item["SK"]["S"])] = (item_bytes(item), "GSI1PK" in item)
    return sizes
