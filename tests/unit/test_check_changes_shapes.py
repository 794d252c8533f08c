"""A check over list entries of any shape (hypothesis): the run never stops on one, an entry without an id
is named in the run's summary, and every other order ends as a task, held for the next run, or with a
reason that names the order (and, for a list field cwsync cannot read, the field) — never Python's words."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cwsync.services.check_changes import check_changes
from fakes import FakeMarketplace, FakeStore, FakeWorkflow
from plain_text import PYTHON_TEXT

NOW = datetime(2026, 2, 1, 12, 0, tzinfo=timezone.utc)
RUNS = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
                    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=6), inner, max_size=2),
                    max_leaves=4)
LIST_FIELDS = ("id", "orderNumber", "type", "status", "statusCode", "creationDate", "customerId", "subscriptionId")


def order(number: int) -> dict:
    created = (NOW - timedelta(hours=number + 1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "id": f"ORD-{number}", "orderNumber": f"SO{number:06d}", "type": "sales", "customerId": "1000048531",
        "creationDate": created, "status": "completed", "subscriptionId": f"SUB-{number}",
        "total": {"currency": "USD", "amount": "12.00"},
        "products": [{"mpn": "MS-365-BB", "name": "Microsoft 365 Business Basic", "quantity": 2, "type": "CREATE",
                      "billingPeriod": {"type": "month", "duration": 1}, "subscriptionId": f"SUB-{number}"}],
        "details": [{"type": "recurring", "mpn": "MS-365-BB", "quantity": 2,
                     "salesUnitPrice": {"amount": "6.00", "currency": "USD"}}],
    }


CHANGES = st.lists(st.dictionaries(st.sampled_from(LIST_FIELDS), JSON, max_size=2), min_size=1, max_size=6)


class Listing(FakeMarketplace):
    """Lists the entries as given (any shape); the detail of an order is its entry with its lines."""

    def __init__(self, entries):
        super().__init__()
        self.entries = entries
        for entry in entries:
            key = entry.get("id")
            if isinstance(key, (str, int)) and not isinstance(key, bool) and str(key).strip():
                self.details[str(key).strip()] = entry

    def orders(self, created_from=None, created_to=None, status=None, page_size=500, offset=0):
        self.calls.append(("orders", ""))
        yield from ({k: v for k, v in e.items() if k not in ("products", "details")} for e in self.entries)


@RUNS
@given(CHANGES)
def test_a_check_over_list_entries_of_any_shape_goes_on_and_states_every_outcome(changes):
    entries = [{**order(number), **change} for number, change in enumerate(changes)]
    deps = SimpleNamespace(store=FakeStore(), marketplace=Listing(entries), workflow=FakeWorkflow(),
                           settings=SimpleNamespace(first_run_lookback_days=30, overlap_minutes=30))
    result = check_changes(deps, now=NOW)
    summary = result.summary()
    assert not PYTHON_TEXT.search(summary)
    assert result.unreadable == len(result.unreadable_reasons)
    assert all(reason.startswith("The marketplace order ") for reason in result.unreadable_reasons)
    tasks = {task["taskId"]: task for task in deps.store.list_tasks()}
    stated = set(result.new_tasks) | set(result.invalid) | set(result.ignored) | set(result.already_known)
    assert set(tasks) == stated and not set(tasks) & set(result.pending + result.deferred)
    for task in tasks.values():
        assert task["status"] in ("new", "invalid", "ignored") and task["reason"], task
        assert not PYTHON_TEXT.search(task["reason"]), task["reason"]
    judged: set[str] = set()
    for entry, change in zip(entries, changes):
        if _unreadable("id", entry.get("id")) or entry.get("id") is None or not str(entry["id"]).strip():
            continue
        order_id = str(entry["id"]).strip()
        task, first = tasks.get(order_id), order_id not in judged
        judged.add(order_id)
        broken = [name for name, value in change.items() if name != "id" and _unreadable(name, value)]
        if first and broken and "neither is synced automatically" not in task["reason"]:
            # the first entry listed under this id, not a duplicate: its list field decides, named
            assert task["status"] == "invalid", (change, task)
            assert any(f": {name} is " in task["reason"] for name in broken), (change, task["reason"])


def _unreadable(name: str, value) -> bool:
    """Whether the list's value of `name` is one cwsync cannot read (None and empty text are missing)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return False
    if name in ("type", "status"):
        return not isinstance(value, str)
    if name == "creationDate":
        if not isinstance(value, str):
            return True
        try:
            datetime.fromisoformat(value.strip().replace("z", "Z").replace("Z", "+00:00")).astimezone(timezone.utc)
        except (ValueError, OverflowError):
            return True
        return False
    return isinstance(value, bool) or not isinstance(value, (str, int))
