"""The task item a listed marketplace order becomes, and the small readers Check Changes uses."""
from __future__ import annotations

import json
import math
from typing import Any, Mapping

from cwsync.adapters import mp_orders
from cwsync.adapters.store import format_time
from cwsync.domain.classify import Classification
from cwsync.domain.models import OrderSummary
from cwsync.errors import InvalidRecord, ItemRejected

MAX_STORED_ORDER_BYTES = 300_000  # DynamoDB items stop at 400 KB; beyond this keep the summary only


def _task_item(summary: OrderSummary, detail: Mapping | None, classification: Classification, status: str) -> dict:
    """The task of a listed order; its fields as the detail states them, else as the list did."""
    read = _detail_summary(detail) or summary
    created = read.created_at or summary.created_at
    task: dict[str, Any] = {
        "taskId": summary.id,
        "orderId": summary.id,
        "orderNumber": read.number or summary.number,
        "orderType": read.type,
        "orderStatus": read.status,
        "customerId": read.customer_id,
        "subscriptionId": read.subscription_id,
        "orderCreatedAt": format_time(created) if created else None,
        "taskType": str(classification.task_type) if classification.task_type else None,
        "status": status,
        "reason": classification.reason,
    }
    if isinstance(detail, Mapping) and _size(detail) <= MAX_STORED_ORDER_BYTES:
        task["order"] = detail  # LoadTask reads the order as it was when the task was made
    elif detail is not None:
        task["orderOmitted"] = True
    return task


def _detail_summary(detail: Mapping | None) -> OrderSummary | None:
    """The detail's own id, number, type, status, customer, subscription and creation time, when readable."""
    if not isinstance(detail, Mapping):
        return None
    try:
        read = mp_orders.order_summary(detail)
    except InvalidRecord:
        return None
    return None if read.problem else read


def _size(detail: Mapping) -> int:
    try:
        return len(json.dumps(detail, default=str))
    except (TypeError, ValueError):
        return math.inf  # type: ignore[return-value]


def _is_item_problem(error: Exception) -> bool:
    """The item itself was refused (too big, an unstorable value), not the table."""
    return isinstance(error, (ItemRejected, TypeError, ValueError))


def _preview(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."
