"""Which sync task, if any, a marketplace order becomes (the Check Changes list)."""
from __future__ import annotations

from dataclasses import dataclass

from cwsync.errors import InvalidOrder, shown
from cwsync.domain.agreements import billing_cycle_name
from cwsync.domain.models import Order, OrderReading
from cwsync.domain.plausibility import Limits, order_problems
from cwsync.vocabulary import DEFAULT_PRICE_FIELD, ChargeType, Classified, OrderType, TaskType

TASK, PENDING, IGNORED, INVALID = Classified.TASK, Classified.PENDING, Classified.IGNORED, Classified.INVALID

_TASK_BY_ORDER_TYPE = {
    OrderType.SALES: TaskType.SALES,
    OrderType.CHANGE: TaskType.CHANGE,
    OrderType.CANCELLATION: TaskType.CANCELLATION,
    OrderType.RENEWAL: TaskType.RENEWAL,
}
_USAGE_LINE_TYPES = {"BILLING_SUBSCRIPTION", "VENDOR_RATED_DATA"}
# Product line types whose effect in ConnectWise the sync knows (`products[].type`, SimpleAPI
# OrderLineProduct). TRANSFER, STOP_SERVICE, DESTROY_SERVICE, MIGRATION, MOVE, CHANGE_PLAN_PERIOD and
# types newer than the contract are not synced: the task is ignored and says which line and why.
SYNCED_LINE_TYPES = {"CREATE", "RENEW", "CANCEL", "UPGRADE", "DOWNGRADE", "ONE_TIME_FEE", "BILLING_SUBSCRIPTION",
                     "VENDOR_RATED_DATA"}
_STILL_RUNNING = {"submitted", "processing"}
_NEVER_COMPLETES = {"cancelled", "error"}


@dataclass(frozen=True)
class Classification:
    outcome: str  # task | pending | ignored | invalid
    task_type: TaskType | None
    reason: str

    def to_dict(self) -> dict:
        return {"outcome": self.outcome,
                "taskType": str(self.task_type) if self.task_type else None,
                "reason": self.reason}


def classify_order(reading: OrderReading, *, limits: Limits | None = None,
                   price_field: str = DEFAULT_PRICE_FIELD) -> Classification:
    """Classify a detailed order as the marketplace adapter read it (`mp_orders.read_order`).
    Status first: an unfinished order is not judged on its details yet.

    A well-formed order that breaks a plausibility rule (cwsync.domain.plausibility) is
    invalid, with every broken rule named in the reason."""
    if reading.not_an_order:
        return Classification(INVALID, None, reading.not_an_order)
    by_status = classify_status(reading.number, reading.status, reading.status_code)
    if by_status is not None:
        return by_status
    order = reading.order
    if order is None:
        return Classification(INVALID, None, reading.problem or f"Order {reading.number} could not be read")

    task_type = _task_type(order)
    if task_type is None:
        return Classification(
            IGNORED, None,
            f"Order {order.number} is {'an' if order.type[:1] in 'aeiou' else 'a'} {order.type} order; "
            "the sync handles sales, change, "
            "billing, cancellation and renewal orders only")
    unknown = next(((index, line) for index, line in enumerate(order.lines)
                    if line.type is not None and line.type.upper() not in SYNCED_LINE_TYPES), None)
    if unknown is not None:
        index, line = unknown
        return Classification(
            IGNORED, task_type,
            f"Order {order.number}: product line {index + 1} ({line.mpn}) is of type {shown(line.type)} "
            f"(products[{index}].type), which cwsync does not sync; make the change in ConnectWise by hand "
            "if it affects billing")
    problem = _cannot_sync(order, task_type)
    if problem:
        return Classification(INVALID, task_type, f"Order {order.number}: {problem}")
    implausible = order_problems(order, task_type, price_field=price_field, limits=limits or Limits(),
                                 unstated_quantities=reading.unstated_quantities)
    if implausible:
        return Classification(INVALID, task_type, f"Order {order.number} cannot be synced as it is: "
                              + "; ".join(p.reason for p in implausible))
    return Classification(TASK, task_type, f"Order {order.number} is a {task_type} order")


def classify_status(number: str, status: str | None, status_code: str | None = None) -> Classification | None:
    """What an order's status alone decides (None for `completed`: its detail decides).

    The check asks this of the list's summary before any detail call, and of the detail."""
    if status in _STILL_RUNNING:
        return Classification(PENDING, None, f"Order {number} is {status}; it is read again on the next run")
    if status in _NEVER_COMPLETES:
        code = f" ({status_code})" if status_code else ""
        return Classification(IGNORED, None, f"Order {number} ended as {status}{code}; nothing was provisioned")
    if status is None:
        return Classification(INVALID, None, f"Order {number} has no status")
    if status != "completed":
        return Classification(INVALID, None, f"Order {number} has an unknown status {shown(status)}")
    return None


def _task_type(order: Order) -> TaskType | None:
    # Usage billing is recognised before the order type: billing orders reuse other types.
    if is_billing_order(order):
        return TaskType.BILLING
    return _TASK_BY_ORDER_TYPE.get(order.type)


def is_billing_order(order: Order) -> bool:
    if order.number.upper().startswith("BO"):
        return True
    if any(line.type in _USAGE_LINE_TYPES for line in order.lines):
        return True
    return (order.billing_model == "chargeAfterBillingPeriod"
            and any(charge.type == ChargeType.OVERUSE for charge in order.charges))


def _cannot_sync(order: Order, task_type: TaskType) -> str | None:
    """What stops this order from becoming a task, beyond being well-formed."""
    if task_type in (TaskType.SALES, TaskType.CHANGE, TaskType.RENEWAL) and not order.recurring_lines:
        return "it has no product lines to put on the agreement"
    if order.billing_period is None and task_type != TaskType.CANCELLATION:
        # Without a period the agreement's billing cycle cannot be checked.
        return "no product line states its billing period"
    if order.billing_period is not None:
        try:
            billing_cycle_name(order.billing_period)
        except InvalidOrder as error:
            return str(error)
    missing = [line.mpn for line in order.recurring_lines if not (line.subscription_id or order.subscription_id)]
    if missing or (not order.subscription_id and not order.lines):
        # The subscription id is the ownership tag that finds the additions again.
        return f"no subscription id for {', '.join(missing) or 'the order'}"
    return None
