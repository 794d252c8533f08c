"""Additions typed by hand are found before a change, cancellation or renewal, never doubled."""
import pytest

from cwsync.errors import SyncFailed
from tests.unit.test_domain_planning import addition, charge, context, ops, order, plan_task

PARTIAL = {"type": "day", "duration": 14}


def change_10_to_12():
    return order("CH000116", "change", quantity=12, line_type="UPGRADE",
                 charges=[dict(charge("recurring", 2, "2.80", "2.24"), duration=PARTIAL)])


def hand_made(id_=300, quantity=10, serial=None):
    return addition(id_, serial, quantity=quantity)


def live_after(plan, existing):
    """(serial, quantity) of the additions live once the plan is applied, computed from the operations."""
    live = {a["id"]: dict(a) for a in existing if not a.get("cancelledDate")}
    for op in plan.to_dict()["operations"]:
        if op["action"] == "update_addition":
            live[op["match"]["id"]].update(op["fields"])
        elif op["action"] == "cancel_addition":
            live.pop(op["match"]["id"])
        elif op["action"] == "create_addition":
            live[op["key"]] = {"serialNumber": op["fields"]["serialNumber"], "quantity": op["fields"]["quantity"],
                               "product": {"id": 7}}
    return sorted((str(a.get("serialNumber")), str(a["quantity"])) for a in live.values())


def test_a_change_over_one_hand_made_addition_adopts_it_and_leaves_only_the_new_quantity_live():
    existing = [hand_made()]
    plan = plan_task("change", change_10_to_12(), context(existing))
    adopt, cancel, create, prorate = ops(plan)
    assert adopt["action"] == "update_addition" and adopt["match"] == {"id": 300}
    assert adopt["fields"] == {"serialNumber": "MP-SUB-1-CH000116-adopted"}
    assert cancel["match"] == {"id": 300, "serialNumber": "MP-SUB-1-CH000116-adopted"}
    assert create["fields"]["quantity"] == "12"
    assert "10 → 12" in prorate["fields"]["description"] and prorate["fields"]["amount"] == "6.00"  # 2 licences × 6.00 × 14/28 days
    assert "Hand-made addition #300 (10 × 6.00 USD, no serial number) is this subscription's" in plan.summary
    assert live_after(plan, existing) == [("MP-SUB-1-CH000116", "12")]


@pytest.mark.parametrize("existing, words", [
    ([hand_made(300), hand_made(301, quantity=2)], "2 additions of Microsoft 365 Business Basic"),
    ([hand_made(300, quantity=9)], "bills 9, not the marketplace's 10"),
])
def test_several_hand_made_additions_or_another_quantity_stop_for_a_person_with_the_candidates(existing, words):
    with pytest.raises(SyncFailed) as stopped:
        plan_task("change", change_10_to_12(), context(existing))
    message = str(stopped.value)
    assert words in message and "#300" in message and "Put the serial number MP-SUB-1 on the addition" in message


def test_a_hand_made_addition_of_another_product_or_another_subscriptions_tag_is_left_alone():
    other_product = dict(hand_made(300), product={"id": 8})
    other_subscription = hand_made(301, serial="MP-SUB-2-SO1")
    plan = plan_task("change", change_10_to_12(), context([other_product, other_subscription]))
    assert [op["action"] for op in ops(plan)] == ["create_addition", "create_adjustment"]


def test_a_tagged_addition_wins_over_a_hand_made_one_of_the_same_product():
    existing = [addition(100, "MP-SUB-1-SO000012"), hand_made(300)]
    plan = plan_task("change", change_10_to_12(), context(existing))
    assert [op["match"].get("id") for op in ops(plan, "cancel_addition")] == [100]
    assert not ops(plan, "update_addition")


def test_a_cancellation_over_a_hand_made_addition_ends_it():
    cancel = order("CL000119", "cancellation", quantity=10, line_type="CANCEL")
    existing = [hand_made()]
    plan = plan_task("cancellation", cancel, context(existing))
    assert [op["action"] for op in ops(plan)] == ["update_addition", "cancel_addition"]
    assert live_after(plan, existing) == []


def test_a_renewal_with_the_same_terms_over_a_hand_made_addition_only_tags_it():
    renewal = order("RN000115", "renewal", quantity=10, line_type="RENEW", charges=[charge("renew", 10, "6.00", "4.80")])
    existing = [hand_made()]
    plan = plan_task("renewal", renewal, context(existing))
    assert [op["action"] for op in ops(plan)] == ["update_addition"] and not plan.nothing_to_change
    assert live_after(plan, existing) == [("MP-SUB-1-RN000115-adopted", "10")]


def test_a_change_order_that_does_not_say_the_old_quantity_asks_a_person_about_a_hand_made_addition():
    change = order("CH000117", "change", quantity=12, line_type="UPGRADE", charges=[charge("recurring", 12, "6.00")])
    with pytest.raises(SyncFailed, match="does not say the quantity before it"):
        plan_task("change", change, context([hand_made()]))
