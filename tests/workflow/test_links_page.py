"""The dashboard's Links page over HTTP on the embedded runtime, and what an Undo does to the next
order: links made automatically (exact rules, `never` policy) are listed as automatic; Undo removes
one, records it, touches nothing in ConnectWise, and the next order of that customer asks a person
again, through the real state machine."""
from __future__ import annotations

import copy
from html import unescape
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings, strategies as st

from acceptance import connectwise, decide, demo_seed, notification_link, start_runtime, tagged, wait_for_status
from cwsync_local.runtime.console import recommended_choice
from plain_text import PYTHON_TEXT
from test_dashboard import fetch, form_token

GREEN_LANE = "1000048531"
XSS_NAME = '<script>alert(1)</script> & Co "Ltd"'


def next_order() -> tuple[dict, dict]:
    """Green Lane's next order (a new subscription, like SO000112) and its subscription."""
    seed = demo_seed()
    order = copy.deepcopy(next(o for o in seed["marketplace"]["orders"] if o["id"] == "5000112"))
    order.update(id="5000190", orderNumber="SO000190", subscriptionId="SUB-190", creationDate="2026-11-25T10:00:00Z",
                 provisioningDate="2026-11-25T10:00:40Z")
    for product in order["products"]:
        product["subscriptionId"] = "SUB-190"
    subscription = copy.deepcopy(next(s for s in seed["marketplace"]["subscriptions"] if s["id"] == "SUB-104"))
    subscription.update(id="SUB-190", creationDate="2026-11-25")
    return order, subscription


@pytest.fixture(scope="module")
def rt(tmp_path_factory):
    """Green Lane's SO000112 synced with no person asked: every link it made is automatic."""
    runtime = start_runtime(tmp_path_factory.mktemp("links"), seed=demo_seed({"5000112"}),
                            parameters={"ApprovalPolicy": "never"})
    try:
        runtime.check()
        runtime.wait_until_settled(timeout=180)
        assert runtime.task("5000112")["status"] == "synced"
        yield runtime
    finally:
        runtime.stop()


def links_page(rt, query: dict | None = None) -> str:
    status, page, _ = fetch(rt.url + "/links" + (f"?{urlencode(query)}" if query else ""))
    assert status == 200, page
    return page


def row_of(page: str, kind: str, key: str) -> str:
    start = page.index(f'data-link="{kind}:{key}"')
    return page[start:page.index("</tr>", start)]


def link_form(page: str, kind: str, key: str) -> dict:
    """The hidden fields of a row's forms, as the browser would send them."""
    import re

    row = row_of(page, kind, key)
    linked_at = unescape(re.search(r'name="linkedAt" value="([^"]*)"', row).group(1))
    return {"csrf": form_token(page), "kind": kind, "key": key, "linkedAt": linked_at}


def test_every_link_the_sync_made_is_listed_as_automatic_with_its_rule_names_and_order(rt):
    page = links_page(rt)
    customer = unescape(row_of(page, "customer", GREEN_LANE))
    assert 'data-automatic="yes"' in customer and "Automatic rule: exact match: same company name" in customer
    assert "Green Lane LLC (1000048531)" in customer and "GREEN LANE, L.L.C. (GreenLane) (#19301)" in customer
    assert 'href="/tasks/5000112"' in customer and "order SO000112" in customer
    product = unescape(row_of(page, "product", "M365-BUSPREM-P1M"))
    assert "exact match: catalog identifier = MPN" in product and "Microsoft 365 Business Premium" in product
    subscription = unescape(row_of(page, "subscription", "SUB-104"))
    assert "the only eligible agreement" in subscription and "#3101" in subscription
    assert "Nothing is written to ConnectWise" in unescape(page)
    only = links_page(rt, {"automatic": "1", "kind": "product"})
    assert only.count("data-link=") == 1 and 'data-link="product:M365-BUSPREM-P1M"' in only
    assert links_page(rt, {"q": "green lane"}).count("data-link=") == 2  # customer, and the subscription of it


def test_the_task_page_shows_the_links_it_used_with_a_way_to_the_links_page(rt):
    status, page, _ = fetch(f"{rt.url}/tasks/5000112")
    assert status == 200
    used = unescape(page[page.index('id="task-links"'):page.index('id="changes-title"')])
    assert "Customer to company: Green Lane LLC (1000048531) → GREEN LANE, L.L.C." in used
    assert 'href="/links?q=SUB-104&amp;kind=subscription"' in page[page.index('id="task-links"'):]


def test_link_forms_from_another_site_or_without_the_page_token_change_nothing(rt):
    page = links_page(rt)
    form = {**link_form(page, "product", "M365-BUSPREM-P1M"), "action": "undo", "reason": "x"}
    status, body, _ = fetch(rt.url + "/links", form, origin="https://evil.example")
    assert status == 403 and "another site" in body
    status, body, _ = fetch(rt.url + "/links", {**form, "csrf": ""})
    assert status == 403 and "reload" in body
    assert rt.store.get_product_link("M365-BUSPREM-P1M") is not None


def test_confirm_records_the_person_and_keeps_the_link(rt):
    page = links_page(rt)
    form = {**link_form(page, "subscription", "SUB-104"), "action": "confirm", "filter-kind": "subscription"}
    status, _, headers = fetch(rt.url + "/links", form)
    assert status == 303 and headers["Location"] == "/links?kind=subscription&done=link-confirm"
    page = unescape(links_page(rt, {"kind": "subscription", "done": "link-confirm"}))
    assert "Confirmed by the local operator" in row_of(page, "subscription", "SUB-104")
    assert "your review is in the audit trail" in page
    assert rt.store.get_subscription_link("SUB-104")["reviewedBy"] == "the local operator"


TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=120)


@settings(max_examples=20, deadline=None)
@given(action=st.sampled_from(["confirm", "undo", "delete", ""]) | TEXT, kind=st.sampled_from(
    ["customer", "product", "subscription", "agreement"]) | TEXT, key=TEXT, reason=TEXT, linked_at=TEXT)
def test_any_link_form_is_answered_in_plain_words_and_changes_no_link(rt, action, kind, key, reason, linked_at):
    before = {(link["kind"], link["key"], link.get("linkedAt"), link.get("reviewedBy")) for link in rt.store.list_links()}
    page = links_page(rt)
    status, body, _ = fetch(rt.url + "/links", {"csrf": form_token(page), "action": action, "kind": kind, "key": key,
                                                "reason": reason, "linkedAt": linked_at})
    assert status in (400, 409), body
    assert not PYTHON_TEXT.search(unescape(body))
    after = {(link["kind"], link["key"], link.get("linkedAt"), link.get("reviewedBy")) for link in rt.store.list_links()}
    assert after == before


def test_names_from_outside_are_shown_literally(rt):
    rt.store.put_customer_link("1000099999", 424242, XSS_NAME, linkedBy="approval", customerName=XSS_NAME)
    page = links_page(rt, {"q": "1000099999"})
    assert "<script>alert(1)</script>" not in page
    assert f"{XSS_NAME} (1000099999)" in unescape(page)


def test_undo_then_the_next_order_of_that_customer_asks_a_person_and_nothing_synced_changes(rt):
    before = connectwise(rt)
    first = rt.task("5000112")
    page = links_page(rt)
    status, body, _ = fetch(rt.url + "/links", {**link_form(page, "customer", GREEN_LANE), "action": "undo",
                                                "reason": "  "})
    assert status == 409 and "Say why" in body
    status, _, headers = fetch(rt.url + "/links", {**link_form(page, "customer", GREEN_LANE), "action": "undo",
                                                   "reason": "Check the company by hand"})
    assert status == 303 and headers["Location"] == "/links?done=link-undo"
    page = unescape(links_page(rt))
    assert f'data-link="customer:{GREEN_LANE}"' not in page
    audit = page[page.index('id="audit"'):]
    assert "Undone" in audit and "Check the company by hand" in audit and "the local operator" in audit
    assert connectwise(rt) == before  # Undo writes nothing to ConnectWise
    assert rt.task("5000112") == first  # and leaves the synced task as it was

    order, subscription = next_order()
    rt.marketplace.add_subscriptions([subscription])
    rt.marketplace.add_orders([order])
    rt.check()
    wait_for_status(rt, "5000190", {"waiting_approval", "synced", "failed"}, timeout=180)
    task = rt.task("5000190")
    assert task["status"] == "waiting_approval", task.get("reason")
    approval_id, link = notification_link(rt, "5000190", "customer")
    approval = rt.store.get_approval(approval_id)
    assert approval["recommended"] is None and recommended_choice(approval, automatic=True) is None
    assert "undid the earlier link" in approval["explanation"]
    status, task_page, _ = fetch(f"{rt.url}/tasks/5000190")
    assert "waiting for a person to choose it" in task_page and f"/links?q={GREEN_LANE}" in task_page

    status, answer = decide(link, {"decision": "approve", "choice": "19301"})
    assert status == 200, answer
    synced = wait_for_status(rt, "5000190", {"synced", "failed", "rejected", "expired"}, timeout=180)
    assert synced["status"] == "synced", synced.get("reason")
    after = connectwise(rt)
    new = [a for a in tagged(after["additions"], "MP-SUB-190-SO000190") if not a.get("cancelledDate")]
    assert len(new) == 1 and new[0]["agreementId"] == 3101 and new[0]["quantity"] == 10
    assert tagged(after["additions"], "MP-SUB-104-SO000112") == tagged(before["additions"], "MP-SUB-104-SO000112")
    customer = unescape(row_of(links_page(rt), "customer", GREEN_LANE))
    assert 'data-automatic="no"' in customer and "A person, through an approval" in customer

