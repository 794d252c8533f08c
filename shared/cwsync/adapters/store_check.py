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

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

CHECK_PK = "WATERMARK"
WATERMARK_SK = "ORDERS"
CHECKPOINT_SK = "CHECKPOINT"
_CHECKPOINT_KEY = {"PK": CHECK_PK, "SK": CHECKPOINT_SK}
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _plain(values: Mapping[str, Any]) -> dict:
    return {k: _serializer.serialize(v) for k, v in values.items()}


class CheckStateItems:
    """Mixed into `cwsync.adapters.store.Store` (which provides `client` and `table_name`)."""

    client: Any
    table_name: str

    def check_state(self) -> tuple[str | None, dict | None]:
        """(watermark as stored, checkpoint or None), read together in one consistent Query."""
        answer = self.client.query(
            TableName=self.table_name, KeyConditionExpression="PK = :pk", ConsistentRead=True,
            ExpressionAttributeValues=_plain({":pk": CHECK_PK}))
        watermark, checkpoint = None, None
        for raw in answer.get("Items", []):
            item = {k: _deserializer.deserialize(v) for k, v in raw.items()}
            if item.get("SK") == WATERMARK_SK:
                watermark = item.get("value") or None
            elif item.get("SK") == CHECKPOINT_SK:
                checkpoint = {k: v for k, v in item.items() if k not in ("PK", "SK")}
        return watermark, checkpoint

    def save_checkpoint(self, checkpoint: Mapping[str, Any]) -> None:
        """Write where this run stopped (replaces an older checkpoint of the same window)."""
        self.client.put_item(TableName=self.table_name, Item=_plain({**checkpoint, **_CHECKPOINT_KEY}))

    def clear_checkpoint(self, window_to: str) -> bool:
        """Delete the checkpoint of the window ending at `window_to`; False if it is gone or another's."""
        try:
            self.client.delete_item(TableName=self.table_name, Key=_plain(_CHECKPOINT_KEY),
                                    ConditionExpression="windowTo = :to",
                                    ExpressionAttributeValues=_plain({":to": window_to}))
            return True
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
