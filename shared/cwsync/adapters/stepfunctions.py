"""Step Functions: the one SyncTask execution per task, and resuming an execution that waits for a person.

`SyncTaskWorkflow` starts an execution whose name is the task id.

Step Functions refuses a second execution of the same name (for 90 days on a Standard
workflow), so starting a task twice — two racing CheckChanges runs, or a retry after a
crash between "task stored" and "execution started" — runs it once.

`TaskResumer` hands an approver's decision to the execution waiting on its task token;
Step Functions' errors come out as cwsync's: `TaskNotWaiting` when the execution no longer
waits for that token (timed out, stopped, already resumed), `TransientError` otherwise.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re

from typing import Any, Mapping

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from cwsync.errors import TaskNotWaiting, TransientError

logger = logging.getLogger(__name__)

_NAME_LIMIT = 80
_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9_.\-]")  # a safe subset of what Step Functions allows


def execution_name(task_id: str) -> str:
    """The task id, or, when it has characters Step Functions refuses, a cleaned id plus a hash."""
    task_id = str(task_id)
    if task_id and len(task_id) <= _NAME_LIMIT and not _NOT_ALLOWED.search(task_id):
        return task_id
    digest = hashlib.sha256(task_id.encode("utf-8")).hexdigest()[:12]
    cleaned = _NOT_ALLOWED.sub("-", task_id)[: _NAME_LIMIT - len(digest) - 1]
    return f"{cleaned}-{digest}"


def attempt_execution_name(task_id: str, attempt: int | None = None) -> str:
    return execution_name(task_id if not attempt or attempt <= 1 else f"{task_id}-{attempt}")


class SyncTaskWorkflow:
    """`deps.workflow`: `start(task_id) -> bool`.

    True when Step Functions accepted the start (a running execution of the same name and
    input is answered as if just started); False when it refused it as ExecutionAlreadyExists
    (closed, or started with another input). Either way the task has its one execution.
    """

    def __init__(self, state_machine_arn: str, *, client=None):
        self.client = client if client is not None else stepfunctions_client()
        self.state_machine_arn = state_machine_arn

    def start(self, task_id: str, *, attempt: int | None = None) -> bool:
        """The first attempt's execution is named after the task; a later one `<taskId>-<attempt>`."""
        name = attempt_execution_name(task_id, attempt)
        try:
            answer = self.client.start_execution(stateMachineArn=self.state_machine_arn, name=name,
                                                 input=json.dumps({"taskId": str(task_id)}))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ExecutionAlreadyExists":
                logger.info("SyncTask execution %s exists already", name)
                return False
            raise
        logger.info("Started SyncTask execution %s", answer.get("executionArn"))
        return True


# Step Functions' answers when the execution no longer waits for the token.
GONE_CODES = frozenset({"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"})


def stepfunctions_client():
    """A Step Functions client with cwsync's timeouts and the SDK's standard retries."""
    import boto3

    return boto3.client("stepfunctions", config=Config(connect_timeout=3, read_timeout=10,
                                                        retries={"mode": "standard", "max_attempts": 5}))


class TaskResumer:
    """`SendTaskSuccess` / `SendTaskFailure` for a waiting execution (the token is never logged)."""

    def __init__(self, client: Any):
        self.client = client

    def succeed(self, token: str, output: Mapping[str, Any]) -> None:
        self._send(self.client.send_task_success, taskToken=token, output=json.dumps(output))

    def fail(self, token: str, error: str, cause: str) -> None:
        self._send(self.client.send_task_failure, taskToken=token, error=error, cause=cause)

    @staticmethod
    def _send(call, **arguments: Any) -> None:
        try:
            call(**arguments)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in GONE_CODES:
                raise TaskNotWaiting(f"Step Functions no longer waits for this task ({code})", code=code) from None
            raise TransientError(f"Step Functions did not take the decision ({code or 'no code'})") from None
        except BotoCoreError as error:
            raise TransientError(f"Step Functions could not be reached ({type(error).__name__})") from None
