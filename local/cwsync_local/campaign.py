"""The billing-safety fault campaign: its scenarios, their seed, and what ConnectWise must hold after.

One marketplace customer, ConnectWise company and agreement per task (so each task's
outcome can be checked on its own agreement), with existing additions tagged by cwsync or
typed by hand. `cwsync_local.campaign_run.run_campaign` runs every order through
`cwsync run` (killed and restarted on the way) while the simulators inject 5xx, 429,
latency and commit-then-fail faults; an approver answers every confirmation, editing
prices and charge descriptions on some. The expected end state of each agreement is
computed here from the scenario alone, never from a plan.
"""
from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from cwsync.vocabulary import Action, ChargeType, OrderType, TaskStatus, TaskType

TAGGED, HAND_MADE = "tagged", "hand-made"  # what bills the subscription in ConnectWise before the order
KINDS = ((TaskType.SALES, None), (TaskType.CHANGE, TAGGED), (TaskType.CHANGE, HAND_MADE),
         (TaskType.CANCELLATION, TAGGED), (TaskType.CANCELLATION, HAND_MADE), (TaskType.RENEWAL, TAGGED),
         (TaskType.RENEWAL, HAND_MADE), (TaskType.BILLING, None))
DONE = (TaskStatus.SYNCED, TaskStatus.NOTHING_TO_CHANGE)
PRODUCT = {"id": 701, "identifier": "M365-BB"}  # the demo catalog item of MPN M365-BUSBASIC-P1M
MPN, NAME, PRICE = "M365-BUSBASIC-P1M", "Microsoft 365 Business Basic", Decimal("6.00")
EDITED_PRICE, EDITED_TEXT = Decimal("6.25"), "Overuse: backup storage 38 GB over 100 GB"
DEFAULT_KILLS = 10  # stops of the runtime in the full campaign
DEFAULT_FAULTS = {"fail_rate": 0.05, "commit_then_fail_rate": 0.15, "latency_ms": 2, "throttle": 2400,
                  "random_seed": 9}


@dataclass
class Scenario:
    index: int
    task_type: TaskType
    existing: str | None  # TAGGED, HAND_MADE or None
    old: int
    new: int
    edit: bool  # the approver edits the new addition's price, or the charge's description

    @property
    def subscription(self) -> str:
        return f"SUB-K{self.index:05d}"

    @property
    def agreement_id(self) -> int:
        return 60000 + self.index

    @property
    def order_id(self) -> str:
        return str(8000000 + self.index)

    @property
    def kind(self) -> str:
        return f"{self.task_type}-{self.existing}" if self.existing else str(self.task_type)


def scenarios(count: int) -> list[Scenario]:
    """`count` scenarios cycling through KINDS; change orders go up or down, never to the same quantity."""
    items = []
    for i in range(count):
        old = 3 + i % 7
        new = 1 + (i * 5) % 12
        items.append(Scenario(i, *KINDS[i % len(KINDS)], old=old, new=new if new != old else old + 2,
                              edit=(i // len(KINDS)) % 2 == 0))
    return items


# --- the seed -----------------------------------------------------------------------------

def campaign_seed(items: list[Scenario], now: datetime) -> dict:
    from cwsync_local.simulators.common import load_seed

    seed = load_seed()
    mp, cw = seed["marketplace"], seed["connectwise"]
    company_tpl = next(c for c in cw["companies"] if c["id"] == 19301)
    agreement_tpl = next(a for a in cw["agreements"] if a["id"] == 3101)
    customer_tpl = next(c for c in mp["customers"] if c["id"] == "1000048531")
    mp["orders"] = []  # the demo's ConnectWise records stay; every task gets records of its own
    for s in items:
        customer_id = f"20{s.index:08d}"
        name = f"Campaign Customer {s.index:05d}"
        mp["customers"].append({**copy.deepcopy(customer_tpl), "id": customer_id, "name": name,
                                "externalId": f"CC-{s.index}"})
        company = {**copy.deepcopy(company_tpl), "id": 50000 + s.index, "identifier": customer_id, "name": name}
        ref = {"id": company["id"], "identifier": customer_id, "name": name}
        contact = {"id": 90000 + s.index, "firstName": "Campaign", "lastName": f"Contact {s.index}", "company": ref,
                   "inactiveFlag": False, "defaultFlag": True, "defaultBillingFlag": True}
        company["defaultContact"] = {"id": contact["id"], "name": f"Campaign Contact {s.index}"}
        cw["companies"].append(company)
        cw["contacts"].append(contact)
        cw["agreements"].append({**copy.deepcopy(agreement_tpl), "id": s.agreement_id, "name": f"{name} - Cloud",
                                 "company": ref, "contact": dict(company["defaultContact"])})
        if s.existing:
            addition = {"id": 70000 + s.index, "agreementId": s.agreement_id, "product": dict(PRODUCT),
                        "quantity": s.old, "unitPrice": float(PRICE), "unitCost": 4.8, "billCustomer": "Billable",
                        "effectiveDate": "2026-01-01T00:00:00Z", "description": NAME}
            if s.existing == TAGGED:
                addition["serialNumber"] = f"MP-{s.subscription}-SO0"
            cw["additions"].append(addition)
        mp["orders"].append(marketplace_order(s, customer_id, now - timedelta(minutes=5 + s.index)))
    return seed


def _period(day: date) -> tuple[date, date]:
    start = day.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


def marketplace_order(s: Scenario, customer_id: str, created: datetime) -> dict:
    def money(amount: Decimal) -> dict:
        return {"amount": f"{amount:f}", "currency": "USD"}

    line_type = {TaskType.SALES: "CREATE", TaskType.CHANGE: "UPGRADE", TaskType.CANCELLATION: "CANCEL",
                 TaskType.RENEWAL: "RENEW", TaskType.BILLING: "BILLING_SUBSCRIPTION"}[s.task_type]
    prefix = {TaskType.SALES: "SO", TaskType.CHANGE: "CH", TaskType.CANCELLATION: "CL", TaskType.RENEWAL: "RN",
              TaskType.BILLING: "BO"}[s.task_type]
    quantity = {TaskType.CANCELLATION: s.old, TaskType.BILLING: 1}.get(s.task_type, s.new)
    if (s.task_type, s.existing) == (TaskType.RENEWAL, HAND_MADE):
        quantity = s.old
    start, end = _period(created.date())
    charges: list[dict] = []
    if s.task_type in (TaskType.SALES, TaskType.RENEWAL):
        price = PRICE + Decimal("0.50") if (s.task_type, s.existing) == (TaskType.RENEWAL, TAGGED) else PRICE
        charges.append({"type": ChargeType.RENEW if s.task_type == TaskType.RENEWAL else ChargeType.RECURRING,
                        "mpn": MPN,
                        "quantity": quantity, "duration": {"type": "month", "duration": 1},
                        "unitPrice": money(price * Decimal("0.8")), "salesUnitPrice": money(price)})
    elif s.task_type == TaskType.CHANGE:
        days = (end - created.date()).days
        charges.append({"type": ChargeType.RECURRING if s.new > s.old else ChargeType.DOWNGRADE, "mpn": MPN,
                        "quantity": abs(s.new - s.old), "duration": {"type": "day", "duration": days},
                        "unitPrice": money(Decimal("1.00") * (1 if s.new > s.old else -1)),
                        "salesUnitPrice": money(Decimal("1.50") * (1 if s.new > s.old else -1))})
    elif s.task_type == TaskType.CANCELLATION:
        charges.append({"type": ChargeType.CANCELLATION, "mpn": MPN, "description": "Early termination", "quantity": 1,
                        "unitPrice": money(Decimal("5.00")), "salesUnitPrice": money(Decimal("10.00"))})
    else:
        start, end = _period(start - timedelta(days=1))
        charges.append({"type": ChargeType.OVERUSE, "mpn": MPN, "description": "Backup storage over 100 GB", "quantity": 38,
                        "unitPrice": money(Decimal("0.05")), "salesUnitPrice": money(Decimal("0.06"))})
    stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "id": s.order_id, "orderNumber": f"{prefix}{s.order_id}",
        "type": OrderType.SALES if s.task_type == TaskType.BILLING else s.task_type, "customerId": customer_id, "creationDate": stamp, "provisioningDate": stamp,
        "status": "completed", "subscriptionId": s.subscription,
        "billingModel": "chargeAfterBillingPeriod" if s.task_type == TaskType.BILLING else "chargeBeforeBillingPeriod",
        "total": money(Decimal(0)), "details": charges,
        "lastBillingDate": start.isoformat(), "nextBillingDate": end.isoformat(),
        "products": [{"mpn": MPN, "name": NAME, "quantity": quantity, "type": line_type,
                      "subscriptionId": s.subscription, "billingPeriod": {"type": "month", "duration": 1}}],
    }


# --- what ConnectWise must hold afterwards, from the scenario alone ---------------------

def expected_state(s: Scenario, created: datetime) -> dict:
    """{"live": sorted (quantity, price), "charges": sorted amounts} on the scenario's agreement."""
    cents = Decimal("0.01")
    if s.task_type == TaskType.SALES:
        return {"live": [(Decimal(s.new), PRICE)], "charges": []}
    if s.task_type == TaskType.CANCELLATION:
        return {"live": [], "charges": [Decimal("10.00")]}
    if s.task_type == TaskType.BILLING:
        return {"live": [], "charges": [(38 * Decimal("0.06")).quantize(cents)]}
    if s.task_type == TaskType.RENEWAL:
        if s.existing == HAND_MADE:
            return {"live": [(Decimal(s.old), PRICE)], "charges": []}
        return {"live": [(Decimal(s.new), PRICE + Decimal("0.50"))], "charges": []}
    price = EDITED_PRICE if s.edit else PRICE
    start, end = _period(created.date())
    remaining, total = (end - created.date()).days, (end - start).days
    difference = (s.new - s.old) * PRICE  # the prorated charge is priced as planned, before any edit
    amount = (difference * remaining / total).quantize(cents, rounding=ROUND_HALF_UP)
    return {"live": [(Decimal(s.new), price)], "charges": [amount] if difference else []}


def actual_state(data: dict, s: Scenario) -> dict:
    cents = Decimal("0.01")
    live = sorted((Decimal(str(a["quantity"])), Decimal(str(a["unitPrice"])).quantize(cents))
                  for a in data["additions"] if a.get("agreementId") == s.agreement_id and not a.get("cancelledDate"))
    charges = sorted(Decimal(str(a["amount"])).quantize(cents)
                     for a in data["adjustments"] if a.get("agreementId") == s.agreement_id)
    return {"live": live, "charges": charges}


def untouched_state(s: Scenario) -> dict:
    live = [(Decimal(s.old), PRICE)] if s.existing else []
    return {"live": live, "charges": []}


# --- the run ------------------------------------------------------------------------------

@dataclass
class CampaignResult:
    tasks: int = 0
    outcomes: Counter = field(default_factory=Counter)
    failed_reasons: Counter = field(default_factory=Counter)
    duplicate_writes: int = 0
    missing_writes: int = 0
    extra_live: int = 0  # additions live beyond the expected ones (double billing)
    state_matches: int = 0
    partial: list[str] = field(default_factory=list)
    approvals_answered: int = 0
    edits_made: int = 0
    kills: int = 0  # SIGKILLs sent to `cwsync run`
    interrupts: int = 0  # Ctrl-Cs (SIGINT) sent to it
    restarts: int = 0
    asked_again: int = 0  # confirmations asked again after a decision was acknowledged (a lost decision)
    open_tasks: list[str] = field(default_factory=list)  # tasks not settled by the deadline
    seconds: float = 0.0

    def rows(self) -> list[tuple[str, Any]]:
        return [("tasks", self.tasks), ("tasks synced", self.outcomes.get(TaskStatus.SYNCED, 0)),
                ("nothing to change", self.outcomes.get(TaskStatus.NOTHING_TO_CHANGE, 0)),
                ("failed with a stated reason", sum(self.failed_reasons.values())),
                ("other final status", sum(n for k, n in self.outcomes.items()
                                           if k not in (*DONE, TaskStatus.FAILED))),
                ("confirmations answered (with edits)", f"{self.approvals_answered} ({self.edits_made})"),
                ("runtime stopped: SIGKILL / Ctrl-C", f"{self.kills} / {self.interrupts}"),
                ("restarts", self.restarts),
                ("decisions asked again after an acknowledged decision", self.asked_again),
                ("tasks still open at the deadline", len(self.open_tasks)),
                ("duplicate writes", self.duplicate_writes), ("missing writes", self.missing_writes),
                ("additions live beyond the expected (double billing)", self.extra_live),
                ("agreements equal to the expected state", f"{self.state_matches} of {self.tasks}"),
                ("wall time", f"{self.seconds:.0f} s")]

    def table(self) -> str:
        width = max(len(name) for name, _ in self.rows())
        lines = [f"| {'figure'.ljust(width)} | result |", f"|{'-' * (width + 2)}|--------|"]
        lines += [f"| {name.ljust(width)} | {value} |" for name, value in self.rows()]
        return "\n".join(lines)


def approver_changes(s: Scenario, plan: dict | None) -> dict:
    """What the campaign's approver edits on the confirm form: the new addition's price (change
    orders) or the charge's description (billing orders), on the scenarios marked `edit`."""
    changes: dict = {}
    for op in (plan or {}).get("operations") or []:
        if s.edit and op.get("action") == Action.CREATE_ADDITION and s.task_type == TaskType.CHANGE:
            changes[op["key"]] = {"unitPrice": f"{EDITED_PRICE:f}"}
        if s.edit and op.get("action") == Action.CREATE_ADJUSTMENT and s.task_type == TaskType.BILLING:
            changes[op["key"]] = {"description": EDITED_TEXT}
    return changes


def score(result: CampaignResult, items: list[Scenario], tasks: dict, data: dict, now: datetime) -> None:
    serials = Counter(a["serialNumber"] for a in data["additions"] if a.get("serialNumber"))
    tags = Counter(str(a.get("description") or "").split(" ", 1)[0] for a in data["adjustments"])
    result.duplicate_writes = sum(n - 1 for n in serials.values() if n > 1) + sum(n - 1 for n in tags.values() if n > 1)
    for s in items:
        task = tasks.get(s.order_id) or {"status": "never stored"}
        status = str(task.get("status"))
        result.outcomes[status] += 1
        if status == TaskStatus.FAILED and task.get("reason"):
            result.failed_reasons[str(task["reason"])[:120]] += 1
        created = now - timedelta(minutes=5 + s.index)
        want, have = expected_state(s, created), actual_state(data, s)
        if status in DONE and have == want:
            result.state_matches += 1
        elif status not in DONE and have in (want, untouched_state(s)):
            result.state_matches += 1  # a failed task changed all of its plan or nothing
        else:
            result.partial.append(f"{s.order_id} {s.kind} {status}: expected {want}, found {have}")
        if status in DONE:
            missing = Counter(want["live"]) - Counter(have["live"])
            missing += Counter(want["charges"]) - Counter(have["charges"])
            result.missing_writes += sum(missing.values())
            result.extra_live += sum((Counter(have["live"]) - Counter(want["live"])).values())
