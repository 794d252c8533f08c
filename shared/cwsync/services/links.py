"""The dashboard's Links page: every remembered link, who or what made it, Confirm and Undo.

A link is what cwsync remembers so the next order does not ask again: marketplace customer →
ConnectWise company, product (MPN) → catalog item, subscription → agreement. Links made
automatically (an exact-match rule, or the automatic approver) are marked so. A person can
**Confirm** a link (it stays; the review is recorded) or **Undo** it: the link is removed,
the next order of that customer, product or subscription asks a person (even where a rule
would match), and the Undo is recorded with its reason. Undo writes nothing to ConnectWise
and leaves every task as it is: tasks already synced keep what they wrote, and a task
that has already read the link goes on with it.
"""
from __future__ import annotations

from typing import Any, Mapping

from cwsync.errors import CwsyncError
from cwsync.vocabulary import (LINK_KIND_LABELS, MATCH_BASIS_LABELS, ApprovalKind, ConnectWiseRecord, LinkAction,
                               LinkKind, LinkSource, TaskStatus)

MAX_REASON = 300
MAX_SHOWN = 1000
SEARCHED = ("key", "customerName", "companyName", "companyId", "mpn", "productName", "catalogName", "identifier",
            "catalogItemId", "subscriptionId", "agreementId", "agreementName", "orderNumber")
# The approval kind that decides each kind of link (a task waiting on it waits on that link).
APPROVAL_OF = {ApprovalKind.CUSTOMER: LinkKind.CUSTOMER, ApprovalKind.PRODUCT: LinkKind.PRODUCT,
               ApprovalKind.AGREEMENT: LinkKind.SUBSCRIPTION}
UNDO_EXPLAINED = ("Undo removes the remembered link only. Nothing is written to ConnectWise, and no task changes: "
                  "orders already synced keep what they wrote. The next order of that customer, product or "
                  "subscription asks a person to choose again, even where a rule would match automatically.")


class LinkRefused(CwsyncError):
    """A Confirm or Undo that cannot be done as asked; the message says why."""


def kind_of(value: Any) -> LinkKind | None:
    try:
        return LinkKind(str(value))
    except ValueError:
        return None


def made_by(link: Mapping[str, Any]) -> dict:
    """Who or what made the link: {automatic, text, rule, evidence, approvalId}."""
    source = str(link.get("linkedBy") or "")
    automatic = bool(link.get("automatic"))
    approval = str(link["approvalId"]) if link.get("approvalId") else None
    rule = MATCH_BASIS_LABELS.get(str(link.get("basis") or ""))
    if source == LinkSource.MATCH:
        text = f"Automatic rule: {rule}" if rule else "Automatic rule (exact match)"
        automatic = True
    elif source == LinkSource.AUTO_APPROVE:
        text, automatic = "Automatic approver (auto-approve)", True
    elif source == LinkSource.APPROVAL:
        text = "A person, through an approval"
    elif source == LinkSource.CREATED:
        text = "Added to the ConnectWise catalog by cwsync, " + (
            "chosen by the automatic approver" if automatic else "chosen by a person")
    else:
        text = "Unknown (made before cwsync recorded how)"
    return {"automatic": automatic, "text": text, "rule": rule, "evidence": link.get("evidence") or "",
            "approvalId": approval}


def sides(link: Mapping[str, Any]) -> tuple[str, str]:
    """(marketplace side, ConnectWise side) as a person reads them."""
    kind = kind_of(link.get("kind"))
    key = str(link.get("key") or "")
    if kind == LinkKind.CUSTOMER:
        left = f"{link['customerName']} ({key})" if link.get("customerName") else f"customer {key}"
        right = _named(link.get("companyName") or ConnectWiseRecord.COMPANY, link.get("companyId"))
    elif kind == LinkKind.PRODUCT:
        left = f"{link['productName']} ({key})" if link.get("productName") else key
        name = link.get("catalogName") or (link.get("catalogItem") or {}).get("description") or link.get("identifier")
        right = _named(name or ConnectWiseRecord.CATALOG_ITEM, link.get("catalogItemId"))
    else:
        owner = link.get("customerName") or link.get("companyName")
        left = f"subscription {key}" + (f" of {owner}" if owner else "")
        right = _named(link.get("agreementName") or ConnectWiseRecord.AGREEMENT, link.get("agreementId"))
    return left, right


def _named(name: str, record_id: Any) -> str:
    """`name (#id)`, unless the name says its id already."""
    return str(name) if f"#{record_id}" in str(name) else f"{name} (#{record_id})"


def link_row(link: Mapping[str, Any]) -> dict:
    kind = kind_of(link.get("kind"))
    left, right = sides(link)
    return {"kind": str(kind), "kindLabel": LINK_KIND_LABELS.get(kind, str(kind)), "key": str(link.get("key")),
            "marketplace": left, "connectwise": right, "madeBy": made_by(link), "linkedAt": link.get("linkedAt"),
            "taskId": link.get("taskId"), "orderNumber": link.get("orderNumber"),
            "reviewedBy": link.get("reviewedBy"), "reviewedAt": link.get("reviewedAt")}


def matches(row: Mapping[str, Any], link: Mapping[str, Any], words: list[str]) -> bool:
    text = " ".join([row["marketplace"], row["connectwise"]] + [str(link.get(k) or "") for k in SEARCHED]).casefold()
    return all(word in text for word in words)


def links_view(deps, *, kind: str | None = None, automatic_only: bool = False, search: str | None = None) -> dict:
    """The page: rows filtered by kind, automatic only and search; counts; the audit trail."""
    wanted = kind_of(kind) if kind else None
    links = deps.store.list_links()
    words = (search or "").casefold().split()
    rows, counts = [], {str(k): 0 for k in LinkKind}
    automatic = 0
    for link in links:
        row = link_row(link)
        counts[row["kind"]] = counts.get(row["kind"], 0) + 1
        automatic += row["madeBy"]["automatic"]
        if (wanted and row["kind"] != wanted) or (automatic_only and not row["madeBy"]["automatic"]):
            continue
        if words and not matches(row, link, words):
            continue
        rows.append(row)
    audit = [audit_row(entry) for entry in deps.store.link_audit()]
    return {"rows": rows[:MAX_SHOWN], "matching": len(rows), "total": len(links), "automaticCount": automatic,
            "kinds": [{"kind": str(k), "label": LINK_KIND_LABELS[k], "count": counts[str(k)]} for k in LinkKind],
            "kind": str(wanted or ""), "automaticOnly": automatic_only, "search": search or "", "audit": audit,
            "undoExplained": UNDO_EXPLAINED}


def audit_row(entry: Mapping[str, Any]) -> dict:
    link = {**dict(entry.get("link") or {}), "kind": entry.get("kind"), "key": entry.get("key")}
    left, right = sides(link)
    action = str(entry.get("action") or "")
    return {"at": entry.get("at"), "by": entry.get("by"), "reason": entry.get("reason") or "",
            "action": action, "actionLabel": "Undone" if action == LinkAction.UNDO else "Confirmed",
            "kindLabel": LINK_KIND_LABELS.get(kind_of(entry.get("kind")), ""), "key": str(entry.get("key")),
            "marketplace": left, "connectwise": right, "madeBy": made_by(link)["text"]}


def confirm(deps, kind: str, key: str, who: str, linked_at: str | None) -> dict:
    link_kind = _kind(kind)
    done = deps.store.confirm_link(link_kind, key, who, linked_at=linked_at or None)
    if done is None:
        raise LinkRefused(_gone(deps, link_kind, key))
    return done


def undo(deps, kind: str, key: str, who: str, reason: str, linked_at: str | None) -> dict:
    link_kind = _kind(kind)
    reason = " ".join((reason or "").split())[:MAX_REASON]
    if not reason:
        raise LinkRefused("Say why the link is undone: the reason is kept in the links' audit trail.")
    done = deps.store.undo_link(link_kind, key, who, reason, linked_at=linked_at or None)
    if done is None:
        raise LinkRefused(_gone(deps, link_kind, key))
    return done


def _kind(kind: str) -> LinkKind:
    found = kind_of(kind)
    if found is None:
        raise LinkRefused("Choose a link from the Links page.")
    return found


def _gone(deps, kind: LinkKind, key: str) -> str:
    if deps.store.get_link(kind, key) is None:
        return f"There is no remembered {LINK_KIND_LABELS[kind].lower()} link for {key} any more; nothing was changed."
    return f"The link for {key} was made again meanwhile; nothing was changed. Look at it again on the Links page."


# --- the task page -------------------------------------------------------------------------------

def task_links(deps, task: Mapping[str, Any]) -> list[dict]:
    """The links a task uses, and the one it waits for (a pending customer, product or agreement approval)."""
    from cwsync.adapters import mp_orders
    from cwsync.errors import InvalidOrder
    from cwsync.services.steps.common import plain

    wanted: list[tuple[LinkKind, str]] = []
    try:
        order = mp_orders.order(plain(task.get("order"))) if isinstance(task.get("order"), Mapping) else None
    except InvalidOrder:
        order = None
    customer = task.get("customerId") or (order.customer_id if order else None)
    if customer:
        wanted.append((LinkKind.CUSTOMER, str(customer)))
    for line in (order.lines if order else ()):
        for mpn in dict.fromkeys(m for m in (line.new_mpn, line.mpn) if m):
            if (LinkKind.PRODUCT, str(mpn)) not in wanted:
                wanted.append((LinkKind.PRODUCT, str(mpn)))
    subscription = task.get("subscriptionId") or (order.subscription_id if order else None)
    if subscription:
        wanted.append((LinkKind.SUBSCRIPTION, str(subscription)))
    waiting = None
    if str(task.get("status")) == TaskStatus.WAITING_APPROVAL:
        waiting = APPROVAL_OF.get(str(task.get("approvalKind") or ""))
    waiting_key = str(task.get("pendingProduct") or "") if waiting == LinkKind.PRODUCT else None
    found = []
    for kind, key in wanted:
        link = deps.store.get_link(kind, key)
        asked = kind == waiting and (waiting_key is None or waiting_key == key)
        if link is None and not asked:
            continue
        row = link_row(link) if link else {"kind": str(kind), "kindLabel": LINK_KIND_LABELS[kind], "key": key}
        row["waiting"] = link is None
        found.append(row)
    return found
