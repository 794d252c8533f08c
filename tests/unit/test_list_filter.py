"""The operator's list pages (tasks, links, reconciliation differences) share one filter: tabs
with their counts, the chosen one marked for screen readers, and a labelled search form; a tab
keeps the page's other filters, the form keeps the chosen tab."""
from __future__ import annotations

import re
from html import unescape

import pytest

from cwsync.approvals import render_page

TABS = {"dashboard.html": ("status", [{"status": "failed", "label": "Failed", "count": 2}]),
        "links.html": ("kind", [{"kind": "customer", "label": "Customers", "count": 2}]),
        "reconciliation.html": ("kind", [{"kind": "not_billed", "label": "Not billed", "count": 2}])}
PATHS = {"dashboard.html": "/", "links.html": "/links", "reconciliation.html": "/reconciliation"}


def render(template: str, chosen: str = "", search: str = "", **extra) -> str:
    field, tabs = TABS[template]
    view = {"counts" if field == "status" else "kinds": tabs, field: chosen, "total": 5, "search": search,
            "matching": 0, "shown": 0, "rows": [], "audit": [], "currencies": ["USD"], "currency": "",
            "automaticOnly": False, "automaticCount": 0,
            "report": {"at": "2026-01-01T00:00:00Z", "totals": {"notBilledPerMonth": {}, "overBilledPerMonth": {}}},
            **extra}
    return render_page(template, view=view, form_token="token", who="dana")


def hrefs(html: str) -> dict[str, str]:
    tabs = html[html.index('<ul class="counts"'):html.index("</ul>", html.index('<ul class="counts"'))]
    return {unescape(text): unescape(href) for href, text in re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', tabs)}


@pytest.mark.parametrize("template", list(TABS))
def test_each_list_page_has_the_one_filter_a_labelled_search_and_tabs_with_the_chosen_one_marked(template):
    field, tabs = TABS[template]
    html = render(template, chosen=tabs[0][field], search="Green & Lane")
    form = re.search(r'<form method="get" action="([^"]+)" role="search" class="inline"[^>]*>(.*?)</form>', html, re.S)
    assert form and form.group(1) == PATHS[template]
    assert f'<input type="hidden" name="{field}" value="{tabs[0][field]}">' in form.group(2)
    assert '<label for="q">' in form.group(2) and 'id="q" name="q" value="Green &amp; Lane"' in form.group(2)
    chosen = re.findall(r'<a href="[^"]*"[^>]*aria-current="page"[^>]*>([^<]+)</a>', html)
    assert chosen == [f"{tabs[0]['label']} ({tabs[0]['count']})"]
    assert re.search(r'<ul class="counts" aria-label="Filter by (status|kind)">', html)


@pytest.mark.parametrize("template", list(TABS))
def test_a_tab_keeps_the_search_typed_and_all_keeps_it_too(template):
    field, tabs = TABS[template]
    links = hrefs(render(template, search="Green & Lane"))
    path = PATHS[template]
    assert links["All (5)"] == f"{path}?q=Green+%26+Lane"
    assert links[f"{tabs[0]['label']} (2)"] == f"{path}?{field}={tabs[0][field]}&q=Green+%26+Lane"


def test_the_links_tabs_keep_automatic_only_and_the_differences_tabs_keep_the_currency():
    links = hrefs(render("links.html", automaticOnly=True))
    assert links["Customers (2)"] == "/links?kind=customer&automatic=1"
    differences = hrefs(render("reconciliation.html", currency="USD"))
    assert differences["Not billed (2)"] == "/reconciliation?kind=not_billed&currency=USD"


def test_without_a_search_or_other_filter_the_tabs_are_plain_links():
    assert hrefs(render("dashboard.html")) == {"All (5)": "/", "Failed (2)": "/?status=failed"}
