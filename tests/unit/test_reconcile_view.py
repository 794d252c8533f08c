"""The Reconciliation page's filters and CSV export, on plain report rows."""
from __future__ import annotations

import csv
import io

from cwsync.services.reconcile_view import filtered, page_view, to_csv

ROWS = [
    {"kind": "not_billed", "customer": "Green Lane LLC", "subscriptionId": "SUB-1", "impactPerPeriod": "60.00",
     "currency": "USD", "marketplace": "10", "connectwise": None},
    {"kind": "billed_twice", "customer": "=HYPERLINK(\"http://x\")", "subscriptionId": "SUB-2",
     "impactPerPeriod": "-6.00", "currency": "EUR", "marketplace": "MP-SUB-2-SO1", "connectwise": "MP-SUB-2-SO2"},
]


def test_filters_narrow_by_kind_currency_and_search_text():
    assert [r["subscriptionId"] for r in filtered(ROWS, kind="not_billed")] == ["SUB-1"]
    assert [r["subscriptionId"] for r in filtered(ROWS, currency="EUR")] == ["SUB-2"]
    assert [r["subscriptionId"] for r in filtered(ROWS, search="green")] == ["SUB-1"]
    view = page_view({"differences": ROWS, "totals": {}}, kind="no_such_kind", currency=None, search=None)
    assert view["kind"] is None and view["matching"] == 2 and view["currencies"] == ["EUR", "USD"]


def test_the_csv_keeps_negative_amounts_as_numbers_and_formulas_as_text():
    rows = list(csv.DictReader(io.StringIO(to_csv(ROWS))))
    assert rows[1]["impactPerPeriod"] == "-6.00"
    assert rows[1]["customer"] == "'=HYPERLINK(\"http://x\")"
    assert rows[0]["connectwise"] == ""
