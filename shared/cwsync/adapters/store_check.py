"""Check Changes' own items in the cwsync table: the orders watermark and the run checkpoint.

| item             | PK          | SK          |
|------------------|-------------|-------------|
| orders watermark | WATERMARK   | ORDERS      |  `value`: newest stored order creation time
| run checkpoint   | WATERMARK   | CHECKPOINT  |  where a run that neared its time limit stopped

Both share a partition so a run reads them with one Query (`check_state`). The checkpoint
holds plain values only (ISO times, counts, flags); `cwsync.services.check_budget` gives
them meaning.
"""
from __future__ import annotations

from typing import Any, Mapping

from cwsync.adapters.dynamo_values import (PK, SK, Attr, Key, conditional_write, expression_request,
                                          from_attribute_values, to_attribute_values, without_keys)

CHECK_PK = "WATERMARK"
WATERMARK_SK = "ORDERS"
CHECKPOINT_SK = "CHECKPOINT"
_CHECKPOINT_KEY = {PK: CHECK_PK, SK: CHECKPOINT_SK}


class CheckStateItems:
    """Mixed into `cwsync.adapters.store.Store` (which provides `client` and `table_name`)."""

    client: Any
    table_name: str

    def check_state(self) -> tuple[str | None, dict | None]:
        """(watermark as stored, checkpoint or None), read together in one consistent Query."""
        answer = self.client.query(TableName=self.table_name, ConsistentRead=True,
                                   **expression_request(key=Key(PK).eq(CHECK_PK)))
        watermark, checkpoint = None, None
        for raw in answer.get("Items", []):
            item = from_attribute_values(raw)
            if item.get(SK) == WATERMARK_SK:
                watermark = item.get("value") or None
            elif item.get(SK) == CHECKPOINT_SK:
                checkpoint = without_keys(item)
        return watermark, checkpoint

    def save_checkpoint(self, checkpoint: Mapping[str, Any]) -> None:
        """Write where this run stopped (replaces an older checkpoint of the same window)."""
        self.client.put_item(TableName=self.table_name, Item=to_attribute_values({**checkpoint, **_CHECKPOINT_KEY}))

    def clear_checkpoint(self, window_to: str) -> bool:
        """Delete the checkpoint of the window ending at `window_to`; False if it is gone or another's."""
        return conditional_write(self.client.delete_item, TableName=self.table_name,
                                 Key=to_attribute_values(_CHECKPOINT_KEY),
                                 **expression_request(condition=Attr("windowTo").eq(window_to))).applied
