"""What cwsync wrote to each ConnectWise addition: the baseline a reconciliation compares with.

Items `PK = WRITTEN#<additionId>`, `SK = ADDITION` in the cwsync table, holding the fields
cwsync last wrote (ConnectWise addition ids are unique across agreements); read in batches.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from cwsync.adapters.store import PK, SK
from cwsync.adapters.store_batch import get_many

WRITTEN_PREFIX = "WRITTEN#"
WRITTEN_SK = "ADDITION"


class WrittenRecords:
    def __init__(self, store: Any):
        self.store = store

    def remember(self, agreement_id: Any, addition_id: Any, fields: Mapping[str, Any]) -> None:
        """Merge `fields` into what is remembered for the addition (the newest write wins per field)."""
        key = {PK: f"{WRITTEN_PREFIX}{addition_id}", SK: WRITTEN_SK}
        current = self.store._get(key) or {}
        merged = {**(current.get("fields") or {}), **{k: v for k, v in fields.items() if v is not None}}
        self.store._put({**key, "agreementId": str(agreement_id), "additionId": str(addition_id), "fields": merged})

    def for_additions(self, addition_ids: Iterable[Any]) -> dict[str, dict]:
        """{addition id: fields cwsync wrote} for those of the additions cwsync wrote to."""
        items = get_many(self.store, [(f"{WRITTEN_PREFIX}{i}", WRITTEN_SK) for i in addition_ids])
        return {str(item["additionId"]): dict(item.get("fields") or {}) for item in items.values()}
