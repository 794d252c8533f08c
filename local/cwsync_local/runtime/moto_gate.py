"""One gate in front of moto: AWS calls run one at a time, and DynamoDB writes are kept.

moto's backends are not thread-safe, and the runtime calls them from many threads at once
(the functions of concurrent executions, Check Changes' worker threads, the approvals API,
the control API). `install()` wraps moto's request entry point so that every call but a
Lambda invoke holds one re-entrant lock for its few milliseconds. A Lambda invoke is left
out: it runs a handler, which takes as long as ConnectWise takes, and must not stop anyone.

While the lock is held and after moto has answered a DynamoDB write (PutItem, UpdateItem,
DeleteItem, BatchWriteItem, TransactWriteItems) without an error, `on_write(table, keys)`
is called with the keys the call touched, so the caller can put their new state on disk
before the answer reaches the function: an acknowledged write is on disk.
"""
from __future__ import annotations

import json
import threading
from typing import Callable, Iterable

WRITE_ACTIONS = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})

lock = threading.RLock()
_state: dict[str, Callable | None] = {"original": None, "on_write": None}
_writes = [0]  # acknowledged DynamoDB writes since the process started


def write_count() -> int:
    """How many DynamoDB writes moto has acknowledged so far: unchanged means nothing changed."""
    return _writes[0]


def install(on_write: Callable[[str, list[dict]], None] | None = None) -> None:
    from moto.core.botocore_stubber import BotocoreStubber

    _state["on_write"] = on_write
    if _state["original"] is not None:
        return
    original = _state["original"] = BotocoreStubber.process_request

    def process_request(stubber, request):
        if _is_lambda_invoke(request):
            return original(stubber, request)
        with lock:
            response = original(stubber, request)
            if response is not None and int(response[0]) < 300:
                action = _dynamodb_action(request)
                if action in WRITE_ACTIONS:
                    _writes[0] += 1
                    hook = _state["on_write"]
                    for table, keys in (touched_keys(action, _body(request)).items() if hook else ()):
                        hook(table, keys)
            return response

    BotocoreStubber.process_request = process_request


def uninstall() -> None:
    from moto.core.botocore_stubber import BotocoreStubber

    original = _state["original"]
    if original is not None:
        BotocoreStubber.process_request = original
    _state["original"] = None
    _state["on_write"] = None


def _header(request, name: str) -> str:
    value = request.headers.get(name) or ""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _is_lambda_invoke(request) -> bool:
    url = str(request.url)
    return "://lambda." in url and url.rstrip("/").endswith("/invocations")


def _dynamodb_action(request) -> str | None:
    target = _header(request, "X-Amz-Target")
    if not target.startswith("DynamoDB_"):
        return None
    return target.rpartition(".")[2]


def _body(request) -> dict:
    body = request.body
    if hasattr(body, "read"):  # a stream: botocore sends DynamoDB bodies as bytes, this is a safeguard
        body = body.read()
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    return json.loads(body or "{}")


def touched_keys(action: str, body: dict) -> dict[str, list[dict]]:
    """{table name: [key or whole item, ...]} a successful write changed (items carry their key)."""
    found: dict[str, list[dict]] = {}

    def add(table: str | None, key_or_item: dict | None) -> None:
        if table and key_or_item:
            found.setdefault(table, []).append(key_or_item)

    if action == "PutItem":
        add(body.get("TableName"), body.get("Item"))
    elif action in ("UpdateItem", "DeleteItem"):
        add(body.get("TableName"), body.get("Key"))
    elif action == "BatchWriteItem":
        for table, requests in (body.get("RequestItems") or {}).items():
            for request in requests:
                add(table, (request.get("PutRequest") or {}).get("Item") or (request.get("DeleteRequest") or {}).get("Key"))
    elif action == "TransactWriteItems":
        for entry in body.get("TransactItems") or []:
            for kind, field in (("Put", "Item"), ("Update", "Key"), ("Delete", "Key")):
                if kind in entry:
                    add(entry[kind].get("TableName"), entry[kind].get(field))
    return found


def current_items(table_name: str, keys: Iterable[dict], key_names: Iterable[str], region: str) -> list[tuple[dict, dict | None]]:
    """[(key, the item now or None)] read from moto's backend directly (call with `lock` held)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][region]
    names = list(key_names)
    found = []
    for key_or_item in keys:
        key = {name: key_or_item[name] for name in names if name in key_or_item}
        item = backend.get_item(table_name, key)
        found.append((key, typed_json(item) if item else None))
    return found


def typed_json(item) -> dict:
    """A moto item as DynamoDB's typed JSON (what GetItem answers), in plain dicts and lists."""
    from moto.dynamodb.models.utilities import dynamo_json_dump

    return json.loads(dynamo_json_dump(item.describe_attrs(attributes=None)["Item"]))
