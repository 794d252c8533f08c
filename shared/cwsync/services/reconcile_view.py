"""The dashboard's Reconciliation page: the last report, filtered, and its CSV / JSON export."""
from __future__ import annotations

import csv
import io
from typing import Any, Mapping

from cwsync.domain.reconcile import KIND_LABELS, KINDS

CSV_FIELDS = ("kind", "customer", "subscriptionId", "mpn", "agreementId", "additionId", "field", "marketplace",
           "connectwise", "impactPerPeriod", "currency")
SEARCHED_FIELDS = ("customer", "subscriptionId", "mpn", "agreementId")
MAX_ROWS_SHOWN = 1000


def filtered(differences: list[Mapping[str, Any]], *, kind: str | None = None, currency: str | None = None,
             search: str | None = None) -> list[Mapping[str, Any]]:
    text = (search or "").casefold()
    return [d for d in differences
            if (not kind or d.get("kind") == kind) and (not currency or d.get("currency") == currency)
            and (not text or any(text in str(d.get(k) or "").casefold()
                                 for k in SEARCHED_FIELDS))]


def page_view(report: Mapping[str, Any] | None, *, kind: str | None, currency: str | None,
              search: str | None) -> dict:
    if kind not in KINDS:
        kind = None
    differences = list((report or {}).get("differences") or [])
    rows = filtered(differences, kind=kind, currency=currency or None, search=search)
    counts = {k: 0 for k in KINDS}
    for d in differences:
        counts[d.get("kind")] = counts.get(d.get("kind"), 0) + 1
    return {"report": report, "kind": kind, "currency": currency or "", "search": search or "",
            "kinds": [{"kind": k, "label": KIND_LABELS[k], "count": counts[k]} for k in KINDS],
            "currencies": sorted({str(d.get("currency")) for d in differences if d.get("currency")}),
            "rows": rows[:MAX_ROWS_SHOWN], "matching": len(rows), "total": len(differences)}


def to_csv(rows: list[Mapping[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row.get(k)) for k in CSV_FIELDS})
    return out.getvalue()


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # A cell a spreadsheet would run as a formula is kept as text.
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _number(text) else text


def _number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False
