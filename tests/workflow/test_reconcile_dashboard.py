"""The dashboard's Reconciliation page over HTTP on the embedded runtime (demo data): the
Reconcile now button, the filters, and the CSV and JSON exports."""
from __future__ import annotations

import csv
import io
import json
import re

import pytest

from cwsync.domain.reconcile import KINDS

from acceptance import start_runtime, wait_for
from test_dashboard import fetch, form_token


@pytest.fixture(scope="module")
def reconciled(tmp_path_factory):
    rt = start_runtime(tmp_path_factory.mktemp("reconcile-dashboard"))
    try:
        status, before, _ = fetch(rt.url + "/reconciliation")
        assert status == 200
        status, _, headers = fetch(rt.url + "/reconcile", {"csrf": form_token(before)})
        assert status == 303 and headers["Location"] == "/reconciliation?done=reconciliation"
        wait_for(lambda: 'id="last-run"' in fetch(rt.url + "/reconciliation")[1], timeout=120,
                 what="the reconciliation report on the page")
        yield {"rt": rt, "before": before}
    finally:
        rt.stop()


def test_before_any_run_the_page_says_so_and_offers_the_button(reconciled):
    assert 'id="no-report"' in reconciled["before"] and 'id="reconcile-now"' in reconciled["before"]


def test_reconcile_now_shows_the_totals_and_every_difference(reconciled):
    status, page, _ = fetch(reconciled["rt"].url + "/reconciliation")
    assert status == 200
    assert "(dashboard)" in page and "subscription(s) checked" in page
    assert "510.00 USD" in page and "92.80 EUR" in page  # the demo data's money not billed a month
    assert page.count('<tr data-kind="') == 15
    # The demo customer billed since before cwsync shows every kind of difference but an edit.
    kinds = set(re.findall(r'<tr data-kind="([a-z_]+)"', page))
    assert kinds == set(KINDS) - {"edited_in_connectwise"}


def test_the_kind_filter_and_the_search_narrow_the_list(reconciled):
    url = reconciled["rt"].url
    _, page, _ = fetch(url + "/reconciliation?kind=not_billed")
    assert page.count('<tr data-kind="not_billed"') == 6 and page.count('<tr data-kind="') == 6
    _, page, _ = fetch(url + "/reconciliation?q=Green+Lane")
    assert page.count('<tr data-kind="') == 4
    _, page, _ = fetch(url + "/reconciliation?currency=EUR")
    assert page.count('<tr data-kind="') == 2


def test_the_csv_and_json_exports_hold_the_filtered_differences(reconciled):
    url = reconciled["rt"].url
    status, body, headers = fetch(url + "/reconciliation?kind=quantity_differs&format=csv")
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [(r["subscriptionId"], r["marketplace"], r["connectwise"], r["impactPerPeriod"]) for r in rows] == \
        [("SUB-101", "12", "10", "12.00"), ("SUB-102", "3", "5", "-8.00")]
    status, body, headers = fetch(url + "/reconciliation?format=json")
    report = json.loads(body)
    assert status == 200 and len(report["differences"]) == 15
    assert report["totals"]["notBilledPerMonth"] == {"EUR": "92.80", "USD": "510.00"}


def test_the_reconcile_button_refuses_a_form_from_another_site(reconciled):
    url = reconciled["rt"].url
    _, page, _ = fetch(url + "/reconciliation")
    status, body, _ = fetch(url + "/reconcile", {"csrf": form_token(page)}, origin="https://evil.example")
    assert status == 403 and "another site" in body
