"""The suite-wide guard catches Python's text wherever cwsync shows it (and only there)."""
import python_text_guard as guard
from cwsync.approvals import render_message_page
from fakes import FakeStore
from fakes.notifier import FakeNotifier


def test_a_task_reason_with_an_exception_message_in_an_in_memory_store_is_found_and_named():
    store = FakeStore()
    store.create_task({"taskId": "T-1", "status": "new", "order": {"note": "KeyError in the marketplace's own words"}})
    store.update_task("T-1", "failed", "'dict' object has no attribute 'upper'")

    found = guard.collect_in_memory()

    assert sorted(found) == ["task T-1.history[1].reason: 'dict' object has no attribute 'upper'",
                             "task T-1.reason: 'dict' object has no attribute 'upper'"]


def test_a_notification_with_a_traceback_is_found():
    notifier = FakeNotifier()
    notifier.publish("Task failed", 'Traceback (most recent call last):\n  File "app.py", line 3')

    assert [line.split(":")[0] for line in guard.collect_in_memory()] == ["notification.message"]


def test_a_page_cwsync_renders_with_python_text_is_found_and_a_plain_page_is_not():
    guard.findings.clear()
    render_message_page("Done", "The addition was written: 12 licences at 6.00 USD.")
    assert guard.findings == []

    render_message_page("Error", "unsupported operand: NoneType and Decimal('1')")

    found, guard.findings[:] = guard.findings[:], []
    assert len(found) == 1 and found[0].startswith("page ")


def test_words_a_billing_person_reads_are_not_taken_for_python_text():
    text = ("ConnectWise agreement 401 has no currency code; set the agreement's currency in ConnectWise and "
            "check again. The value 'None' was refused: quantity is not a number.")
    assert guard.python_text_in("reason", {"reason": text, "history": [text]}) == []
