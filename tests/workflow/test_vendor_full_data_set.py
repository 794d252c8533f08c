"""Acceptance over the vendor-full data set: the demo story with ConnectWise records carrying every
field of the vendor's newer models (docs/SEED.md), through the real state machine.

Every task that needs no person syncs, and ConnectWise ends with the same live lines and charges
as on the other data sets; the records no order touches (every enum value, custom fields of every
type, nulls where the API allows them) stay as they were; nothing cwsync tells anyone shows Python
text. `cwsync run --seed vendor-full --once --json --parameter ApprovalPolicy=never` does the same.
"""
from __future__ import annotations

from decimal import Decimal

import pytest

from acceptance import connectwise, python_text, settled_runtime, tagged
from cwsync_local.simulators.common import load_seed
from test_sync_workflow import run_once

SEED = load_seed("vendor-full")
ORIGINAL = {a["id"]: a for a in SEED["connectwise"]["additions"]}
SYNCED = {"BO000110", "SO000112", "CH000116", "CH000118", "CL000119"}
WAITING = {"SO000113", "SO000114", "SO000117", "SO000120", "SO000121"}
TERMS = ("agreementId", "product", "quantity", "unitPrice", "unitCost", "effectiveDate", "cancelledDate",
         "serialNumber", "billCustomer", "taxableFlag")


def money(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def live_lines(state: dict) -> dict[str, tuple]:
    """Per subscription line cwsync wrote: (agreement, product, live quantity, price, cost, effective, cancelled)."""
    def line(tag: str) -> tuple:
        [addition] = tagged(state["additions"], tag)
        return (addition["agreementId"], addition["product"]["id"], addition["quantity"], money(addition["unitPrice"]),
                money(addition["unitCost"]), addition["effectiveDate"], addition.get("cancelledDate"))

    return {tag: line(tag) for tag in ("MP-SUB-104-SO000112", "MP-SUB-101-CH000116", "MP-SUB-102-CH000118")}


EXPECTED_LINES = {
    "MP-SUB-104-SO000112": (3101, 703, 10, Decimal("22.00"), Decimal("17.60"), "2026-11-12T00:00:00Z", None),
    "MP-SUB-101-CH000116": (3101, 701, 12, Decimal("6.00"), Decimal("4.80"), "2026-11-17T00:00:00Z", None),
    "MP-SUB-102-CH000118": (3101, 702, 3, Decimal("4.00"), Decimal("3.20"), "2026-11-19T00:00:00Z", None),
}
EXPECTED_CHARGES = {(3101, Decimal("75.00")), (3101, Decimal("5.60")), (3101, Decimal("-3.20")),
                    (3201, Decimal("10.00")), (3201, Decimal("2.28")), (3201, Decimal("40.00"))}


def assert_connectwise_holds_what_the_orders_say(state: dict) -> None:
    assert live_lines(state) == EXPECTED_LINES
    additions = {a["id"]: a for a in state["additions"]}
    # Ended by the change and cancellation orders; the hand-typed and variety lines untouched.
    assert (additions[9001]["cancelledDate"], additions[9002]["cancelledDate"], additions[9004]["cancelledDate"]) \
        == ("2026-11-17T00:00:00Z", "2026-11-19T00:00:00Z", "2026-11-20T00:00:00Z")
    for addition_id in (9005, 9006, 9007, 9008, 9900, 9901, 9902):
        assert {k: additions[addition_id].get(k) for k in TERMS} == {k: ORIGINAL[addition_id].get(k) for k in TERMS}
    charges = {(a["agreementId"], money(a["amount"])) for a in state["adjustments"] if "MP-SUB-" in a["description"]}
    assert charges == EXPECTED_CHARGES
    for tag in WAITING:
        assert not tagged(state["additions"], tag) and not tagged(state["adjustments"], tag, "description")


def test_the_data_set_has_every_field_and_enum_value_it_promises():
    cw = SEED["connectwise"]
    assert {a["billCustomer"] for a in cw["additions"]} == {"Billable", "DoNotBill", "NoCharge"}
    assert {t["billTime"] for t in cw["agreementTypes"]} == {"Billable", "DoNotBill", "NoCharge", "NoDefault"}
    assert {t["invoicingCycle"] for t in cw["agreementTypes"]} == {"ContractYear", "CalendarYear"}
    assert {a["applicationUnits"] for a in cw["agreements"]} == {"Amount", "Hours", "Incidents"}
    assert {c["currencyIdentifier"] for c in cw["currencies"]} == {"USD", "EUR"}
    agreement = next(a for a in cw["agreements"] if a["id"] == 3101)
    assert "invoiceProratedAdditionsFlag" in agreement and agreement["company"]["_info"]["company_href"]
    assert {f["type"] for f in agreement["customFields"]} >= {"Text", "Checkbox"}
    assert any(value is None for record in cw["agreements"] for value in record.values())


@pytest.fixture(scope="module")
def synced(tmp_path_factory):
    with settled_runtime(tmp_path_factory.mktemp("vendor-full"), seed="vendor-full",
                         parameters={"ApprovalPolicy": "never"}) as rt:
        yield rt


def test_every_task_that_needs_no_person_syncs_with_the_expected_lines_in_connectwise(synced):
    statuses = {t["orderNumber"]: t["status"] for t in synced.tasks()}
    assert {o for o, s in statuses.items() if s == "synced"} == SYNCED
    assert {o for o, s in statuses.items() if s == "waiting_approval"} == WAITING
    assert (statuses["RN000115"], statuses["SO000111"]) == ("nothing_to_change", "ignored")
    assert_connectwise_holds_what_the_orders_say(connectwise(synced))
    assert python_text(synced) == []


def test_cwsync_run_once_takes_the_data_set_by_name_and_syncs_the_same(tmp_path):
    summaries, state = run_once(tmp_path / "cli", "--parameter", "ApprovalPolicy=never", "--seed", "vendor-full")
    assert {o for o, s in summaries.items() if s["status"] == "synced"} == SYNCED
    assert {o for o, s in summaries.items() if s["status"] == "waiting_approval"} == WAITING
    assert all(summary["reason"] for summary in summaries.values())
    assert_connectwise_holds_what_the_orders_say(state)
