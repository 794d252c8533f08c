"""The workflow starter Check Changes uses, on moto's Step Functions: one execution per task, a second
start is a no-op (execution names: tests/unit/test_check_changes_workflow.py)."""
from __future__ import annotations

import json

import boto3
import pytest

from cwsync.adapters.stepfunctions import SyncTaskWorkflow

DEFINITION = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})


@pytest.fixture
def state_machine(aws):
    client = boto3.client("stepfunctions")
    arn = client.create_state_machine(name="SyncTask", definition=DEFINITION,
                                      roleArn="arn:aws:iam::123456789012:role/sfn")["stateMachineArn"]
    return client, arn


def test_a_task_starts_one_execution_named_by_its_id_however_often_it_is_started(state_machine):
    client, arn = state_machine
    workflow = SyncTaskWorkflow(arn, client=client)
    assert workflow.start("1000123") is True
    workflow.start("1000123")  # running + same input: Step Functions answers with the same execution
    (execution,) = client.list_executions(stateMachineArn=arn)["executions"]
    assert execution["name"] == "1000123"
    described = client.describe_execution(executionArn=execution["executionArn"])
    assert json.loads(described["input"]) == {"taskId": "1000123"}


def test_a_start_refused_as_already_existing_is_not_an_error(state_machine):
    client, arn = state_machine
    client.start_execution(stateMachineArn=arn, name="1000124", input=json.dumps({"other": True}))
    assert SyncTaskWorkflow(arn, client=client).start("1000124") is False  # different input: refused
