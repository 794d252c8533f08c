"""Marketplace orders from outside, valid but varied and broken: classifying never crashes, and an
order that cannot become a task says why, naming the field (hypothesis, hypothesis-jsonschema)."""
from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from cwsync.adapters.mp_orders import read_order
from cwsync.domain import classify
from cwsync.domain.classify import IGNORED, INVALID, PENDING, TASK
from cwsync_local.simulators.common import load_seed
from cwsync_local.simulators.marketplace.contract import validator
from plain_text import PYTHON_TEXT


def classify_order(detail, **options):
    """The check's classification of a detailed order as the marketplace sends it (read by its adapter)."""
    return classify.classify_order(read_order(detail), **options)


ORDERS = [o for o in load_seed("demo")["marketplace"]["orders"] if o["status"] == "completed"]
EXPECTED = {o["orderNumber"]: classify_order(o).outcome for o in ORDERS}
OUTCOMES = {TASK, PENDING, IGNORED, INVALID}
SLOW = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                    max_leaves=6)
EXTRA = st.dictionaries(st.text(min_size=1, max_size=10).map(lambda k: "x-" + k), JSON, max_size=3)


def assert_explained(result, order_number=None) -> None:
    assert result.outcome in OUTCOMES
    assert result.reason and not PYTHON_TEXT.search(result.reason), result.reason


@SLOW
@given(from_schema({"$ref": "#/components/schemas/OrderDetailed",
                    "components": {"schemas": validator().schemas}}))
def test_any_order_the_contract_allows_is_classified_with_a_plain_reason(order):
    assert_explained(classify_order(order))


@SLOW
@given(order=st.sampled_from(ORDERS), top=EXTRA, line=EXTRA, charge=EXTRA,
       name=st.text(min_size=1, max_size=300), description=st.text(max_size=600),
       blank=st.sets(st.sampled_from(["provisioningDate", "statusCode", "lastBillingDate", "nextBillingDate"])))
def test_valid_but_varied_orders_classify_as_the_original(order, top, line, charge, name, description, blank):
    varied = copy.deepcopy(order)
    varied.update(top)
    varied["products"][0].update(line, name=name)
    varied["details"][0].update(charge, description=description)
    for key in blank & {"statusCode"}:
        varied[key] = None  # optional fields the API may send as null
    result = classify_order(varied)
    assert_explained(result)
    assert result.outcome == EXPECTED[order["orderNumber"]], result.reason


# A field cwsync reads, where in the reason it is named, and whether the order still has a task without it.
READ_FIELDS = [
    (("creationDate",), "creationDate"),
    (("orderNumber",), "orderNumber"),
    (("customerId",), "customerId"),
    (("products", 0, "quantity"), "products[0].quantity"),
    (("products", 0, "billingPeriod"), "products[0].billingPeriod"),
    (("products", 0, "mpn"), "products[0]"),
    (("details", 0, "quantity"), "details[0].quantity"),
    (("details", 0, "salesUnitPrice"), "details[0].salesUnitPrice"),
    (("details", 0, "unitPrice"), "details[0].unitPrice"),
    (("total",), "total"),
]
WRONG = st.sampled_from([[1, 2], {"odd": True}, "garbage", True, -5, {"amount": "ten", "currency": "USD"}])


@SLOW
@given(order=st.sampled_from(ORDERS), target=st.sampled_from(READ_FIELDS), value=WRONG)
def test_a_broken_field_makes_the_order_invalid_naming_the_field_or_is_read_as_a_valid_value(order, target, value):
    path, named = target
    broken = copy.deepcopy(order)
    node = broken
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    result = classify_order(broken)
    assert_explained(result)
    if result.outcome in (TASK, IGNORED) and result.outcome == EXPECTED[order["orderNumber"]]:
        return  # a value of another type the field may take (an id given as a number, a quantity of -5 read as an error below)
    assert result.outcome == INVALID, result
    assert named in result.reason or path[-1] in result.reason, result.reason


@pytest.mark.parametrize("status, outcome", [("error", IGNORED), ("cancelled", IGNORED), ("processing", PENDING),
                                             ("submitted", PENDING)])
def test_orders_that_never_completed_or_are_still_running_get_a_stated_outcome(status, outcome):
    result = classify_order({**ORDERS[0], "status": status, "statusCode": "VENDOR_REFUSED"})
    assert result.outcome == outcome and result.reason


@pytest.mark.parametrize("order_type", ["migration", "unknown"])
def test_migration_and_unknown_orders_are_ignored_with_the_reason(order_type):
    sales = next(o for o in ORDERS if o["orderNumber"] == "SO000112")
    result = classify_order({**sales, "type": order_type})
    assert result.outcome == IGNORED and order_type in result.reason


@pytest.mark.parametrize("line_type", ["TRANSFER", "STOP_SERVICE", "DESTROY_SERVICE", "MOVE", "CHANGE_PLAN_PERIOD",
                                       "SOMETHING_NEWER"])
def test_a_product_line_type_cwsync_does_not_sync_makes_an_ignored_task_saying_which_line(line_type):
    sales = copy.deepcopy(next(o for o in ORDERS if o["orderNumber"] == "SO000112"))
    sales["products"][0]["type"] = line_type
    result = classify_order(sales)
    assert result.outcome == IGNORED
    assert f'"{line_type}" (products[0].type)' in result.reason and "M365-BUSPREM-P1M" in result.reason
