"""Many items in few DynamoDB calls (BatchGetItem, 100 keys a call)."""
from __future__ import annotations

import random
import time
from typing import Any, Iterable

from cwsync.adapters.dynamo_values import (PK, SK, expression_request, from_attribute_values, to_attribute_values,
                                          without_keys)

BATCH_LIMIT = 100


def get_many(store: Any, keys: Iterable[tuple[str, str]], *,
             attributes: Iterable[str] | None = None) -> dict[tuple[str, str], dict]:
    """{(PK, SK): item without its keys} for the keys that exist (only `attributes`, when given)."""
    wanted = list(dict.fromkeys(keys))
    # PK and SK always, so that each answer can be told by its key
    projection = expression_request(attributes=(PK, SK, *attributes)) if attributes is not None else {}
    found: dict[tuple[str, str], dict] = {}
    for start in range(0, len(wanted), BATCH_LIMIT):
        request = {store.table_name: {"Keys": [to_attribute_values({PK: pk, SK: sk}) for pk, sk in
                                               wanted[start:start + BATCH_LIMIT]],
                                      "ConsistentRead": True, **projection}}
        attempt = 0
        while request:
            answer = store.client.batch_get_item(RequestItems=request)
            for raw in answer.get("Responses", {}).get(store.table_name, []):
                item = from_attribute_values(raw)
                found[(item[PK], item[SK])] = without_keys(item)
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
