"""Starts one SyncTask Step Functions execution per task; the execution name is the task id.

Step Functions refuses a second execution of the same name (for 90 days on a Standard
workflow), so starting a task twice — two racing CheckChanges runs, or a retry after a
crash between "task stored" and "execution started" — runs it once.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re

from botocore.config import Config
from botocore.exceptions import ClientError

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
        if client is None:
            import boto3

            client = boto3.client("stepfunctions", config=Config(connect_timeout=3, read_timeout=10,
                                                                  retries={"mode": "standard", "max_attempts": 5}))
        self.state_machine_arn = state_machine_arn
        self.client = client

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


def resume(store, workflow: SyncTaskWorkflow, task_id: str) -> str:
    """Give a task still in flight a live execution again (a new attempt); returns its name.

    For a task whose execution is gone (the embedded runtime restarted after a stop or a
    kill) — unlike "Sync again" (services.operator.sync_again) the task keeps what it has:
    the new execution starts from the top, steps already done find their links and ledger
    entries, a plan being written is finished (LoadTask: `resume_apply`), and a question
    still open keeps its approval and link (RequestApproval re-binds it to the new wait).
    Same naming as "Sync again": attempt n runs as `<taskId>-<n>`.
    """
    from datetime import datetime, timezone

    attempt = store.next_attempt(str(task_id))
    workflow.start(str(task_id), attempt=attempt)
    # workflowStartedAt too: Check Changes must not start the first attempt of a `new` task again.
    store.set_task_attributes(str(task_id), executionName=attempt_execution_name(str(task_id), attempt),
                              workflowStartedAt=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z"))
    return attempt_execution_name(str(task_id), attempt)
