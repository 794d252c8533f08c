"""The remembered links as the Links page reads and changes them (mixed into `cwsync.adapters.store.Store`).

| item              | PK                          | SK                        |
|-------------------|-----------------------------|---------------------------|
| customer link     | CUSTOMER#<mpCustomerId>     | LINK                      |
| product link      | PRODUCT#<mpn>               | LINK                      |
| subscription link | SUBSCRIPTION#<subscription> | AGREEMENT                 |
| undone marker     | <the link's PK>             | UNDONE                    |  who undid it, when, why
| audit entry       | LINKAUDIT                   | <at>#<kind>#<key>#<nonce> |  every Confirm and Undo

Confirm and Undo are one transaction each: the link changes only if it is still the one
the person looked at (same `linkedAt`), and the audit entry is written with it or not at
all. Undo deletes the link and leaves the undone marker, which makes the next order ask a
person instead of taking an automatic match again; making the link again (that person's
choice) removes the marker in the same write. Nothing here touches ConnectWise or a task.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Iterator

from botocore.exceptions import ClientError

from cwsync.adapters.dynamo_values import (PK, SK, Attr, Key, Update, expression_request, format_time,
                                          from_attribute_values as _deserialize, to_attribute_values as _serialize,
                                          utc_now as _now, without_keys as _public)
from cwsync.vocabulary import LinkAction, LinkKind

LINK_KEYS = {  # kind -> (PK prefix, SK)
    LinkKind.CUSTOMER: ("CUSTOMER#", "LINK"),
    LinkKind.PRODUCT: ("PRODUCT#", "LINK"),
    LinkKind.SUBSCRIPTION: ("SUBSCRIPTION#", "AGREEMENT"),
}
UNDONE_SK = "UNDONE"
AUDIT_PK = "LINKAUDIT"
AUDIT_LIMIT = 200


def link_key(kind: str, key: str) -> dict:
    prefix, sort = LINK_KEYS[LinkKind(kind)]
    return {PK: f"{prefix}{key}", SK: sort}


def _still(linked_at: str | None):
    """The link exists and is still the one made at `linked_at` (the one the person saw)."""
    return Attr(PK).exists() & Attr("linkedAt").eq(linked_at)


def _kind_of(item: dict) -> tuple[LinkKind, str] | None:
    for kind, (prefix, sort) in LINK_KEYS.items():
        if item.get(SK) == sort and str(item.get(PK, "")).startswith(prefix):
            return kind, str(item[PK])[len(prefix):]
    return None


class LinkItems:
    """Needs the store's `client`, `table_name`, `_get` and `_update`."""

    client: Any
    table_name: str

    def list_links(self) -> list[dict]:
        """Every remembered link, each with its `kind` and `key` (customer id, MPN, subscription id).

        A Scan of the table filtered to link items: the page is opened now and then, and a
        Scan also finds links stored before this page existed."""
        found = []
        for item in self._scan_links():
            kind_key = _kind_of(item)
            if kind_key:
                found.append({**_public(item), "kind": kind_key[0], "key": kind_key[1]})
        found.sort(key=lambda link: (str(link.get("linkedAt") or ""), link["key"]), reverse=True)
        return found

    def _scan_links(self) -> Iterator[dict]:
        paginator = self.client.get_paginator("scan")
        links = Attr(SK).eq("LINK") | Attr(SK).eq("AGREEMENT")
        for page in paginator.paginate(TableName=self.table_name, ConsistentRead=True,
                                       **expression_request(filter=links)):
            for item in page.get("Items", []):
                yield _deserialize(item)

    def get_link(self, kind: str, key: str) -> dict | None:
        item = self._get(link_key(kind, key))
        return {**_public(item), "kind": LinkKind(kind), "key": str(key)} if item else None

    def _put_link(self, item: dict) -> None:
        """Store a link and, in the same transaction, remove its undone marker: once the link is made
        again, an earlier Undo has done its work and must not make a later order ask again."""
        self.client.transact_write_items(TransactItems=[
            {"Put": {"TableName": self.table_name, "Item": _serialize(item)}},
            {"Delete": {"TableName": self.table_name, "Key": _serialize({PK: item[PK], SK: UNDONE_SK})}}])

    def link_undone(self, kind: str, key: str) -> dict | None:
        """{by, at, reason} when a person undid this link (the next order asks a person), else None."""
        key_item = link_key(kind, key)
        item = self._get({PK: key_item[PK], SK: UNDONE_SK})
        return _public(item) if item else None

    def confirm_link(self, kind: str, key: str, who: str, *, linked_at: str | None,
                     now: datetime | None = None) -> dict | None:
        """Mark the link reviewed by `who`; None when it is gone or was made again meanwhile."""
        at, key_item, link = self._current(kind, key, linked_at, now)
        if link is None:
            return None
        update = {"Update": {"TableName": self.table_name, "Key": _serialize(key_item), **expression_request(
            update=Update().set({"reviewedBy": who, "reviewedAt": at}), condition=_still(link.get("linkedAt")))}}
        entry = self._audit_entry(kind, key, LinkAction.CONFIRM, who, None, link, at)
        if not self._transact([update, entry]):
            return None
        return {**_public(link), "reviewedBy": who, "reviewedAt": at, "kind": LinkKind(kind), "key": str(key)}

    def undo_link(self, kind: str, key: str, who: str, reason: str, *, linked_at: str | None,
                  now: datetime | None = None) -> dict | None:
        """Remove the link, leave the undone marker and the audit entry; the removed link, or
        None when it is gone or was made again meanwhile (then nothing changed)."""
        at, key_item, link = self._current(kind, key, linked_at, now)
        if link is None:
            return None
        delete = {"Delete": {"TableName": self.table_name, "Key": _serialize(key_item),
                             **expression_request(condition=_still(link.get("linkedAt")))}}
        marker = {"Put": {"TableName": self.table_name, "Item": _serialize({
            PK: key_item[PK], SK: UNDONE_SK, "kind": str(kind), "key": str(key), "by": who, "at": at,
            "reason": reason, "link": _public(link)})}}
        entry = self._audit_entry(kind, key, LinkAction.UNDO, who, reason, link, at)
        if not self._transact([delete, marker, entry]):
            return None
        return {**_public(link), "kind": LinkKind(kind), "key": str(key)}

    def refresh_product_snapshot(self, mpn: str, *, linked_at: str | None, catalogItem: Any = None,
                                 snapshotAt: str | None = None) -> bool:
        """Remember a fresher catalog item on a product link that is still the one read (same
        `linkedAt`); False when it was undone or made again meanwhile (then nothing is written)."""
        if not catalogItem or linked_at is None:
            return False
        return self._update(link_key(LinkKind.PRODUCT, mpn),
                            Update().set({"catalogItem": catalogItem, "snapshotAt": snapshotAt}),
                            when=_still(linked_at)).applied

    def _current(self, kind: str, key: str, linked_at: str | None,
                 now: datetime | None) -> tuple[str, dict, dict | None]:
        """(now as stored, the link's key, the link while it is the one the person saw, else None)."""
        key_item = link_key(kind, key)
        link = self._get(key_item)
        if link is not None and linked_at is not None and link.get("linkedAt") != linked_at:
            link = None
        return format_time(now or _now()), key_item, link

    def link_audit(self, *, limit: int = AUDIT_LIMIT) -> list[dict]:
        """The latest Confirm and Undo entries, newest first: {kind, key, action, by, at, reason, link}."""
        answer = self.client.query(TableName=self.table_name, ScanIndexForward=False, Limit=limit, ConsistentRead=True,
                                   **expression_request(key=Key(PK).eq(AUDIT_PK)))
        return [_public(_deserialize(item)) for item in answer.get("Items", [])]

    def _audit_entry(self, kind: str, key: str, action: str, who: str, reason: str | None, link: dict,
                     at: str) -> dict:
        item = {PK: AUDIT_PK, SK: f"{at}#{kind}#{key}#{uuid.uuid4().hex[:8]}", "kind": str(kind), "key": str(key),
                "action": str(action), "by": who, "at": at, "reason": reason, "link": _public(link)}
        return {"Put": {"TableName": self.table_name, "Item": _serialize(item),
                        **expression_request(condition=Attr(PK).not_exists())}}

    def _transact(self, items: list[dict]) -> bool:
        try:
            self.client.transact_write_items(TransactItems=items)
            return True
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "TransactionCanceledException":
                return False
            raise
