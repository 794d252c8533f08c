"""What people are told promises only what cwsync does: "Sync again" is advised only where the
dashboard offers it."""
from __future__ import annotations

import pytest

from cwsync.notifications import ADVICE, DEFAULT_ADVICE, finish_message
from cwsync.services import operator
from cwsync.vocabulary import FINISH_OUTCOMES, TaskStatus

TASK = {"taskId": "T1", "orderNumber": "SO000001", "companyName": "Green Lane LLC", "approvalKind": "customer"}


@pytest.mark.parametrize("status", FINISH_OUTCOMES)
@pytest.mark.parametrize("error", [*ADVICE, "SomethingElse"])
def test_a_message_advises_sync_again_only_for_an_end_the_dashboard_can_sync_again(status, error):
    reason, subject, body = finish_message(TaskStatus(status), TASK, {"summary": "1 addition"}, error, "went wrong")
    text = "\n".join([reason, subject or "", *body])
    if "Sync again" in text:
        assert status in operator.SYNC_AGAIN_FROM
    assert "sync the task again" not in text.casefold() and "Traceback" not in text


def test_every_advice_names_the_dashboards_button_or_handling_by_hand():
    for advice in [*ADVICE.values(), DEFAULT_ADVICE]:
        assert "Sync again on the task's page" in advice or "by hand" in advice
