"""Marketplace data sets nobody wrote by hand: detailed orders in the SimpleAPI 1.15 shapes, valid but
varied, or broken in one named field (hypothesis strategies, for the unit and integration batches).

Built from the demo seed's orders (so customers, products and agreements exist for them) and from
the contract's own enums (`local/cwsync_local/contracts/marketplace-simpleapi-1.15.json`):

- `varied_orders()`: what the real API may send. Unicode and long names and descriptions, fields
  newer than the contract at every depth, optional fields missing or `null`, amounts as strings with
  any number of decimals, quantities as integers or doubles, creation times with `Z`, an offset,
  milliseconds or no zone, and every enum value of order `type` and `status`, product line `type`,
  charge line `type` and billing period `type` (with a value newer than the contract too).
- `broken_orders()`: what the API must not send. A field cwsync reads of the wrong type, a required
  field missing, or an enum value the contract does not have. Each comes with the field's name, which
  the task's reason must name.

Each drawn order has a fresh id and number (so a batch holds no duplicates) and is created in the
hour before `CREATED_BEFORE`.
"""
from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import strategies as st

from cwsync_local.simulators.common import load_seed
from cwsync_local.simulators.marketplace.contract import validator

DEMO = load_seed("demo")
ORDERS = DEMO["marketplace"]["orders"]
CUSTOMERS = DEMO["marketplace"]["customers"]
CREATED_BEFORE = datetime(2026, 11, 25, 11, 0, tzinfo=timezone.utc)

_SCHEMAS = validator().document["components"]["schemas"]
ORDER_TYPES = tuple(_SCHEMAS["OrderDetailed"]["properties"]["type"]["enum"])
ORDER_STATUSES = tuple(_SCHEMAS["OrderDetailed"]["properties"]["status"]["enum"])
LINE_TYPES = tuple(_SCHEMAS["OrderLineProduct"]["properties"]["type"]["enum"])
CHARGE_TYPES = tuple(_SCHEMAS["OrderDetail"]["properties"]["type"]["enum"])
PERIOD_TYPES = tuple(_SCHEMAS["Period"]["properties"]["type"]["enum"])
NEWER = "FUTURE_KIND"  # an enum value a newer API version may add

# Optional fields that may come as null (or not at all), at each level.
OPTIONAL_TOP = ("poNumber", "statusCode", "provisioningDate", "lastBillingDate", "nextBillingDate", "attributes",
                "billingModel", "creditCheck")
OPTIONAL_LINE = ("vendor", "id", "subscriptionPeriod", "name")
OPTIONAL_CHARGE = ("productId", "description", "duration", "extendedPrice", "salesExtendedPrice")

# Field names as newer API versions spell them (camelCase ASCII); values of any JSON shape, text in any script.
NAME = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=12)
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
                    | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NAME.map(lambda key: "field" + key),
                                                                                 inner, max_size=3),
                    max_leaves=6)
EXTRA = st.dictionaries(NAME.map(lambda key: "newer" + key), JSON, max_size=3)
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=300)


def _renumbered(order: dict, index: int) -> dict:
    fresh = copy.deepcopy(order)
    fresh["id"] = f"9{index:06d}"
    fresh["orderNumber"] = f"{order['orderNumber'][:2]}9{index:05d}"
    created = CREATED_BEFORE - timedelta(minutes=index + 1)
    fresh["creationDate"] = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    if fresh.get("provisioningDate"):
        fresh["provisioningDate"] = (created + timedelta(seconds=40)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return fresh


def _stamp(draw, when: str) -> str:
    moment = datetime.fromisoformat(when.replace("Z", "+00:00"))
    style = draw(st.sampled_from(("Z", "offset", "millis", "naive")))
    if style == "offset":
        hours = draw(st.integers(-11, 13))
        return moment.astimezone(timezone(timedelta(hours=hours))).isoformat()
    if style == "millis":
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{draw(st.integers(0, 999)):03d}Z"
    if style == "naive":
        return moment.strftime("%Y-%m-%dT%H:%M:%S")
    return when


def _amount(draw, text: str):
    value = Decimal(text)
    style = draw(st.sampled_from(("as is", "places", "number")))
    if style == "places":
        return f"{value:.{draw(st.integers(0, 6))}f}" if value == value.quantize(Decimal(1)) else f"{value:.4f}"
    if style == "number":
        return float(value)  # older marketplaces answer numbers; the contract says strings
    return text


@st.composite
def varied_orders(draw, index: int = 0) -> dict:
    """A detailed order the real API may send (see the module's docstring)."""
    order = _renumbered(draw(st.sampled_from(ORDERS)), index)
    for line in order.get("products") or []:
        line.update(draw(EXTRA))
        if draw(st.booleans()):
            line["name"] = draw(TEXT)
        if draw(st.booleans()):
            line["quantity"] = float(line["quantity"])
    for charge in order.get("details") or []:
        charge.update(draw(EXTRA))
        if draw(st.booleans()):
            charge["description"] = draw(st.text(max_size=600))
        for key in ("unitPrice", "salesUnitPrice", "extendedPrice", "salesExtendedPrice"):
            if isinstance(charge.get(key), dict):
                charge[key]["amount"] = _amount(draw, charge[key]["amount"])
    order.update(draw(EXTRA))
    order["creationDate"] = _stamp(draw, order["creationDate"])
    if order.get("provisioningDate"):
        order["provisioningDate"] = _stamp(draw, order["provisioningDate"])
    for key in draw(st.sets(st.sampled_from(OPTIONAL_TOP))):
        _blank(draw, order, key)
    for line in order.get("products") or []:
        for key in draw(st.sets(st.sampled_from(OPTIONAL_LINE))):
            _blank(draw, line, key)
    for charge in order.get("details") or []:
        for key in draw(st.sets(st.sampled_from(OPTIONAL_CHARGE))):
            _blank(draw, charge, key)
    # Every enum value, now and then: the outcome must still be stated.
    if draw(st.integers(0, 3)) == 0:
        order["type"] = draw(st.sampled_from(ORDER_TYPES))
    if draw(st.integers(0, 3)) == 0:
        order["status"] = draw(st.sampled_from(ORDER_STATUSES))
    for line in order.get("products") or []:
        if draw(st.integers(0, 3)) == 0:
            line["type"] = draw(st.sampled_from((*LINE_TYPES, NEWER)))
        if draw(st.integers(0, 5)) == 0 and isinstance(line.get("billingPeriod"), dict):
            line["billingPeriod"] = {**line["billingPeriod"], "type": draw(st.sampled_from(PERIOD_TYPES))}
    for charge in order.get("details") or []:
        if draw(st.integers(0, 4)) == 0:
            charge["type"] = draw(st.sampled_from((*CHARGE_TYPES, NEWER.lower())))
    return order


def _blank(draw, record: dict, key: str) -> None:
    if draw(st.booleans()):
        record[key] = None
    else:
        record.pop(key, None)


# Fields cwsync reads: (path, the name the reason must carry). A path step "*" is the first list item.
READ_FIELDS = (
    (("orderNumber",), "orderNumber"), (("customerId",), "customerId"), (("provisioningDate",), "provisioningDate"), (("subscriptionId",), "subscriptionId"),
    (("billingModel",), "billingModel"), (("total",), "total"), (("total", "amount"), "total"),
    (("lastBillingDate",), "lastBillingDate"), (("products",), "products"), (("details",), "details"),
    (("products", "*"), "products[0]"), (("products", "*", "mpn"), "products[0]"),
    (("products", "*", "quantity"), "quantity"), (("products", "*", "billingPeriod"), "billingPeriod"),
    (("products", "*", "billingPeriod", "duration"), "billingPeriod"),
    (("products", "*", "subscriptionId"), "subscriptionId"), (("products", "*", "type"), "type"),
    (("products", "*", "vendor"), "vendor"), (("products", "*", "name"), "name"),
    (("details", "*"), "details[0]"), (("details", "*", "quantity"), "quantity"),
    (("details", "*", "unitPrice"), "unitPrice"), (("details", "*", "salesUnitPrice"), "salesUnitPrice"),
    (("details", "*", "salesUnitPrice", "amount"), "salesUnitPrice"),
    (("details", "*", "unitPrice", "currency"), "unitPrice"),
    (("details", "*", "duration"), "duration"), (("details", "*", "type"), "type"),
    (("details", "*", "mpn"), "mpn"), (("details", "*", "description"), "description"),
)
WRONG = st.sampled_from([[1, 2], {"odd": True}, True, 1.5e300, {"amount": "ten", "currency": "USD"},
                         {"amount": "5", "currency": ["USD"]}])
NOT_TEXT = ("quantity", "billingPeriod", "duration", "unitPrice", "salesUnitPrice", "total", "provisioningDate",
            "lastBillingDate", "products", "details", "products[0]", "details[0]")  # text is wrong here too
# creationDate is not broken here: the marketplace lists orders by it, so one without a readable
# creation time is never listed (a detail read alone: tests/unit/test_order_shapes.py).
REQUIRED = ("customerId", "type", "status", "orderNumber")
UNKNOWN_ENUMS = ((("status",), "refunded"), (("type",), "transfer"),
                 (("products", "*", "billingPeriod", "type"), "fortnight"))


@st.composite
def broken_orders(draw, index: int = 0) -> tuple[dict, str]:
    """(a completed detailed order broken in one field cwsync reads, that field's name)."""
    order = _renumbered(draw(st.sampled_from([o for o in ORDERS if o["status"] == "completed"])), index)
    kind = draw(st.sampled_from(("wrong type", "missing", "unknown enum")))
    if kind == "missing":
        key = draw(st.sampled_from(REQUIRED))
        _blank(draw, order, key)
        return order, key
    if kind == "unknown enum":
        path, value = draw(st.sampled_from(UNKNOWN_ENUMS))
        _put(order, path, value)
        return order, path[-1]
    path, named = draw(st.sampled_from(READ_FIELDS))
    _put(order, path, draw(st.one_of(WRONG, st.sampled_from(["garbage", ""])) if named in NOT_TEXT else WRONG))
    return order, named


def _put(order: dict, path: tuple, value) -> None:
    node = order
    for step in path[:-1]:
        node = node[0] if step == "*" else node.setdefault(step, {})
        if isinstance(node, list) and not node:
            return
    if path[-1] == "*":
        if isinstance(node, list) and node:
            node[0] = value
        return
    if isinstance(node, dict):
        node[path[-1]] = value


@st.composite
def batches(draw, min_size: int = 4, max_size: int = 10) -> list[tuple[dict, str | None]]:
    """A batch of (order, broken field or None): varied orders and broken ones, mixed."""
    size = draw(st.integers(min_size, max_size))
    batch = []
    for index in range(size):
        if draw(st.integers(0, 2)) == 0:
            batch.append(draw(broken_orders(index)))
        else:
            batch.append((draw(varied_orders(index)), None))
    return batch
