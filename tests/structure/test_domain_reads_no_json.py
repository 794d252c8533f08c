"""The domain reads no external JSON: the adapters parse every record into typed values first.

No module under `shared/cwsync/domain/` defines or calls a `from_api` parser or reads a key of the
marketplace's JSON (`detail.get("orderNumber")`, `line["mpn"]`); classification, plausibility, the
duplicate-order rule and the billing cycle are declared to take the typed values of
`cwsync.domain.models` (what the marketplace adapter's parsers return), never a mapping.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOMAIN = REPO / "shared" / "cwsync" / "domain"
# Keys only the marketplace's records carry (orders, their lines and charges, customers, subscriptions).
MARKETPLACE_KEYS = frozenset({
    "orderNumber", "creationDate", "provisioningDate", "customerId", "subscriptionId", "statusCode",
    "billingPeriod", "billingModel", "lastBillingDate", "nextBillingDate", "products", "details", "mpn", "newMPN",
    "salesUnitPrice", "salesExtendedPrice", "externalId", "expirationDate", "renewalDate", "lastModifiedDate",
})
# The domain's entry points for marketplace orders, and the typed value each first takes.
TYPED_ENTRY_POINTS = [
    ("classify", "classify_order", "reading", "OrderReading"),
    ("classify", "classify_status", "status", "str | None"),
    ("plausibility", "order_problems", "order", "Order"),
    ("plausibility", "DuplicateOrders.add", "summary", "OrderSummary"),
    ("plausibility", "duplicate_orders", "summaries", "Iterable[OrderSummary]"),
    ("agreements", "billing_cycle_name", "period", "BillingPeriod"),
    ("agreements", "select_agreement", "period", "BillingPeriod | None"),
]


def json_reading(source: str) -> list[str]:
    """Where `source` parses external JSON, as `line: what` (empty: it reads typed values only)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if node.name == "from_api":
                found.append(f"{node.lineno}: defines from_api")
        elif isinstance(node, ast.Attribute) and node.attr == "from_api":
            found.append(f"{node.lineno}: calls from_api")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
              and node.args and _key(node.args[0]) in MARKETPLACE_KEYS):
            found.append(f"{node.lineno}: reads {_key(node.args[0])!r}")
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and _key(node.slice) in MARKETPLACE_KEYS:
            found.append(f"{node.lineno}: reads {_key(node.slice)!r}")
    return found


def _key(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


@pytest.mark.parametrize("path", sorted(DOMAIN.glob("*.py")), ids=lambda p: p.name)
def test_no_domain_module_parses_external_json(path):
    assert json_reading(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("source, words", [
    ("class Order:\n    @classmethod\n    def from_api(cls, value):\n        return cls()\n", "defines from_api"),
    ("def f(value):\n    return BillingPeriod.from_api(value)\n", "calls from_api"),
    ("def f(order):\n    return order.get('orderNumber')\n", "reads 'orderNumber'"),
    ("def f(line):\n    return line['mpn']\n", "reads 'mpn'"),
])
def test_the_check_sees_each_way_of_parsing_json(source, words):
    assert any(words in problem for problem in json_reading(source))


def test_the_check_lets_typed_values_and_written_keys_through():
    typed = "def f(order):\n    out = {'mpn': order.mpn}\n    out['subscriptionId'] = order.subscription_id\n    return out\n"
    assert json_reading(typed) == []


@pytest.mark.parametrize("module, function, parameter, annotation", TYPED_ENTRY_POINTS)
def test_the_domain_rules_for_orders_take_typed_values(module, function, parameter, annotation):
    assert _annotation(DOMAIN / f"{module}.py", function, parameter) == annotation


def _annotation(path: Path, qualified: str, parameter: str) -> str | None:
    """The source text of `parameter`'s annotation in function (or Class.method) `qualified`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    *owner, name = qualified.split(".")
    scope = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == owner[0]) if owner else tree
    function = next(n for n in scope.body if isinstance(n, ast.FunctionDef) and n.name == name)
    arguments = function.args.posonlyargs + function.args.args + function.args.kwonlyargs
    found = next(a for a in arguments if a.arg == parameter)
    return ast.unparse(found.annotation) if found.annotation is not None else None
