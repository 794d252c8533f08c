"""The task item a listed marketplace order becomes, and the small readers Check Changes uses."""
from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any, Mapping

from cwsync.adapters.store import format_time
from cwsync.domain.classify import Classification
from cwsync.dates import parse_datetime_or_none
from cwsync.errors import ItemRejected

MAX_STORED_ORDER_BYTES = 300_000  # DynamoDB items stop at 400 KB; beyond this keep the summary only


def _order_id(summary: Any) -> str | None:
    if not isinstance(summary, Mapping):
        return None
    value = summary.get("id")
    if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip():
        return None
    return str(value).strip()


def _created_at(order: Mapping) -> datetime | None:
    value = order.get("creationDate")
    return parse_datetime_or_none(value) if isinstance(value, str) else None


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    return str(value)


def _number(order: Mapping, order_id: str) -> str:
    return _text(order.get("orderNumber")) or order_id


def _task_item(order_id: str, summary: Mapping, detail: Mapping | None, classification: Classification,
               status: str) -> dict:
    source = detail if isinstance(detail, Mapping) else summary
    created = _created_at(source) or _created_at(summary)
    task: dict[str, Any] = {
        "taskId": order_id,
        "orderId": order_id,
        "orderNumber": _text(source.get("orderNumber")),
        "orderType": _text(source.get("type")),
        "orderStatus": _text(source.get("status")),
        "customerId": _text(source.get("customerId")),
        "subscriptionId": _text(source.get("subscriptionId")),
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
