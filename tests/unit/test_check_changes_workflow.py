"""The names the workflow starter gives executions (Step Functions' behaviour on moto:
tests/integration/test_sync_task_workflow.py)."""
from __future__ import annotations

from cwsync.adapters.stepfunctions import execution_name


def test_ids_step_functions_would_refuse_get_a_clean_unique_name():
    assert execution_name("ORD-1_a.b") == "ORD-1_a.b"
    odd = execution_name("PO 12/34#x")
    assert odd.startswith("PO-12-34-x-") and len(odd) <= 80
    assert execution_name("PO 12/34#y") != odd
    assert len(execution_name("x" * 200)) == 80
