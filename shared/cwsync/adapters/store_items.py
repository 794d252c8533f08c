"""The items of the cwsync table, as the store reads and writes them (`TypedDict`s).

Values are what DynamoDB gives back through the store's one conversion
(`store.from_attribute_values`): numbers as `Decimal`, times as fixed-width ISO UTC text,
ids as text. `store.to_plain` turns a value into JSON-like data where a caller needs it.
Fields not listed here may be present: a task carries what its steps recorded.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, TypedDict


class HistoryEntry(TypedDict):
    status: str
    at: str
    reason: str | None


class TaskItem(TypedDict, total=False):
    taskId: str
    status: str                 # cwsync.vocabulary.TaskStatus
    reason: str | None
    taskType: str               # cwsync.vocabulary.TaskType
    orderId: str
    orderNumber: str
    customerId: str
    customerName: str
    companyId: str
    companyName: str
    agreementId: str
    agreementName: str
    order: dict[str, Any]       # the order detail as the check read it
    plan: dict[str, Any]        # cwsync.domain.operations.Plan.to_dict()
    approvalId: str
    approvalKind: str
    history: list[HistoryEntry]
    createdAt: str
    updatedAt: str
    finishedAt: str
    workflowStartedAt: str
    applyStartedAt: str         # this plan's writes began (a stop then completes it); "Sync again" clears it
    applyBegunAt: str           # the task's first apply attempt began; never cleared (see Store.begin_apply)


class CustomerLink(TypedDict, total=False):
    customerId: str
    companyId: str
    companyName: str | None
    customerName: str
    linkedBy: str               # cwsync.vocabulary.LinkSource
    linkedAt: str


class ProductLink(TypedDict, total=False):
    mpn: str
    catalogItemId: str
    identifier: str | None
    catalogItem: dict[str, Any]  # what the planner reads of the item, remembered with `snapshotAt`
    snapshotAt: str
    linkedBy: str
    linkedAt: str


class SubscriptionLink(TypedDict, total=False):
    subscriptionId: str
    agreementId: str
    agreementName: str
    linkedBy: str
    linkedAt: str


class ApprovalItem(TypedDict, total=False):
    approvalId: str
    token: str                  # the Step Functions task token: never shown, logged or returned
    taskId: str
    kind: str                   # cwsync.vocabulary.ApprovalKind
    title: str
    explanation: str
    options: list[dict[str, Any]]
    recommended: str | None
    subject: str | None
    task: dict[str, Any]
    plan: dict[str, Any] | None
    status: str                 # cwsync.vocabulary.ApprovalStatus
    decision: dict[str, Any]
    decidedAt: str
    expiresAt: str
    expires: Decimal
    createdAt: str
    executionName: str          # the execution that asked (a recorded decision is handed to a later one)
    reboundAt: str


class AppliedOperation(TypedDict, total=False):
    taskId: str
    key: str
    result: dict[str, Any]
    appliedAt: str
