"""Reconciliation: report every difference between the marketplace and ConnectWise billing,
and turn each subscription's differences into a repair sync task (kind `reconcile`).

`reconcile(deps, customer_id=None, repair=None)` reads (see `reconcile_read`), compares
(`cwsync.domain.reconcile`), reports (`reconcile_report`), notifies when the money not
billed per month is above RECONCILE_NOT_BILLED_THRESHOLD, and with `repair` (default
RECONCILE_MODE=repair) stores one repair task per customer and agreement (every subscription
with differences that bills there, in one plan and one confirmation) and starts its SyncTask
execution. The task runs the normal steps; `plan_changes` asks
`reconcile_plan` for the repair, re-read from both systems at that moment, so what a person
confirms is what ConnectWise looks like then.
"""
from __future__ import annotations

import hashlib
import logging
from datetime import date
from typing import Any, Mapping

from cwsync.domain import reconcile as r
from cwsync.domain.reconcile_repair import TASK_TYPE, RepairSettings, repair_groups, repair_plan
from cwsync.domain.reconcile_report import not_billed_above, report
from cwsync.errors import SyncFailed
from cwsync.services.reconcile_read import Picture, Reader, targets
from cwsync.vocabulary import Action, TaskStatus

log = logging.getLogger(__name__)

OPEN_STATUSES = (TaskStatus.NEW, TaskStatus.IN_PROGRESS, TaskStatus.WAITING_APPROVAL)


def _today(deps) -> date:
    return deps.now().date()


def compare(deps, picture: Picture, *, override: Mapping[str, Any] | None = None) -> list[r.LineFinding]:
    """Every customer's findings; `override` pins a subscription's agreement (a task's choice)."""
    settings = deps.settings
    findings: list[r.LineFinding] = []
    for data in sorted(picture.customers.values(), key=lambda c: c.customer_id):
        if data.company_id is None:
            for sub in data.subscriptions:
                picture.problems.append({"subscriptionId": sub.id, "customer": data.name,
                                         "problem": f"Customer {data.name} ({data.customer_id}) is not linked to a "
                                                    "ConnectWise company and matches none exactly"})
            continue
        unreadable = picture.unreadable.get(str(data.company_id))
        if unreadable is not None:  # one of the company's agreements may bill these: listed as not compared until it reads
            picture.problems.extend({"subscriptionId": sub.id, "customer": data.name,
                                     "problem": unreadable} for sub in data.subscriptions)
            continue
        chosen = targets(picture, data, picture.remembered, settings.tag_format, _today(deps))
        chosen.update({k: str(v) for k, v in (override or {}).items() if v is not None})
        agreements = picture.company_agreements(data.company_id)
        ctx = r.CustomerContext(customer=data.name, agreements=agreements,
                                additions={a: picture.additions.get(a, []) for a in agreements},
                                products=picture.products, targets=chosen, baselines=picture.baselines,
                                tag_format=settings.tag_format, today=_today(deps))
        findings.extend(r.compare_customer(data.subscriptions, ctx))
    return findings


def reconcile(deps, *, customer_id: str | None = None, repair: bool | None = None,
              source: str = "schedule") -> dict:
    """The report; with repair, also `tasks`: the repair tasks started (ids)."""
    picture = Reader(deps, today=_today(deps)).read(customer_id)
    findings = compare(deps, picture)
    result = report(findings, unreadable=picture.problems)
    if repair is None:
        repair = deps.settings.reconcile_mode == "repair"
    result["tasks"] = _start_repairs(deps, picture, findings) if repair else []
    result["notified"] = _notify(deps, result)
    from cwsync.adapters.reports import save_report

    save_report(deps.store, result, at=deps.now(), source=source, customer_id=customer_id)
    log.info("Reconciliation: %s subscriptions checked, %s in step, %s differences",
             result["totals"]["subscriptionsChecked"], result["totals"]["inStep"], result["totals"]["differences"])
    return result


def _notify(deps, result: dict) -> bool:
    above = not_billed_above(result["totals"], deps.settings.reconcile_threshold)
    if not above:
        return False
    totals = result["totals"]
    amounts = ", ".join(f"{amount} {currency}" for currency, amount in totals["notBilledPerMonth"].items())
    lines = [f"The reconciliation found money not billed in ConnectWise: {amounts} a month "
             f"(threshold {deps.settings.reconcile_threshold}).", "",
             f"{totals['subscriptionsChecked']} subscriptions checked, {totals['inStep']} in step, "
             f"{totals['differences']} difference(s):"]
    lines += [f"  - {r.KIND_LABELS[kind]}: {count}" for kind, count in totals["byKind"].items() if count]
    if totals["overBilledPerMonth"]:
        lines.append("Billed too much a month: " + ", ".join(
            f"{amount} {currency}" for currency, amount in totals["overBilledPerMonth"].items()))
    lines += ["", "Run `cwsync reconcile` (or open the reconciliation page) to review the differences; repairs "
                  "go through the usual approvals."]
    deps.notifier.publish("Reconciliation: money not billed", "\n".join(lines))
    return True


# --- repair tasks ------------------------------------------------------------------------------

def task_subscriptions(task: Mapping[str, Any]) -> list[str]:
    """The subscriptions a reconcile task repairs."""
    listed = [str(s) for s in task.get("subscriptionIds") or []]
    return listed or ([str(task["subscriptionId"])] if task.get("subscriptionId") else [])


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _start_repairs(deps, picture: Picture, findings: list[r.LineFinding]) -> list[str]:
    if not any(f.differences for f in findings):
        return []
    busy = {sub for status in OPEN_STATUSES for t in deps.store.list_tasks(status) if t.get("taskType") == TASK_TYPE
            for sub in task_subscriptions(t)}  # their repair is already waiting for a person or running
    started = []
    for group in repair_groups(findings, busy):
        task = repair_task(deps, picture, group)
        if deps.store.create_task(task):
            deps.workflow.start(task["taskId"])
            started.append(task["taskId"])
    return started


def repair_task(deps, picture: Picture, findings: list[r.LineFinding]) -> dict:
    """The sync task (kind `reconcile`) that repairs the findings' subscriptions, of one customer
    and agreement, in one plan and one confirmation."""
    subs = list({f.subscription.id: f.subscription for f in findings}.values())
    first = subs[0]
    target = next((_text(f.target_agreement) for f in findings if f.subscription.billed), None)
    differences = [d.to_dict() for f in findings for d in f.differences]
    fingerprint = hashlib.sha256(repr(sorted((d["subscriptionId"] or "", d["kind"], d["additionId"] or "",
                                              d["field"] or "", d["mpn"] or "") for d in differences)
                                      ).encode()).hexdigest()[:8]
    day = _today(deps)
    where = first.id if len(subs) == 1 else f"{first.customer_id}-{target or 'ended'}"
    task_id = f"RC-{where}-{day:%Y%m%d}-{fingerprint}"
    number = f"RC-{day:%Y%m%d}"
    currency = first.currency or next((d["currency"] for d in differences if d["currency"]), "")
    data = picture.customers.get(first.customer_id)
    billed = [s for s in subs if s.billed]
    single = {"subscriptionId": first.id} if len(subs) == 1 else {}
    order = {  # the subscriptions in the shape of an order, so the linking steps read them as they read orders
        "id": task_id, "orderNumber": number, "type": TASK_TYPE, "status": "completed",
        "customerId": first.customer_id, "creationDate": deps.now().isoformat(), **single,
        "billingModel": first.billing_model, "total": {"amount": "0", "currency": currency},
        "products": [{"mpn": line.mpn, "name": line.name, "quantity": str(line.quantity), "subscriptionId": sub.id,
                      "billingPeriod": {"type": sub.period.type, "duration": sub.period.duration},
                      "type": "RECONCILE"} for sub in billed for line in sub.lines],
    }
    named = f"{first.name} ({first.id})" if len(subs) == 1 else f"{len(subs)} subscriptions"
    return {"taskId": task_id, "taskType": TASK_TYPE, "orderId": task_id, "orderNumber": number,
            "customerId": first.customer_id, **single, "subscriptionIds": [s.id for s in subs],
            "needsAgreement": bool(billed), **({"targetAgreementId": target} if target and billed else {}),
            **({"customerName": data.name} if data and data.name else {}),
            "order": order, "differences": differences,
            "reason": f"Reconciliation found {len(differences)} difference(s) for {named}"
                      + (f" on agreement #{target}" if target and billed else "")}


def reconcile_plan(deps, task: Mapping[str, Any]) -> dict:
    """The repair plan of a reconcile task, from both systems as they are now."""
    subs, customer_id = task_subscriptions(task), str(task.get("customerId") or "")
    agreement_id = task.get("agreementId")
    picture = Reader(deps, today=_today(deps)).read(customer_id)
    findings = [f for f in compare(deps, picture, override={s: agreement_id for s in subs})
                if f.subscription.id in subs]
    if not findings:
        problems = [p["problem"] for p in picture.problems if p.get("subscriptionId") in subs]
        named, it = (f"Subscription {subs[0]}", "it") if len(subs) == 1 else (f"Subscriptions {', '.join(subs)}", "them")
        why = problems[0] if problems else f"the marketplace no longer lists {it} as billed or recently ended"
        raise SyncFailed(f"{named} could not be reconciled: {why}")
    settings = deps.settings
    return repair_plan(str(task["taskId"]), findings, target=agreement_id, agreements=picture.agreements,
                       products=picture.products, catalog=picture.catalog, today=_today(deps),
                       settings=RepairSettings(settings.tag_format, settings.bill_customer, settings.taxable))


# --- what cwsync wrote ------------------------------------------------------------------------

REMEMBERED_FIELDS = ("serialNumber", "quantity", "unitPrice", "unitCost", *r.EDITABLE_FIELDS)


def remember_written(deps, plan: Mapping[str, Any], changes: list[Mapping[str, Any]]) -> None:
    """After a plan was applied: remember the fields cwsync wrote to each addition, and the
    ConnectWise edits a reconcile plan kept, as the baseline later reconciliations compare with."""
    from cwsync.adapters.written import WrittenRecords

    written = WrittenRecords(deps.store)
    by_key = {c.get("key"): c for c in changes}
    for op in plan.get("operations") or []:
        change = by_key.get(op.get("key")) or {}
        if op.get("action") not in (Action.CREATE_ADDITION, Action.UPDATE_ADDITION, Action.CANCEL_ADDITION) \
                or change.get("id") is None:
            continue
        fields = {k: v for k, v in (op.get("fields") or {}).items() if k in REMEMBERED_FIELDS}
        if fields:
            written.remember(op.get("agreementId"), change["id"], fields)
    for kept in plan.get("acceptEdits") or []:
        written.remember(kept["agreementId"], kept["additionId"], kept.get("fields") or {})
