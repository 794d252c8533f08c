"""How many ConnectWise requests a sync task costs, counted from the simulator's request log.

Acceptance line: an already-linked Sales Order with one eligible agreement takes at most
3 ConnectWise requests, plus at most 3 per run for reference data (billing cycles,
currencies, agreement types).

The real steps run with a real `Dependencies`: `ConnectWiseClient` and `MarketplaceClient`
over HTTP against the simulators (demo data), the real `Store` on moto DynamoDB. Green Lane
(customer 1000048531 → company 19301, agreement 3101 the only eligible one) first syncs
SO000112, which links the customer and the product by matching; the new order SO000130
(subscription SUB-106, Business Premium × 5) then finds every link remembered.
"""
from __future__ import annotations

import copy
import logging
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from cwsync.adapters.connectwise import ConnectWiseClient
from cwsync.adapters.http import RetryPolicy
from cwsync.adapters.marketplace import MarketplaceClient
from cwsync.adapters.store import Store
from cwsync.config import Settings
from cwsync.adapters.mp_orders import read_order
from cwsync.domain.classify import classify_order
from cwsync.services import steps
from cwsync.services.deps import Dependencies
from cwsync_local.simulators import connectwise as cw_simulator
from cwsync_local.simulators import marketplace as mp_simulator

logging.getLogger("werkzeug").setLevel(logging.ERROR)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
TABLE = "cwsync-test"  # the shared `dynamodb` fixture's table
DISCOVERY = "/login/companyinfo/"
REFERENCE = ("/finance/billingCycles", "/finance/currencies", "/finance/agreements/types")
MAX_TASK_REQUESTS = 3
MAX_REFERENCE_REQUESTS = 3

NEW_ORDER = {
    "id": "5000130", "orderNumber": "SO000130", "type": "sales", "customerId": "1000048531",
    "creationDate": "2026-11-24T10:00:00Z", "provisioningDate": "2026-11-24T10:00:40Z", "status": "completed",
    "total": {"amount": "110.00", "currency": "USD"}, "subscriptionId": "SUB-106",
    "billingModel": "chargeBeforeBillingPeriod",
    "products": [{"mpn": "M365-BUSPREM-P1M", "id": "2003", "vendor": "Microsoft",
                  "name": "Microsoft 365 Business Premium", "quantity": 5,
                  "billingPeriod": {"type": "month", "duration": 1},
                  "subscriptionPeriod": {"type": "month", "duration": 1},
                  "subscriptionId": "SUB-106", "type": "CREATE"}],
    "details": [{"type": "recurring", "mpn": "M365-BUSPREM-P1M", "productId": "2003",
                 "description": "Microsoft 365 Business Premium, first month", "quantity": 5,
                 "duration": {"type": "month", "duration": 1},
                 "unitPrice": {"amount": "17.60", "currency": "USD"},
                 "salesUnitPrice": {"amount": "22.00", "currency": "USD"},
                 "extendedPrice": {"amount": "88.00", "currency": "USD"},
                 "salesExtendedPrice": {"amount": "110.00", "currency": "USD"}}],
}
NEW_SUBSCRIPTION = {
    "id": "SUB-106", "name": "Microsoft 365 Business Premium", "customerId": "1000048531", "status": "active",
    "renewalStatus": True, "creationDate": "2026-11-24", "renewalDate": "2026-12-24",
    "expirationDate": "2026-12-24", "lastModifiedDate": "2026-11-24",
    "billingModel": "chargeBeforeBillingPeriod", "billingPeriod": {"type": "month", "duration": 1},
    "subscriptionPeriod": {"type": "month", "duration": 1},
    "totalPrice": {"amount": "110.00", "currency": "USD"},
    "products": [{"mpn": "M365-BUSPREM-P1M", "id": "2003", "vendor": "Microsoft",
                  "name": "Microsoft 365 Business Premium", "quantity": 5,
                  "unitPrice": {"amount": "22.00", "currency": "USD"},
                  "unitCost": {"amount": "17.60", "currency": "USD"}}],
}


class Notifications:
    def __init__(self):
        self.sent = []

    def publish(self, subject, message, links=None):
        self.sent.append({"subject": subject, "message": message})
        return {"messageId": str(len(self.sent))}


@pytest.fixture
def simulators(tmp_path):
    with cw_simulator.start(request_log=tmp_path / "connectwise-requests.jsonl") as connectwise, \
            mp_simulator.start() as marketplace:
        marketplace.add_subscriptions([copy.deepcopy(NEW_SUBSCRIPTION)])
        marketplace.add_orders([copy.deepcopy(NEW_ORDER)])
        yield connectwise, marketplace


def make_deps(dynamodb, connectwise_sim, marketplace_sim, *, clock=None, table: str = TABLE, **env) -> Dependencies:
    settings = Settings.from_environment({"TABLE_NAME": table, "APPROVAL_POLICY": "never", **env})
    cw = ConnectWiseClient.from_secret({"siteUrl": connectwise_sim.url, **cw_simulator.DEFAULT_CREDENTIALS},
                                       retry=RetryPolicy.fast())
    mp = MarketplaceClient.from_secret({"baseUrl": marketplace_sim.url, **mp_simulator.DEFAULT_CREDENTIALS},
                                       retry=RetryPolicy.fast())
    return Dependencies(settings, store=Store(table, client=dynamodb), connectwise=cw, marketplace=mp,
                        notifier=Notifications(), clock=clock or (lambda: NOW))


def add_task(deps, order_id: str) -> str:
    """The task as CheckChanges stores it: the detailed order read from the marketplace."""
    detail = deps.marketplace.order(order_id)
    kind = classify_order(read_order(detail))
    assert kind.outcome == "task", kind
    deps.store.create_task({"taskId": detail["id"], "orderId": detail["id"], "orderNumber": detail["orderNumber"],
                            "customerId": detail["customerId"], "taskType": str(kind.task_type), "order": detail})
    return detail["id"]


def run_task(deps, task_id: str, log, requests_by_step: dict | None = None) -> dict:
    """LoadTask … FinishTask as the state machine runs them when no person is needed."""
    answers = {}
    for name, call in (("load_task", steps.load_task), ("link_customer", steps.link_customer),
                       ("link_product", steps.link_product), ("select_agreement", steps.select_agreement),
                       ("plan_changes", steps.plan_changes)):
        before = len(log())
        answers[name] = call(deps, task_id)
        if requests_by_step is not None:
            requests_by_step[name] = log()[before:]
        assert answers[name]["outcome"] in ("loaded", "linked", "planned", "nothing_to_change"), answers[name]
    assert answers["plan_changes"].get("needsConfirmation") is False
    if answers["plan_changes"]["outcome"] == "planned":
        before = len(log())
        answers["apply_changes"] = steps.apply_changes(deps, task_id)
        if requests_by_step is not None:
            requests_by_step["apply_changes"] = log()[before:]
        outcome = "synced"
    else:
        outcome = "nothing_to_change"
    before = len(log())
    answers["finish_task"] = steps.finish_task(deps, task_id, outcome)
    if requests_by_step is not None:
        requests_by_step["finish_task"] = log()[before:]
    return answers


def split(entries: list[dict]) -> tuple[list[dict], list[dict]]:
    """(task requests, reference-data requests); the codebase discovery is neither."""
    task, reference = [], []
    for entry in entries:
        path = entry["path"]
        if path.startswith(DISCOVERY):
            continue
        (reference if path.split("/apis/3.0", 1)[-1].rstrip("/") in REFERENCE else task).append(entry)
    return task, reference


def describe(entries: list[dict]) -> str:
    return "\n".join(f"  {e['method']} {e['path'].split('/apis/3.0', 1)[-1]} {e['query']} → {e['status']}"
                     for e in entries)


@pytest.fixture
def second_order(dynamodb, simulators, request):
    """Green Lane's SO000112 synced first (links made by matching), then SO000130 with every link remembered."""
    connectwise_sim, marketplace_sim = simulators
    deps = make_deps(dynamodb, connectwise_sim, marketplace_sim, **getattr(request, "param", {}))
    first = run_task(deps, add_task(deps, "5000112"), connectwise_sim.requests)
    assert first["link_customer"]["source"] == "match"
    assert first["link_product"]["products"] == {"M365-BUSPREM-P1M": "703"}
    assert first["select_agreement"]["agreementId"] == "3101"
    # The new subscription's agreement is remembered too (as an earlier decision leaves it).
    deps.store.put_subscription_link("SUB-106", "3101", linkedBy="approval")

    task_id = add_task(deps, "5000130")
    start = len(connectwise_sim.requests())
    by_step: dict[str, list] = {}
    answers = run_task(deps, task_id, connectwise_sim.requests, by_step)
    task_requests, reference_requests = split(connectwise_sim.requests()[start:])
    report = "\n".join(f"{step}: {len(split(entries)[0])}\n{describe(entries)}" for step, entries in by_step.items())
    return {"deps": deps, "sim": connectwise_sim, "task_id": task_id, "answers": answers, "report": report,
            "task": task_requests, "reference": reference_requests}


def test_acceptance_an_already_linked_sales_order_takes_at_most_three_connectwise_requests(second_order):
    assert len(second_order["task"]) <= MAX_TASK_REQUESTS, second_order["report"]


def test_an_already_linked_sales_order_reads_only_what_it_needs_and_lands_in_connectwise(second_order):
    answers, report = second_order["answers"], second_order["report"]
    assert answers["link_customer"]["source"] == "remembered"
    assert answers["link_product"]["skipped"] is True
    assert answers["select_agreement"] == {"outcome": "linked", "agreementId": "3101", "source": "remembered",
                                           "skipped": True}
    assert answers["apply_changes"] == {"outcome": "applied", "operations": 1, "written": 1}
    assert len(second_order["reference"]) <= MAX_REFERENCE_REQUESTS, report
    requests = [(e["method"], e["path"].split("/apis/3.0", 1)[-1], e["status"]) for e in second_order["task"]]
    assert requests == [
        ("GET", "/finance/agreements/3101", 200),            # the remembered agreement, still eligible?
        ("POST", "/finance/agreements/3101/additions", 201),
    ], report  # the catalog item's price, cost and taxable flag come from the product link (read by SO000112);
    # no lookup of the tag MP-SUB-106-SO000130: it names this order, and no apply of this task ran before
    agreement_read, _ = second_order["task"]
    assert "fields" in agreement_read["query"]

    # The addition landed in ConnectWise with the plan's values.
    sim = second_order["sim"]
    with sim.state.lock:
        added = [dict(a) for a in sim.state.data["additions"] if a.get("serialNumber") == "MP-SUB-106-SO000130"]
    assert len(added) == 1, added
    (addition,) = added
    assert addition["agreementId"] == 3101
    assert addition["product"]["id"] == 703
    assert Decimal(str(addition["quantity"])) == 5
    assert Decimal(str(addition["unitPrice"])) == Decimal("22.00")
    assert Decimal(str(addition["unitCost"])) == Decimal("17.60")
    assert addition["billCustomer"] == "Billable"
    assert addition["taxableFlag"] is False  # the catalog item's own flag (703 is not taxable)
    assert addition["effectiveDate"] == "2026-11-24T00:00:00Z"
    assert not addition.get("cancelledDate")
    deps = second_order["deps"]
    assert deps.store.get_task(second_order["task_id"])["status"] == "synced"
    assert deps.store.get_subscription_link("SUB-106")["agreementId"] == "3101"


def test_a_change_order_reads_only_the_subscriptions_tagged_additions_and_those_of_its_product(dynamodb, simulators):
    """CH000116: SUB-101 10 → 12; the plan asks ConnectWise only for additions tagged MP-SUB-101-…
    and additions of its product (one typed by hand carries no tag), in one request."""
    connectwise_sim, marketplace_sim = simulators
    deps = make_deps(dynamodb, connectwise_sim, marketplace_sim)
    by_step: dict[str, list] = {}
    answers = run_task(deps, add_task(deps, "5000116"), connectwise_sim.requests, by_step)
    assert answers["apply_changes"]["written"] == answers["apply_changes"]["operations"] == 3
    (read,) = [e for e in by_step["plan_changes"] if e["path"].endswith("/finance/agreements/3101/additions")]
    assert read["query"]["conditions"] == ('serialNumber like "MP-SUB-101-*" or serialNumber="MP-SUB-101" '
                                           'or product/id in (701)')
    assert not any(e["path"].endswith("/finance/agreements/3101") for e in by_step["plan_changes"])
    with connectwise_sim.state.lock:
        additions = {a["id"]: dict(a) for a in connectwise_sim.state.data["additions"]}
    assert additions[9001]["cancelledDate"] == "2026-11-17T00:00:00Z"  # the old ×10 ends
    assert not additions[9002].get("cancelledDate") and not additions[9003].get("cancelledDate")
    (new,) = [a for a in additions.values() if a.get("serialNumber") == "MP-SUB-101-CH000116"]
    assert Decimal(str(new["quantity"])) == 12 and new["product"]["id"] == 701


@pytest.mark.parametrize("second_order", [{"CATALOG_SNAPSHOT_MAX_AGE_SECONDS": "0"}], indirect=True)
def test_a_product_links_catalog_facts_are_read_again_once_they_are_older_than_the_setting(second_order):
    requests = [(e["method"], e["path"].split("/apis/3.0", 1)[-1]) for e in second_order["task"]]
    assert ("GET", "/procurement/catalog") in requests, second_order["report"]
    (catalog_read,) = [e for e in second_order["task"] if e["path"].endswith("/procurement/catalog")]
    assert catalog_read["query"]["conditions"] == "id in (703)" and "fields" in catalog_read["query"]
    link = second_order["deps"].store.get_product_link("M365-BUSPREM-P1M")
    assert link["catalogItem"]["taxableFlag"] is False and link["linkedBy"] == "match"
    with second_order["sim"].state.lock:
        (added,) = [a for a in second_order["sim"].state.data["additions"]
                    if a.get("serialNumber") == "MP-SUB-106-SO000130"]
    assert added["taxableFlag"] is False


# SUB-101 12 → 15 on agreement 3101, after CH000116 (10 → 12) linked the customer, product and agreement.
LINKED_CHANGE = {
    "id": "5000140", "orderNumber": "CH000140", "type": "change", "customerId": "1000048531",
    "creationDate": "2026-11-24T10:00:00Z", "provisioningDate": "2026-11-24T10:00:40Z", "status": "completed",
    "total": {"amount": "4.20", "currency": "USD"}, "subscriptionId": "SUB-101",
    "billingModel": "chargeBeforeBillingPeriod", "lastBillingDate": "2026-11-01", "nextBillingDate": "2026-12-01",
    "details": [{"type": "recurring", "mpn": "M365-BUSBASIC-P1M", "productId": "2001",
                 "description": "Microsoft 365 Business Basic: 3 more licences from 2026-11-24 to 2026-11-30",
                 "quantity": 3, "duration": {"type": "day", "duration": 7},
                 "unitPrice": {"amount": "1.12", "currency": "USD"},
                 "salesUnitPrice": {"amount": "1.40", "currency": "USD"},
                 "extendedPrice": {"amount": "3.36", "currency": "USD"},
                 "salesExtendedPrice": {"amount": "4.20", "currency": "USD"}}],
    "products": [{"mpn": "M365-BUSBASIC-P1M", "id": "2001", "vendor": "Microsoft",
                  "name": "Microsoft 365 Business Basic", "quantity": 15,
                  "billingPeriod": {"type": "month", "duration": 1},
                  "subscriptionPeriod": {"type": "month", "duration": 1},
                  "subscriptionId": "SUB-101", "type": "UPGRADE"}],
}
LINKED_CHANGE_REQUESTS = 5
PLAN_STEPS = ("load_task", "link_customer", "link_product", "select_agreement", "plan_changes")


def linked_change_task(deps, simulators) -> str:
    """CH000116 synced (every link made), then CH000140 stored as the check stores it, not started."""
    connectwise_sim, marketplace_sim = simulators
    run_task(deps, add_task(deps, "5000116"), connectwise_sim.requests)
    marketplace_sim.add_orders([copy.deepcopy(LINKED_CHANGE)])
    return add_task(deps, LINKED_CHANGE["id"])


def sub_101(sim) -> tuple[list, list]:
    """(live (quantity, unit price) of SUB-101's tagged additions, descriptions of its adjustments of CH000140)."""
    with sim.state.lock:
        additions = [dict(a) for a in sim.state.data["additions"] if a.get("agreementId") == 3101]
        adjustments = [a["description"] for a in sim.state.data["adjustments"] if a.get("agreementId") == 3101]
    live = [(Decimal(str(a["quantity"])), Decimal(str(a["unitPrice"]))) for a in additions
            if str(a.get("serialNumber") or "").startswith("MP-SUB-101-") and not a.get("cancelledDate")]
    tags = [a.get("serialNumber") for a in additions if a.get("serialNumber")]
    assert len(tags) == len(set(tags)), tags  # no tag twice: no addition written twice
    return live, [d for d in adjustments if d.startswith("MP-SUB-101-CH000140")]


def test_a_linked_change_order_takes_five_connectwise_requests_and_asks_nothing_its_plan_read(dynamodb, simulators):
    """The plan's read of SUB-101's tagged additions answers what the applier would ask again:
    the addition to end is as read, and no record carries the new tags yet."""
    connectwise_sim, marketplace_sim = simulators
    deps = make_deps(dynamodb, connectwise_sim, marketplace_sim)
    task_id = linked_change_task(deps, simulators)
    start = len(connectwise_sim.requests())
    by_step: dict[str, list] = {}
    answers = run_task(deps, task_id, connectwise_sim.requests, by_step)
    task_requests, _ = split(connectwise_sim.requests()[start:])
    report = "\n".join(f"{step}: {len(split(entries)[0])}\n{describe(entries)}" for step, entries in by_step.items())
    assert answers["link_customer"]["source"] == "remembered" and answers["select_agreement"]["source"] == "remembered"
    (old,) = [a for a in connectwise_sim.state.data["additions"] if a.get("serialNumber") == "MP-SUB-101-CH000116"]
    requests = [(e["method"], e["path"].split("/apis/3.0", 1)[-1]) for e in task_requests]
    assert requests == [
        ("GET", "/finance/agreements/3101"),                    # the remembered agreement, still eligible?
        ("GET", "/finance/agreements/3101/additions"),          # the plan: SUB-101's tagged additions
        ("PATCH", f"/finance/agreements/3101/additions/{old['id']}"),  # the ×12 ends
        ("POST", "/finance/agreements/3101/additions"),         # the ×15
        ("POST", "/finance/agreements/3101/adjustments"),       # the prorated 3 more licences
    ], report
    assert len(task_requests) == LINKED_CHANGE_REQUESTS
    assert answers["apply_changes"] == {"outcome": "applied", "operations": 3, "written": 3}
    live, prorate = sub_101(connectwise_sim)
    assert live == [(Decimal(15), Decimal(6))]
    (description,) = prorate
    assert "12 → 15" in description
    assert deps.store.get_task(task_id)["status"] == "synced"
