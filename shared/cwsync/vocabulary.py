"""cwsync's shared words: every status, type, kind, option id and setting value, defined once.

Every other module imports these names; none spells the values itself (a test reads the
source with `ast` to hold that). The state machine (`infra/statemachine/sync_task.asl.json`)
and the template's `AllowedValues` use the same values, and a test checks they agree.
The values are `StrEnum`s, so they compare equal to the plain strings stored in DynamoDB
and carried in Step Functions payloads.
"""
from __future__ import annotations

from enum import StrEnum


class TaskStatus(StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    WAITING_APPROVAL = "waiting_approval"
    SYNCED = "synced"
    NOTHING_TO_CHANGE = "nothing_to_change"
    FAILED = "failed"
    EXPIRED = "expired"
    REJECTED = "rejected"
    INVALID = "invalid"
    IGNORED = "ignored"


# A task in one of these has ended: it is never worked on again by its execution.
FINAL_STATUSES = frozenset({TaskStatus.SYNCED, TaskStatus.NOTHING_TO_CHANGE, TaskStatus.FAILED,
                            TaskStatus.EXPIRED, TaskStatus.REJECTED, TaskStatus.INVALID, TaskStatus.IGNORED})
# Ended, or waiting for a person: nothing more happens to it without someone acting.
SETTLED_STATUSES = FINAL_STATUSES | {TaskStatus.WAITING_APPROVAL}
# How an execution ends (FinishTask's `outcome`, set by the state machine): the task's final status.
FINISH_OUTCOMES = (TaskStatus.SYNCED, TaskStatus.NOTHING_TO_CHANGE, TaskStatus.FAILED, TaskStatus.EXPIRED,
                   TaskStatus.REJECTED)


class TaskType(StrEnum):
    SALES = "sales"
    CHANGE = "change"
    BILLING = "billing"
    CANCELLATION = "cancellation"
    RENEWAL = "renewal"
    RECONCILE = "reconcile"  # a repair a reconciliation found (docs/RECONCILIATION.md)


TASK_TYPE_LABELS = {
    TaskType.SALES: "Sales Order (new subscription)",
    TaskType.CHANGE: "Change Order (upgrade/downgrade)",
    TaskType.BILLING: "Billing Order (usage-based)",
    TaskType.CANCELLATION: "Cancellation",
    TaskType.RENEWAL: "Renewal",
    TaskType.RECONCILE: "Reconciliation repair",
}


class StepOutcome(StrEnum):
    """What a step answers (`outcome`); the state machine's Choice states route on some of them."""

    LOADED = "loaded"
    ALREADY_FINISHED = "already_finished"
    RESUME_APPLY = "resume_apply"  # an execution stopped while writing the plan: write the rest
    LINKED = "linked"
    NEEDS_APPROVAL = "needs_approval"
    PLANNED = "planned"
    NOTHING_TO_CHANGE = "nothing_to_change"
    APPROVAL_REQUESTED = "approval_requested"
    APPLIED = "applied"


class ApprovalKind(StrEnum):
    CUSTOMER = "customer"
    PRODUCT = "product"
    AGREEMENT = "agreement"
    CONFIRM = "confirm"


APPROVAL_KIND_LABELS = {
    ApprovalKind.CUSTOMER: "Link customer to a ConnectWise company",
    ApprovalKind.PRODUCT: "Link product to a ConnectWise catalog item",
    ApprovalKind.AGREEMENT: "Choose the ConnectWise agreement",
    ApprovalKind.CONFIRM: "Confirm changes to ConnectWise",
}


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    DECIDED = "decided"
    EXPIRED = "expired"


class Decision(StrEnum):
    """What an approver answers."""

    APPROVE = "approve"
    REJECT = "reject"


class OptionId(StrEnum):
    """Option ids cwsync offers besides the records it lists (company, catalog item, agreement ids)."""

    ADD_TO_CONNECTWISE = "add-to-connectwise"   # product approval: create the catalog item
    CREATE_COMPANY = "create-company"           # customer approval: create the company in ConnectWise
    FOUND_COMPANY = "found-company"             # customer approval: a company found by the page's search
    CHECK_AGAIN = "check-again"                 # agreement approval: read the company's agreements again
    APPLY = "apply"                             # confirm approval: write the plan


class LinkSource(StrEnum):
    """How a remembered link (customer, product, subscription) was made."""

    MATCH = "match"                # exact evidence, taken automatically (the link is marked `automatic`)
    APPROVAL = "approval"          # chosen by a person
    AUTO_APPROVE = "auto-approve"  # chosen by an automatic approver (marked `automatic`)
    REMEMBERED = "remembered"
    CREATED = "created"


class LinkKind(StrEnum):
    """The remembered links (the dashboard's Links page lists them by kind)."""

    CUSTOMER = "customer"          # marketplace customer -> ConnectWise company
    PRODUCT = "product"            # marketplace product (MPN) -> ConnectWise catalog item
    SUBSCRIPTION = "subscription"  # marketplace subscription -> ConnectWise agreement


LINK_KIND_LABELS = {
    LinkKind.CUSTOMER: "Customer to company",
    LinkKind.PRODUCT: "Product to catalog item",
    LinkKind.SUBSCRIPTION: "Subscription to agreement",
}


class MatchBasis(StrEnum):
    """Which exact evidence an automatic link rests on (`basis` of a link made by a rule)."""

    IDENTIFIER = "identifier"        # company identifier = marketplace customer id / externalId
    CUSTOM_FIELD = "custom-field"    # a company custom field = marketplace customer id / externalId
    EXACT_NAME = "exact-name"        # the same company name once case, punctuation and legal form are ignored
    MPN = "mpn"                      # catalog manufacturerPartNumber = marketplace MPN
    VENDOR_SKU = "vendor-sku"        # catalog vendorSku = marketplace MPN
    CATALOG_IDENTIFIER = "catalog-identifier"  # catalog identifier = marketplace MPN
    REMEMBERED = "remembered"        # the subscription's remembered agreement, still eligible
    ONLY_ELIGIBLE = "only-eligible"  # the company's only eligible agreement


MATCH_BASIS_LABELS = {
    MatchBasis.IDENTIFIER: "exact match: company identifier = customer id",
    MatchBasis.CUSTOM_FIELD: "exact match: company custom field = customer id",
    MatchBasis.EXACT_NAME: "exact match: same company name",
    MatchBasis.MPN: "exact match: MPN",
    MatchBasis.VENDOR_SKU: "exact match: vendor SKU = MPN",
    MatchBasis.CATALOG_IDENTIFIER: "exact match: catalog identifier = MPN",
    MatchBasis.REMEMBERED: "remembered link, still eligible",
    MatchBasis.ONLY_ELIGIBLE: "the only eligible agreement",
}


class LinkAction(StrEnum):
    """What a person does to a remembered link on the Links page (kept in the links' audit trail)."""

    CONFIRM = "confirm"  # reviewed by a person: kept, marked reviewed
    UNDO = "undo"        # removed: the next order asks a person again


class DecidedBy(StrEnum):
    """Who answered an approval (`decidedBy` of a decision)."""

    PERSON = "person"
    AUTO_APPROVE = "auto-approve"


class Action(StrEnum):
    """What a planned operation does in ConnectWise."""

    CREATE_ADDITION = "create_addition"
    CANCEL_ADDITION = "cancel_addition"
    UPDATE_ADDITION = "update_addition"
    CREATE_ADJUSTMENT = "create_adjustment"
    CREATE_CATALOG_ITEM = "create_catalog_item"


ACTION_LABELS = {
    Action.CREATE_ADDITION: "Add addition",
    Action.CANCEL_ADDITION: "Cancel addition",
    Action.UPDATE_ADDITION: "Update addition",
    Action.CREATE_ADJUSTMENT: "One-time charge",
    Action.CREATE_CATALOG_ITEM: "Add product to catalog",
}


class ChangeStatus(StrEnum):
    """What applying one operation did (`appliedChanges[].status`)."""

    CREATED = "created"
    UPDATED = "updated"
    ALREADY_PRESENT = "already_present"          # found in ConnectWise (an earlier attempt wrote it)
    SKIPPED = "skipped_already_applied"          # recorded as applied by an earlier attempt


class ChargeType(StrEnum):
    """Marketplace order charge line types (`details[].type`) the planner reads."""

    RECURRING = "recurring"
    RENEW = "renew"
    SWITCH = "switch"
    SETUP = "setup"
    CANCELLATION = "cancellation"
    OVERUSE = "overuse"
    # credits: the only lines whose amounts may be negative
    DOWNGRADE = "downgrade"
    DISCOUNT = "discount"
    ADJUSTMENT = "adjustment"
    REFUND = "refund"
    CREDIT = "credit"


class OrderType(StrEnum):
    """Marketplace order types (`type`) that become a task of the same name."""

    SALES = "sales"
    CHANGE = "change"
    CANCELLATION = "cancellation"
    RENEWAL = "renewal"


class Classified(StrEnum):
    """What the check makes of a marketplace order."""

    TASK = "task"          # a task to sync
    PENDING = "pending"    # not finished in the marketplace: read again next run
    IGNORED = "ignored"    # nothing to sync (a task is stored as `ignored`)
    INVALID = "invalid"    # cannot be synced as it is (stored as `invalid`)


# --- settings values -------------------------------------------------------------------------

class ApprovalPolicy(StrEnum):
    ALWAYS = "always"
    ON_DECREASE_OR_OVER_THRESHOLD = "on_decrease_or_over_threshold"
    NEVER = "never"


class PriceSource(StrEnum):
    MARKETPLACE = "marketplace"   # the order's charge lines
    CONNECTWISE = "connectwise"   # the current addition, else the catalog item


class Proration(StrEnum):
    MARKETPLACE = "marketplace"   # the plan charges the difference as a one-time adjustment
    CONNECTWISE = "connectwise"   # the agreement prorates


class BillCustomer(StrEnum):
    """ConnectWise addition `billCustomer` values."""

    BILLABLE = "Billable"
    DO_NOT_BILL = "DoNotBill"
    NO_CHARGE = "NoCharge"


class ReconcileMode(StrEnum):
    REPORT = "report"   # report and notify only
    REPAIR = "repair"   # also start a repair task per customer agreement with differences


class DifferenceKind(StrEnum):
    """What a reconciliation finds between the marketplace and ConnectWise (docs/RECONCILIATION.md)."""

    NOT_BILLED = "not_billed"
    STILL_BILLED = "still_billed"
    QUANTITY_DIFFERS = "quantity_differs"
    UNIT_PRICE_DIFFERS = "unit_price_differs"
    UNIT_COST_DIFFERS = "unit_cost_differs"
    WRONG_AGREEMENT = "wrong_agreement"
    CANCELLED_AGREEMENT = "cancelled_agreement"
    BILLED_TWICE = "billed_twice"
    ADOPT_CANDIDATE = "adopt_candidate"
    EDITED_IN_CONNECTWISE = "edited_in_connectwise"


DIFFERENCE_KIND_LABELS = {
    DifferenceKind.NOT_BILLED: "Not billed",
    DifferenceKind.STILL_BILLED: "Still billed after it ended",
    DifferenceKind.QUANTITY_DIFFERS: "Quantity differs",
    DifferenceKind.UNIT_PRICE_DIFFERS: "Unit price differs",
    DifferenceKind.UNIT_COST_DIFFERS: "Unit cost differs",
    DifferenceKind.WRONG_AGREEMENT: "On the wrong agreement",
    DifferenceKind.CANCELLED_AGREEMENT: "On a cancelled agreement",
    DifferenceKind.BILLED_TWICE: "Billed twice",
    DifferenceKind.ADOPT_CANDIDATE: "Hand-made addition to adopt",
    DifferenceKind.EDITED_IN_CONNECTWISE: "Edited in ConnectWise",
}


class ConnectWiseRecord(StrEnum):
    """The ConnectWise records cwsync reads, as its messages name them ("ConnectWise agreement 401: ...")."""
    AGREEMENT = "agreement"
    COMPANY = "company"
    CATALOG_ITEM = "catalog item"
    ADDITION = "addition"
    ADJUSTMENT = "adjustment"


class MarketplaceRecord(StrEnum):
    """The marketplace records cwsync reads through `cwsync.adapters.mp_records`, as its messages name them."""
    CUSTOMER = "customer"
    ORDER = "order"
    SUBSCRIPTION = "subscription"


APPROVAL_POLICIES = tuple(ApprovalPolicy)
RECONCILE_MODES = tuple(ReconcileMode)
PRICE_SOURCES = tuple(PriceSource)
PRORATIONS = tuple(Proration)
BILL_CUSTOMER_VALUES = tuple(BillCustomer)

# The marketplace does not say which charge amount is cost and which is price.
# This is the one place that decides the default; settings may override it.
MONEY_FIELDS = ("unitPrice", "salesUnitPrice", "extendedPrice", "salesExtendedPrice")
DEFAULT_COST_FIELD = "unitPrice"
DEFAULT_PRICE_FIELD = "salesUnitPrice"
DEFAULT_TAG_FORMAT = "MP-{subscription_id}-{order_number}"

# The fields cwsync writes on a ConnectWise agreement addition (create_addition) ...
ADDITION_FIELDS_WRITTEN = ("product", "quantity", "unitPrice", "unitCost", "billCustomer", "taxableFlag",
                           "effectiveDate", "serialNumber", "description", "invoiceDescription")
# ... and what an approver may change on a planned operation, by action; everything else is fixed.
# `priceSource` is not a ConnectWise field: choosing a source sets unit price and cost (cwsync.confirm_form).
EDITABLE_FIELDS = {
    Action.CREATE_ADDITION: ("description", "quantity", "unitPrice", "unitCost", "priceSource", "effectiveDate",
                             "cancelledDate", "billCustomer", "taxableFlag"),
    Action.UPDATE_ADDITION: ("quantity", "unitPrice", "unitCost", "description"),
    Action.CREATE_ADJUSTMENT: ("amount", "description", "effectiveDate"),
    Action.CREATE_CATALOG_ITEM: ("identifier", "description", "customerDescription", "price", "cost", "taxableFlag"),
}

# The approver's edits that are not numbers (text, dates, flags, choices); every other edit is numeric.
NON_NUMERIC_EDITS = frozenset({"description", "identifier", "customerDescription", "effectiveDate",
                               "cancelledDate", "billCustomer", "taxableFlag", "priceSource"})


class PriceOrigin(StrEnum):
    """Where an addition's price and cost can come from (the confirm page's price source switch)."""

    MARKETPLACE = "marketplace"   # the order's charge line
    AGREEMENT = "agreement"       # the subscription's current ConnectWise addition
    CATALOG = "catalog"           # the ConnectWise catalog item
# Fields that are numbers in ConnectWise; plans carry them as exact strings. The approver's
# numeric edits are a subset of these.
NUMERIC_FIELDS = frozenset({
    "quantity", "lessIncluded", "unitPrice", "unitCost", "amount", "price", "cost",
    "recurringRevenue", "recurringCost", "markupPercentage", "billAmount",
})

# Error class names (cwsync.errors) the state machine routes on in `Retry`/`Catch`.
RETRIED_ERRORS = ("TransientError",)
CAUGHT_ERRORS = ("ApprovalRejected",)
