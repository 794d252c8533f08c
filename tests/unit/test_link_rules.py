"""The Links page's rules on the in-memory fakes: every remembered link listed with who or what made
it, Confirm recorded, Undo removing the link (audit entry, reason) so the next order asks a person."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from cwsync.services import links, steps
from fakes import FakeConnectWise, FakeStore
from test_steps import COMPANY, ITEM, add_task, agreement, make_deps, sales_order

NOW = datetime(2026, 2, 15, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def deps():
    connectwise = FakeConnectWise(companies=[{**COMPANY, "identifier": "1000048531"}], catalog=[ITEM],
                                  agreements=[agreement(301, company=17)])
    return make_deps(FakeStore(clock=lambda: NOW), connectwise=connectwise)


def synced_links(deps, order=None):
    """Run the three linking steps of a sales order, as the state machine does."""
    task_id = add_task(deps, order or sales_order())
    assert steps.link_customer(deps, task_id)["outcome"] == "linked"
    assert steps.link_product(deps, task_id)["outcome"] == "linked"
    assert steps.select_agreement(deps, task_id)["outcome"] == "linked"
    return task_id


def row(view, kind):
    return next(r for r in view["rows"] if r["kind"] == kind)


def test_links_made_by_exact_rules_are_listed_as_automatic_with_the_exact_evidence_and_both_names(deps):
    synced_links(deps)
    view = links.links_view(deps)
    assert view["total"] == 3 and view["automaticCount"] == 3
    customer = row(view, "customer")
    assert customer["madeBy"]["automatic"] is True
    assert customer["madeBy"]["rule"] == "exact match: company identifier = customer id"
    assert "Company identifier equals marketplace customer id 1000048531" in customer["madeBy"]["evidence"]
    assert customer["marketplace"] == "Green Lane LLC (1000048531)"
    assert customer["connectwise"].startswith("Green Lane LLC") and "#17" in customer["connectwise"]
    assert customer["orderNumber"] == "SO000012" and customer["linkedAt"]
    product = row(view, "product")
    assert product["madeBy"]["rule"] == "exact match: MPN"
    assert product["marketplace"] == "Microsoft 365 Business Basic (M365-BB)"
    assert product["connectwise"] == "M365-BB: Microsoft 365 Business Basic (#7)"
    subscription = row(view, "subscription")
    assert subscription["madeBy"]["rule"] == "the only eligible agreement"
    assert subscription["connectwise"] == "Managed services (#301, Monthly, USD)"
    assert subscription["marketplace"] == "subscription SUB-1 of Green Lane LLC"


def test_a_link_chosen_by_the_automatic_approver_is_marked_automatic_and_a_persons_choice_is_not(deps):
    deps.connectwise.companies_list[:] = [{**COMPANY, "identifier": "Other", "name": "Green Lane Holdings"}]
    task_id = add_task(deps, sales_order())
    assert steps.link_customer(deps, task_id)["outcome"] == "needs_approval"
    steps.link_customer(deps, task_id, decision={"decision": "approve", "choice": "17", "decidedBy": "auto-approve"})
    made = row(links.links_view(deps), "customer")["madeBy"]
    assert made["automatic"] is True and made["text"] == "Automatic approver (auto-approve)"

    other = add_task(deps, sales_order(order_id="5000013", number="SO000013", customer_id="1000048599"))
    deps.marketplace.customers["1000048599"] = {"id": "1000048599", "name": "Green Lane Two"}
    steps.link_customer(deps, other, decision={"decision": "approve", "choice": "17"})
    view = links.links_view(deps, automatic_only=True)
    assert [r["key"] for r in view["rows"]] == ["1000048531"]
    person = next(r for r in links.links_view(deps)["rows"] if r["key"] == "1000048599")
    assert person["madeBy"]["automatic"] is False and person["madeBy"]["text"] == "A person, through an approval"


def test_filters_by_kind_and_search_by_any_name_or_id(deps):
    synced_links(deps)
    assert [r["kind"] for r in links.links_view(deps, kind="product")["rows"]] == ["product"]
    assert [r["kind"] for r in links.links_view(deps, search="business basic")["rows"]] == ["product"]
    assert links.links_view(deps, search="nothing like this")["rows"] == []
    assert links.links_view(deps, kind="not-a-kind")["matching"] == 3  # an unknown kind filters nothing out


def test_confirm_marks_the_link_reviewed_by_the_person_and_records_it(deps):
    synced_links(deps)
    link = deps.store.get_link("customer", "1000048531")
    links.confirm(deps, "customer", "1000048531", "dana@msp.example", link["linkedAt"])
    customer = row(links.links_view(deps), "customer")
    assert customer["reviewedBy"] == "dana@msp.example" and customer["reviewedAt"]
    audit = links.links_view(deps)["audit"]
    assert [(a["action"], a["by"], a["key"]) for a in audit] == [("confirm", "dana@msp.example", "1000048531")]
    assert deps.store.get_customer_link("1000048531")["companyId"] == "17"  # kept


def test_undo_removes_the_link_records_who_and_why_and_needs_a_reason(deps):
    synced_links(deps)
    linked_at = deps.store.get_link("customer", "1000048531")["linkedAt"]
    with pytest.raises(links.LinkRefused, match="Say why"):
        links.undo(deps, "customer", "1000048531", "dana@msp.example", "   ", linked_at)
    assert deps.store.get_customer_link("1000048531") is not None
    links.undo(deps, "customer", "1000048531", "dana@msp.example", "Wrong company", linked_at)
    assert deps.store.get_customer_link("1000048531") is None
    audit = links.links_view(deps)["audit"][0]
    assert (audit["action"], audit["by"], audit["reason"]) == ("undo", "dana@msp.example", "Wrong company")
    assert audit["connectwise"].startswith("Green Lane LLC")
    with pytest.raises(links.LinkRefused, match="no remembered"):
        links.undo(deps, "customer", "1000048531", "dana@msp.example", "again", linked_at)


def test_undo_writes_nothing_to_connectwise_and_leaves_every_task_as_it_was(deps):
    task_id = synced_links(deps)
    deps.store.update_task(task_id, "synced", "done")
    before = deps.store.get_task(task_id)
    written = list(deps.connectwise.written)
    for kind, key in (("customer", "1000048531"), ("product", "M365-BB"), ("subscription", "SUB-1")):
        links.undo(deps, kind, key, "dana", "review", deps.store.get_link(kind, key)["linkedAt"])
    assert deps.connectwise.written == written
    assert deps.store.get_task(task_id) == before


def test_a_link_made_again_after_the_page_was_opened_is_not_undone(deps):
    synced_links(deps)
    with pytest.raises(links.LinkRefused, match="made again meanwhile"):
        links.undo(deps, "customer", "1000048531", "dana", "stale page", "2020-01-01T00:00:00.000Z")
    assert deps.store.get_customer_link("1000048531") is not None and deps.store.link_audit() == []


def test_after_undo_the_next_order_asks_a_person_even_though_the_rule_would_match(deps):
    synced_links(deps)
    for kind, key in (("customer", "1000048531"), ("product", "M365-BB"), ("subscription", "SUB-1")):
        links.undo(deps, kind, key, "dana", "check it", deps.store.get_link(kind, key)["linkedAt"])
    task_id = add_task(deps, sales_order(order_id="5000013", number="SO000013"))
    asked = steps.link_customer(deps, task_id)
    assert asked["outcome"] == "needs_approval"
    assert asked["approval"]["recommended"] is None
    assert "dana undid the earlier link" in asked["approval"]["explanation"]
    assert "17" in [o["id"] for o in asked["approval"]["options"]]
    steps.link_customer(deps, task_id, decision={"decision": "approve", "choice": "17"})
    asked = steps.link_product(deps, task_id)
    assert asked["outcome"] == "needs_approval" and asked["approval"]["recommended"] is None
    steps.link_product(deps, task_id, decision={"decision": "approve", "choice": "7"})
    asked = steps.select_agreement(deps, task_id)
    assert asked["outcome"] == "needs_approval" and asked["approval"]["recommended"] is None
    steps.select_agreement(deps, task_id, decision={"decision": "approve", "choice": "301"})
    view = links.links_view(deps)
    assert view["total"] == 3 and view["automaticCount"] == 0
    # the person's links are remembered again: a third order asks nothing
    third = add_task(deps, sales_order(order_id="5000014", number="SO000014"))
    assert steps.link_customer(deps, third).get("skipped") is True
    assert steps.select_agreement(deps, third).get("skipped") is True


def test_a_task_page_lists_the_links_it_uses_and_the_one_it_waits_for(deps):
    task_id = synced_links(deps)
    used = links.task_links(deps, deps.store.get_task(task_id))
    assert [(r["kind"], r["key"], r["waiting"]) for r in used] == [
        ("customer", "1000048531", False), ("product", "M365-BB", False), ("subscription", "SUB-1", False)]
    links.undo(deps, "customer", "1000048531", "dana", "check", deps.store.get_link("customer", "1000048531")["linkedAt"])
    other = add_task(deps, sales_order(order_id="5000013", number="SO000013"))
    deps.store.update_task(other, "waiting_approval", "asked", approvalKind="customer")
    waiting = links.task_links(deps, deps.store.get_task(other))
    assert waiting[0]["kind"] == "customer" and waiting[0]["waiting"] is True



def relinked_by_a_person_after_undo(deps):
    """Every link undone, then made again by a person through the next order's approvals."""
    synced_links(deps)
    for kind, key in (("customer", "1000048531"), ("product", "M365-BB"), ("subscription", "SUB-1")):
        links.undo(deps, kind, key, "dana", "check it", deps.store.get_link(kind, key)["linkedAt"])
    task_id = add_task(deps, sales_order(order_id="5000013", number="SO000013"))
    for step, choice in ((steps.link_customer, "17"), (steps.link_product, "7"), (steps.select_agreement, "301")):
        assert step(deps, task_id)["outcome"] == "needs_approval"
        step(deps, task_id, decision={"decision": "approve", "choice": choice})


def test_after_a_person_links_again_an_earlier_undo_no_longer_makes_any_order_ask(deps):
    relinked_by_a_person_after_undo(deps)
    assert [deps.store.link_undone(kind, key) for kind, key in
            (("customer", "1000048531"), ("product", "M365-BB"), ("subscription", "SUB-1"))] == [None, None, None]
    # A repair covering that subscription and a new one: the only eligible agreement is taken, as it
    # would be had the link never been undone (the person's link of SUB-1 stands).
    from test_steps import reconcile_task

    repair = reconcile_task(deps, ["SUB-2", "SUB-1"])
    assert steps.select_agreement(deps, repair) == {"outcome": "linked", "agreementId": "301", "source": "match"}
    assert deps.store.get_subscription_link("SUB-2")["agreementId"] == "301"


def test_a_repair_asks_a_person_for_a_subscription_whose_link_was_undone_even_when_another_is_remembered(deps):
    from test_steps import reconcile_task

    synced_links(deps)
    deps.store.put_subscription_link("SUB-2", "301", linkedBy="match", automatic=True)
    links.undo(deps, "subscription", "SUB-2", "dana", "wrong agreement", deps.store.get_link("subscription", "SUB-2")["linkedAt"])
    asked = steps.select_agreement(deps, reconcile_task(deps, ["SUB-1", "SUB-2"]))
    assert asked["outcome"] == "needs_approval" and asked["approval"]["recommended"] is None
    assert "dana undid the earlier link on the Links page: wrong agreement" in asked["approval"]["explanation"]
    assert deps.store.get_subscription_link("SUB-2") is None
