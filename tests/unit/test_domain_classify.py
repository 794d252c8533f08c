"""Which task a marketplace order becomes: the Check Changes list, made automatic."""
import pytest

from cwsync.adapters.mp_orders import read_order
from cwsync.domain import classify
from cwsync.vocabulary import TaskType


def classify_order(detail, **options):
    """The check's classification of a detailed order as the marketplace sends it (read by its adapter)."""
    return classify.classify_order(read_order(detail), **options)


MONTHLY = {"type": "month", "duration": 1}


def order(number="SO000012", type_="sales", *, status="completed", line_type="CREATE", period=MONTHLY,
          details=(("recurring", "6.00"),), billing_model="chargeBeforeBillingPeriod", **extra):
    return {
        "id": "ORD-" + number, "orderNumber": number, "type": type_, "customerId": "1000048531",
        "status": status, "creationDate": "2026-02-15T09:30:00Z", "subscriptionId": "SUB-1",
        "billingModel": billing_model,
        "products": [{"mpn": "M365-BB", "name": "Business Basic", "quantity": 10, "type": line_type,
                      "subscriptionId": "SUB-1", "billingPeriod": period}],
        "details": [{"type": kind, "mpn": "M365-BB", "quantity": 1,
                     "salesUnitPrice": {"amount": amount, "currency": "USD"}} for kind, amount in details],
        **extra,
    }


@pytest.mark.parametrize("detail, task_type", [
    (order("SO000012", "sales"), TaskType.SALES),
    (order("CH000013", "change", line_type="UPGRADE"), TaskType.CHANGE),
    (order("CL000014", "cancellation", line_type="CANCEL"), TaskType.CANCELLATION),
    (order("CF000015", "cancellation", line_type="CANCEL"), TaskType.CANCELLATION),
    (order("RN000016", "renewal", line_type="RENEW"), TaskType.RENEWAL),
    (order("BO000017", "renewal"), TaskType.BILLING),                                   # by number prefix
    (order("SO000018", "sales", line_type="BILLING_SUBSCRIPTION"), TaskType.BILLING),   # by line type
    (order("SO000019", "sales", line_type="VENDOR_RATED_DATA"), TaskType.BILLING),
    (order("RN000020", "renewal", details=(("overuse", "0.10"),),
           billing_model="chargeAfterBillingPeriod"), TaskType.BILLING),                 # overuse charged after
    (order("RN000021", "renewal", details=(("overuse", "0.10"),)), TaskType.RENEWAL),   # charged before: not usage
    (order("SO000022", period={"type": "month", "duration": 3}), TaskType.SALES),
    (order("SO000023", period={"type": "year", "duration": 1}), TaskType.SALES),
    (order("SO000024", period={"type": "statement_day", "duration": 15}), TaskType.SALES),
])
def test_completed_orders_become_tasks_of_their_type(detail, task_type):
    result = classify_order(detail)
    assert (result.outcome, result.task_type) == ("task", task_type), result.reason
    assert result.reason == f"Order {detail['orderNumber']} is a {task_type} order"


@pytest.mark.parametrize("status, outcome, reason", [
    ("submitted", "pending", "Order SO000012 is submitted; it is read again on the next run"),
    ("processing", "pending", "Order SO000012 is processing; it is read again on the next run"),
    ("cancelled", "ignored", "Order SO000012 ended as cancelled (E42); nothing was provisioned"),
    ("error", "ignored", "Order SO000012 ended as error (E42); nothing was provisioned"),
    ("paused", "invalid", "Order SO000012 has an unknown status \"paused\""),
    (None, "invalid", "Order SO000012 has no status"),
])
def test_orders_that_are_not_completed_are_not_tasks_yet(status, outcome, reason):
    result = classify_order(order(status=status, statusCode="E42"))
    assert (result.outcome, result.task_type, result.reason) == (outcome, None, reason)


@pytest.mark.parametrize("status", [["completed"], {"name": "completed"}, 3])
def test_a_status_that_is_not_text_is_an_unknown_status_named_as_sent(status):
    result = classify_order(order(status=status))
    assert (result.outcome, result.task_type) == ("invalid", None)
    assert result.reason.startswith("Order SO000012 has an unknown status ") and "'" not in result.reason


def test_a_pending_order_is_not_judged_on_its_unfinished_details():
    detail = order(status="submitted")
    del detail["customerId"]
    assert classify_order(detail).outcome == "pending"


@pytest.mark.parametrize("type_, article", [("migration", "a"), ("unknown", "an")])
def test_order_types_the_sync_does_not_handle_are_ignored_with_a_reason(type_, article):
    result = classify_order(order("MG000030", type_))
    assert result.outcome == "ignored"
    assert result.reason == (f"Order MG000030 is {article} {type_} order; the sync handles sales, change, billing, "
                             "cancellation and renewal orders only")


@pytest.mark.parametrize("change, reason", [
    (lambda d: d.pop("customerId"), "Order SO000012: customerId is missing"),
    (lambda d: d["products"][0].update(billingPeriod={"type": "month", "duration": 2}),
     "Order SO000012: A month×2 billing period has no matching ConnectWise billing cycle"),
    (lambda d: d["products"][0].update(billingPeriod={"type": "unknown", "duration": 1}),
     "Order SO000012: products[0].billingPeriod has an unknown billing period type \"unknown\""),
    (lambda d: d["products"][0].pop("billingPeriod"),
     "Order SO000012: no product line states its billing period"),
    (lambda d: d.update(products=[]), "Order SO000012: it has no product lines to put on the agreement"),
    (lambda d: (d.pop("subscriptionId"), d["products"][0].pop("subscriptionId")),
     "Order SO000012: no subscription id for M365-BB"),
    (lambda d: d["details"][0]["salesUnitPrice"].update(amount="six"),
     "Order SO000012: details[0].salesUnitPrice.amount \"six\" is not a number"),
])
def test_malformed_completed_orders_are_invalid_with_the_reason(change, reason):
    detail = order()
    change(detail)
    result = classify_order(detail)
    assert result.outcome == "invalid"
    assert result.reason.startswith(reason), result.reason


def test_a_cancellation_without_billing_details_is_still_a_task():
    detail = order("CL000031", "cancellation", line_type="CANCEL")
    detail["products"] = []
    detail["details"] = []
    detail["total"] = {"amount": "0", "currency": "USD"}
    assert classify_order(detail).to_dict() == {
        "outcome": "task", "taskType": "cancellation", "reason": "Order CL000031 is a cancellation order"}


def test_something_that_is_not_an_order_is_invalid():
    assert classify_order("SO000012").outcome == "invalid"
