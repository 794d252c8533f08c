"""The last reconciliation report, kept for the dashboard's Reconciliation page.

`RECONCILIATION#LAST / SUMMARY` holds the totals, when and how the run was made, and its run id;
the differences sit in `RECONCILIATION#LAST / PART#<runId>#<nnnn>` items of up to 200 each (an
item stays far below DynamoDB's 400 KB). Parts of older runs expire with the `ttl` attribute.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Mapping

from cwsync.adapters.dynamo_values import PK, SK, TTL_ATTRIBUTE, Key, format_time, without_keys as _public

REPORT_PK = "RECONCILIATION#LAST"
SUMMARY_SK = "SUMMARY"
PART_SIZE = 200
KEPT = timedelta(days=30)


def save_report(store: Any, report: Mapping[str, Any], *, at: datetime, source: str,
                customer_id: str | None = None) -> str:
    run_id = at.strftime("%Y%m%dT%H%M%S%fZ")
    differences = list(report.get("differences") or [])
    expires = int((at + KEPT).timestamp())
    parts = range(0, len(differences), PART_SIZE)
    for number, start in enumerate(parts):
        store._put({PK: REPORT_PK, SK: f"PART#{run_id}#{number:04d}", "differences": differences[start:start + PART_SIZE],
                    TTL_ATTRIBUTE: expires})
    store._put({PK: REPORT_PK, SK: SUMMARY_SK, "runId": run_id, "at": format_time(at), "source": source,
                "customerId": customer_id, "totals": report.get("totals") or {},
                "problems": list(report.get("problems") or [])[:500], "tasks": list(report.get("tasks") or [])[:500],
                "parts": len(parts)})
    return run_id


def load_report(store: Any) -> dict | None:
    """{"at", "source", "customerId", "totals", "problems", "tasks", "differences"}, or None before any run."""
    summary = store._get({PK: REPORT_PK, SK: SUMMARY_SK})
    if not summary:
        return None
    summary = _public(summary)
    differences: list = []
    for item in store._query(Key(PK).eq(REPORT_PK) & Key(SK).begins_with(f"PART#{summary['runId']}#"),
                             ConsistentRead=True):
        differences.extend(item.get("differences") or [])
    return {**summary, "differences": differences}
