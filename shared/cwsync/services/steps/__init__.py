"""The SyncTask steps: one module per state-machine step (wizard page), `(deps, task_id, ...) -> small dict`.

| step             | module      | what it decides                                            |
|------------------|-------------|------------------------------------------------------------|
| LoadTask         | `load`      | start, or leave a task that already ended alone           |
| LinkCustomer     | `customer`  | the ConnectWise company of the marketplace customer       |
| LinkProduct      | `product`   | the catalog item of each product (or add it to ConnectWise)|
| SelectAgreement  | `agreement` | the agreement the subscription bills on                   |
| PlanChanges      | `plan`      | the writes, and whether a person confirms them            |
|  … confirmed     | `confirm`   | the approver's plan, with their edits                     |
| RequestApproval  | `approval`  | stores the question and sends the signed link             |
| ApplyChanges     | `apply`     | writes the plan, idempotently                             |
| FinishTask       | `finish`    | the final status, reason and notification                 |

Each step loads what it needs (task, order, links, ConnectWise records), asks the pure
domain what to do, records what it decided on the task (status `in_progress` with a
history entry a person can read) and in the remembered links, and returns the shape in
docs/INTERFACES.md. A step that needs a person returns
`{"outcome": "needs_approval", "approval": {...}}`; the state machine then runs
`request_approval` and calls the step again with the approver's `decision`
(`{"decision": f"{__name__}.approve", "choice", "changes", "approvalId"}`). Wording sent to people
lives in `cwsync.notifications`; shared words in `cwsync.vocabulary`.

Each handler imports only its own step's module. `steps.<function>` still works for
callers that run several steps (tests, benchmarks): the module is imported on first use.
"""
from __future__ import annotations

import importlib
from typing import Any

STEP_MODULES = {
    "load_task": f"{__name__}.load",
    "link_customer": f"{__name__}.customer",
    "link_product": f"{__name__}.product",
    "select_agreement": f"{__name__}.agreement",
    "plan_changes": f"{__name__}.plan",
    "plan_settings": f"{__name__}.plan",
    "confirm_plan": f"{__name__}.confirm",
    "apply_edits": f"{__name__}.confirm",
    "request_approval": f"{__name__}.approval",
    "task_summary": f"{__name__}.approval",
    "apply_changes": f"{__name__}.apply",
    "finish_task": f"{__name__}.finish",
    "error_text": f"{__name__}.finish",
}


def __getattr__(name: str) -> Any:
    module = STEP_MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
