"""Check Changes' own items in the cwsync table: the orders watermark and the run checkpoint.

| item             | PK          | SK          |
|------------------|-------------|-------------|
| orders watermark | WATERMARK   | ORDERS      |  `value`: newest stored order creation time
| run checkpoint   | WATERMARK   | CHECKPOINT  |  where a run that neared its time limit stopped
| starts under way | WATERMARK   | STARTING#<key> |  `taskIds`, `at`: tasks a run is storing and starting

All share a partition so a run reads them with one Query (`check_items`). The checkpoint
holds plain values only (ISO times, counts, flags); `cwsync.services.check_budget` gives
them meaning. A "starts under way" item is written before a batch's new tasks are stored
and deleted once their executions are started (`cwsync.services.check_starts`).
"""
from __future__ import annotations

from typing import Any, Mapping

from cwsync.adapters.dynamo_values import (PK, SK, Attr, Key, conditional_write, expression_request,
                                          from_attribute_values, to_attribute_values, without_keys)

CHECK_PK = "WATERMARK"
WATERMARK_SK = "ORDERS"
CHECKPOINT_SK = "CHECKPOINT"
STARTING_PREFIX = "STARTING#"
_CHECKPOINT_KEY = {PK: CHECK_PK, SK: CHECKPOINT_SK}


class CheckStateItems:
    """Mixed into `cwsync.adapters.store.Store` (which provides `client` and `table_name`)."""

    client: Any
    table_name: str

    def check_state(self) -> tuple[str | None, dict | None]:
        """(watermark as stored, checkpoint or None), read together in one consistent Query."""
        watermark, checkpoint, _ = self.check_items()
        return watermark, checkpoint

    def check_items(self) -> tuple[str | None, dict | None, list[dict]]:
        """(watermark, checkpoint or None, starts under way as {key, taskIds, at}), one Query."""
        watermark, checkpoint, starts = None, None, []
        request = expression_request(key=Key(PK).eq(CHECK_PK))
        while True:  # one page unless many runs died with starts under way
            answer = self.client.query(TableName=self.table_name, ConsistentRead=True, **request)
            for raw in answer.get("Items", []):
                item = from_attribute_values(raw)
                if item.get(SK) == WATERMARK_SK:
                    watermark = item.get("value") or None
                elif item.get(SK) == CHECKPOINT_SK:
                    checkpoint = without_keys(item)
                elif str(item.get(SK, "")).startswith(STARTING_PREFIX):
                    starts.append({"key": item[SK][len(STARTING_PREFIX):], **without_keys(item)})
            if not answer.get("LastEvaluatedKey"):
                return watermark, checkpoint, starts
            request = {**request, "ExclusiveStartKey": answer["LastEvaluatedKey"]}

    def begin_starts(self, key: str, task_ids: list[str], at: str) -> None:
        """Before a batch's new tasks are stored: which tasks this run is about to store and start."""
        self.client.put_item(TableName=self.table_name, Item=to_attribute_values(
            {PK: CHECK_PK, SK: STARTING_PREFIX + key, "taskIds": list(task_ids), "at": at}))

    def end_starts(self, key: str) -> None:
        """Every execution of the batch was started (or its task marked not started)."""
        self.client.delete_item(TableName=self.table_name,
                                Key=to_attribute_values({PK: CHECK_PK, SK: STARTING_PREFIX + key}))

    def save_checkpoint(self, checkpoint: Mapping[str, Any]) -> None:
        """Write where this run stopped (replaces an older checkpoint of the same window)."""
        self.client.put_item(TableName=self.table_name, Item=to_attribute_values({**checkpoint, **_CHECKPOINT_KEY}))

    def clear_checkpoint(self, window_to: str) -> bool:
        """Delete the checkpoint of the window ending at `window_to`; False if it is gone or another's."""
        return conditional_write(self.client.delete_item, TableName=self.table_name,
                                 Key=to_attribute_values(_CHECKPOINT_KEY),
                                 **expression_request(condition=Attr("windowTo").eq(window_to))).applied
