"""Many remembered links in few DynamoDB calls (BatchGetItem, 100 keys a call)."""
from __future__ import annotations

import random
import time
from typing import Any, Iterable

from cwsync.adapters.store import PK, SK, _deserialize, _public, _serialize

BATCH_LIMIT = 100


def get_many(store: Any, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], dict]:
    """{(PK, SK): item without its keys} for the keys that exist."""
    wanted = list(dict.fromkeys(keys))
    found: dict[tuple[str, str], dict] = {}
    for start in range(0, len(wanted), BATCH_LIMIT):
        request = {store.table_name: {"Keys": [_serialize({PK: pk, SK: sk}) for pk, sk in
                                               wanted[start:start + BATCH_LIMIT]], "ConsistentRead": True}}
        attempt = 0
        while request:
            answer = store.client.batch_get_item(RequestItems=request)
            for raw in answer.get("Responses", {}).get(store.table_name, []):
                item = _deserialize(raw)
                found[(item[PK], item[SK])] = _public(item)
            request = answer.get("UnprocessedKeys") or None
            if request:  # throttled: back off with jitter, as the SDK advises
                attempt += 1
                time.sleep(min(2.0, 0.05 * 2 ** attempt) * random.random())
    return found


def links(store: Any, kind: str, ids: Iterable[str], sk: str = "LINK") -> dict[str, dict]:
    """{id: link} of `CUSTOMER#`, `PRODUCT#` (sk LINK) or `SUBSCRIPTION#` (sk AGREEMENT) links."""
    ids = [str(i) for i in ids]
    items = get_many(store, [(f"{kind}#{i}", sk) for i in ids])
    return {i: items[(f"{kind}#{i}", sk)] for i in ids if (f"{kind}#{i}", sk) in items}
