"""The embedded runtime: the real template and handlers on one machine, no AWS account.

    with EmbeddedRuntime(data_dir=tmp_path, parameters={"ApprovalPolicy": "never"}) as rt:
        rt.check()
        rt.wait_until_settled(timeout=60)
        rt.tasks(); rt.outbox(); rt.connectwise.state.data
        rt.approve(approval_id, choice="...")

What it does on `start()` (docs/INTERFACES.md, "Embedded runtime"): starts an in-process
moto, the simulators (unless real endpoints are configured), translates and deploys
infra/template.yaml, runs the handlers for moto's Lambda (lambda_dispatch), serves the
HttpApi routes and a token-guarded `/_local/` control API (http_api), captures SNS into
`<data-dir>/outbox.jsonl` (outbox), plays the schedule (scheduler) and loads/saves
DynamoDB items (state).
"""
from __future__ import annotations

import json
import logging
import os
import secrets as random_secrets
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import Request as UrlRequest, urlopen

from . import endpoints, moto_fixes
from .deploy import Deployment, deploy
from .http_api import HttpApi, LocalServer
from .lambda_dispatch import Dispatcher
from .outbox import Outbox
from .scheduler import Schedule, interval_seconds
from .state import load_table, save_table
from .translate import TEMPLATE, translate
from cwsync.vocabulary import (FINAL_STATUSES, SETTLED_STATUSES, ApprovalKind, ApprovalStatus, Decision, OptionId,
                               DecidedBy, TaskStatus, TaskType)

MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
# Short waits for a machine on a desk; `parameters=` (or --parameter) overrides any of them.
LOCAL_PARAMETERS = {"RetryIntervalSeconds": "1", "RetryBackoffRate": "1.5", "RetryMaxAttempts": "3"}
# With the ConnectWise simulator: where its demo catalog keeps cloud licences (subcategory
# "Cloud Licensing", type "Subscription"), so "add product to ConnectWise" can be offered.
SIMULATOR_PARAMETERS = {"CatalogSubcategoryId": "11", "CatalogTypeId": "3"}
AUTO_APPROVE_ROUNDS = 2  # auto-answers per (task, kind, subject) before a question is left to a person
STEP_FUNCTIONS = {"check": "CheckChangesFunction", "approvals": "ApprovalsApiFunction",
                  "reconcile": "ReconcileFunction"}

TASK_TYPE_WORDS = {TaskType.SALES: "new subscription", TaskType.CHANGE: "upgrade/downgrade",
                   TaskType.BILLING: "usage billing", TaskType.CANCELLATION: TaskType.CANCELLATION.value,
                   TaskType.RENEWAL: TaskType.RENEWAL.value}
APPROVAL_WORDS = {ApprovalKind.CUSTOMER: "choose the ConnectWise company",
                  ApprovalKind.PRODUCT: "choose the ConnectWise product",
                  ApprovalKind.AGREEMENT: "choose the agreement", ApprovalKind.CONFIRM: "confirm the changes",
                  "confirmation": "confirm the changes"}
STATUS_WORDS = {TaskStatus.NEW: "found", TaskStatus.IN_PROGRESS: "syncing", TaskStatus.SYNCED: "synced to ConnectWise",
                TaskStatus.NOTHING_TO_CHANGE: "nothing to change (ConnectWise already matches)",
                TaskStatus.FAILED: TaskStatus.FAILED.value, TaskStatus.EXPIRED: "expired (no one decided in time)",
                TaskStatus.REJECTED: TaskStatus.REJECTED.value, TaskStatus.INVALID: "cannot be synced", TaskStatus.IGNORED: TaskStatus.IGNORED.value}


def task_summary(task: Mapping[str, Any]) -> dict:
    """`{"id", "order", "type", "customer", "status", "reason"}` (the `--json` shape)."""
    order = task.get("order") if isinstance(task.get("order"), Mapping) else {}
    nested = order.get("customer") if isinstance(order.get("customer"), Mapping) else {}
    customer = (task.get("customerName") or order.get("customerName") or nested.get("name")
                or task.get("customerId"))
    return {"id": str(task.get("taskId")), "order": task.get("orderNumber") or task.get("orderId"),
            "type": task.get("taskType"), "customer": customer, "status": task.get("status"),
            "reason": task.get("reason")}


def describe(summary: Mapping[str, Any], *, link: str | None = None, kind: str | None = None) -> str:
    """One line a billing person understands."""
    head = " ".join(str(part) for part in (summary.get("order"), summary.get("customer")) if part)
    kind_words = TASK_TYPE_WORDS.get(summary.get("type") or "", summary.get("type") or "order")
    status = summary.get("status")
    if status == TaskStatus.WAITING_APPROVAL:
        what = f"waiting for you to {APPROVAL_WORDS.get(kind or '', 'decide')}"
        text = f"{what}: open {link}" if link else what
    else:
        text = STATUS_WORDS.get(status, status or "")
        if summary.get("reason") and status in FINAL_STATUSES - {TaskStatus.SYNCED}:
            text = f"{text}: {summary['reason']}"
    return f"{head} — {kind_words}: {text}"


class EmbeddedRuntime:
    """cwsync on one machine. Use as a context manager, or `start()` / `stop()`."""

    def __init__(self, data_dir: str | Path = ".cwsync", *, seed: str | Path | dict | None = None,
                 parameters: Mapping[str, str] | None = None, config: str | Path | None = None,
                 port: int = 0, schedule: bool = False, echo: Callable[[str], None] | None = None,
                 stack_name: str = "cwsync", faults: Mapping[str, Any] | None = None,
                 auto_approve: bool = False, save_state: bool = True, function_log: str | Path | None = None):
        self.data_dir = Path(data_dir)
        self.seed = seed
        self.config_path = Path(config) if config else self.data_dir / "config.json"
        self.requested_parameters = dict(parameters or {})
        self.port = port
        self.schedule_enabled = schedule
        self.echo = echo
        self.stack_name = stack_name
        self.faults = faults or {}
        self.auto_approve = auto_approve
        self.save_state = save_state
        self.function_log = Path(function_log) if function_log else None
        self._log_stream = None
        self._log_handler = None
        self.connectwise = None  # RunningSimulator, unless a real ConnectWise is configured
        self.marketplace = None
        self.deployment: Deployment | None = None
        self.dispatcher = Dispatcher()
        self.outbox_log = Outbox(self.data_dir / "outbox.jsonl", listener=self._announce_message)
        self.server: LocalServer | None = None
        self.token = random_secrets.token_urlsafe(24)
        self._mock = None
        self._session = None
        self._schedule: Schedule | None = None
        self._reconcile_schedule: Schedule | None = None
        self._watcher: threading.Thread | None = None
        self._stopping = threading.Event()
        self._seen: dict[str, tuple] = {}
        self._auto_decided: set[str] = set()
        self._auto_rounds: dict[tuple, int] = {}
        self._signing_key: bytes | None = None
        self._save_lock = threading.Lock()
        self._check_lock = threading.Lock()
        self.started = False
        self._simulators_stopped = False
        self.last_check: dict | None = None

    # -- lifecycle --------------------------------------------------------------------------
    def __enter__(self) -> "EmbeddedRuntime":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return self.server.url if self.server else ""

    def start(self) -> "EmbeddedRuntime":
        from moto import mock_aws

        self.data_dir.mkdir(parents=True, exist_ok=True)
        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
        settings = endpoints.resolve(self.config_path)
        simulated = SIMULATOR_PARAMETERS if settings["connectwise"] is None else {}
        parameters = {**LOCAL_PARAMETERS, **simulated, **settings["parameters"], **self.requested_parameters}
        self._start_simulators(settings)

        self._mock = mock_aws(config=MOTO_CONFIG)
        self._mock.start()
        try:
            import boto3

            self._session = boto3.session.Session(region_name=os.environ["AWS_DEFAULT_REGION"])
            # The HTTP server first: its URL is every function's APPROVALS_BASE_URL.
            translated = translate(TEMPLATE, parameters=parameters)
            api = HttpApi(translated.routes, self._invoke_route, token=self.token,
                          control={"check": self._control_check, "tasks": self._control_tasks,
                                   "status": self._control_status, "reconciliation": self._control_reconcile})
            self.server = LocalServer(api, port=self.port).start()
            self.deployment = deploy(self._session, translated, stack_name=self.stack_name, parameters=parameters,
                                     secret_values=self._secret_values(settings),
                                     extra_environment={"APPROVALS_BASE_URL": self.server.url,
                                                        # the dashboard is served on 127.0.0.1 only
                                                        "OPERATOR_ACCESS": "loopback"})
            for function in self.deployment.functions.values():
                self.dispatcher.register(function)
            if self.function_log:  # before install: the import must see the process's own environment
                self._redirect_function_logs()
            self.dispatcher.install()
            self.outbox_log.install()
            moto_fixes.install()
            loaded = load_table(self.client("dynamodb"), self.table_name, self.data_dir / "dynamodb.json")
            if loaded:
                self._say(f"Loaded {loaded} saved items from {self.data_dir / 'dynamodb.json'}")
            self._write_runtime_file()
            self.started = True
            if self.echo or self.auto_approve:
                self._watcher = threading.Thread(target=self._watch, name="cwsync-progress", daemon=True)
                self._watcher.start()
            if self.schedule_enabled:
                expression = self.deployment.parameters["ScheduleExpression"]
                self._schedule = Schedule(interval_seconds(expression), self.check, name="cwsync-schedule",
                                          on_error=lambda error: self._say(f"Scheduled check failed: {error}")).start()
                self._reconcile_schedule = Schedule(
                    interval_seconds(self.deployment.parameters["ReconcileScheduleExpression"]), self.reconcile,
                    name="cwsync-reconcile-schedule",
                    on_error=lambda error: self._say(f"Scheduled reconciliation failed: {error}")).start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        self._stopping.set()
        for schedule in (self._schedule, self._reconcile_schedule):
            if schedule:
                schedule.stop()
        if self._watcher and self._watcher.is_alive():
            self._watcher.join(timeout=5)
        if self.started and self.save_state:
            try:
                self.save()
            except Exception as error:  # noqa: BLE001 - stopping must go on
                self._say(f"Could not save the state: {error}")
        self.started = False
        if self.server:
            self.server.stop()
            self.server = None
            (self.data_dir / "runtime.json").unlink(missing_ok=True)
        self.outbox_log.uninstall()
        self.dispatcher.uninstall()
        moto_fixes.uninstall()
        if not self._simulators_stopped:
            self._simulators_stopped = True
            for simulator in (self.connectwise, self.marketplace):
                if simulator is not None:
                    simulator.stop()  # the objects stay: tests may read `rt.connectwise.state.data` afterwards
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        if self._log_stream is not None and self._log_handler is not None:
            self._log_handler.setStream(sys.stdout)
            self._log_stream.close()
            self._log_stream = None

    def _redirect_function_logs(self) -> None:
        """The functions' JSON logs go to a file (the console is for people): `function_log`."""
        from cwsync.observability import logger as function_logger

        self.function_log.parent.mkdir(parents=True, exist_ok=True)
        self._log_stream = self.function_log.open("a", encoding="utf-8")
        handler = function_logger.registered_handler
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(self._log_stream)
            self._log_handler = handler

    def _start_simulators(self, settings: dict) -> None:
        from cwsync_local.simulators.common import Faults

        faults = Faults(**self.faults) if self.faults else None
        if settings["connectwise"] is None:
            from cwsync_local.simulators import connectwise

            self.connectwise = connectwise.start(self.seed, state=self.data_dir / "connectwise.json", faults=faults,
                                                 request_log=self.data_dir / "connectwise-requests.jsonl")
        if settings["marketplace"] is None:
            from cwsync_local.simulators import marketplace

            self.marketplace = marketplace.start(self.seed, state=self.data_dir / "marketplace.json", faults=faults,
                                                 request_log=self.data_dir / "marketplace-requests.jsonl")

    def _secret_values(self, settings: dict) -> dict:
        connectwise = settings["connectwise"] or {**self.connectwise.credentials, "siteUrl": self.connectwise.url}
        marketplace = settings["marketplace"] or {**self.marketplace.credentials, "baseUrl": self.marketplace.url}
        return {"ConnectWiseSecret": connectwise, "MarketplaceSecret": marketplace,
                "SigningSecret": {"key": self._persistent_signing_key()}}

    def _persistent_signing_key(self) -> str:
        """Kept in the data folder so links printed before a restart still work after it."""
        path = self.data_dir / "signing-key.json"
        if path.exists():
            key = json.loads(path.read_text(encoding="utf-8"))["key"]
        else:
            key = random_secrets.token_urlsafe(48)
            path.write_text(json.dumps({"key": key}), encoding="utf-8")
            path.chmod(0o600)
        self._signing_key = key.encode("utf-8")
        return key

    def _write_runtime_file(self) -> None:
        path = self.data_dir / "runtime.json"
        path.write_text(json.dumps({"url": self.url, "token": self.token, "pid": os.getpid(),
                                    "startedAt": _now()}), encoding="utf-8")
        path.chmod(0o600)

    # -- AWS side ---------------------------------------------------------------------------
    def client(self, service: str):
        return self._session.client(service)

    @property
    def table_name(self) -> str:
        return self.deployment.physical("Table")

    @property
    def state_machine_arn(self) -> str:
        return next(iter(self.deployment.state_machines.values()))

    @property
    def topic_arn(self) -> str:
        return self.deployment.physical("NotificationTopic")

    @property
    def store(self):
        from cwsync.adapters.store import Store

        return Store(self.table_name, client=self.client("dynamodb"))

    def invoke(self, logical_id: str, event: Mapping[str, Any] | None = None) -> Any:
        """Invoke a function through moto's Lambda API (and so through the dispatcher)."""
        function = self.deployment.functions[logical_id]
        answer = self.client("lambda").invoke(FunctionName=function.name, Payload=json.dumps(event or {}).encode())
        payload = json.loads(answer["Payload"].read() or b"null")
        if answer.get("FunctionError"):
            raise RuntimeError(f"{logical_id} failed: {payload.get('errorType')}: {payload.get('errorMessage')}")
        return payload

    def _invoke_route(self, logical_id: str, event: dict) -> Any:
        return self.invoke(logical_id, event)

    # -- what tests and the CLI use ---------------------------------------------------------
    def check(self) -> dict:
        """Run CheckChanges now (as the schedule does); saves the state afterwards."""
        with self._check_lock:
            result = self.invoke(STEP_FUNCTIONS["check"], {"source": "cwsync.local", "detail-type": "Scheduled Event"})
            self.last_check = {"at": _now(), "result": result}
        if self.save_state:
            self.save()
        return result

    def reconcile(self, customer_id: str | None = None, *, repair: bool | None = None) -> dict:
        """Run the Reconcile function now (as its schedule does); saves the state afterwards."""
        event = {"source": "cwsync.local", **({"customerId": customer_id} if customer_id else {}),
                 **({"repair": repair} if repair is not None else {})}
        with self._check_lock:
            result = self.invoke(STEP_FUNCTIONS["reconcile"], event)
        if self.save_state:
            self.save()
        return result

    def locked(self):
        """Hold while reading moto state directly (`rt.store`, clients): moto's DynamoDB is not
        thread-safe, and handlers write to it from Step Functions threads (under this lock)."""
        return self.dispatcher.lock

    def tasks(self, status: str | None = None) -> list[dict]:
        with self.locked():
            return self.store.list_tasks(status)

    def task(self, task_id: str) -> dict | None:
        with self.locked():
            return self.store.get_task(task_id)

    def summaries(self, status: str | None = None) -> list[dict]:
        return [task_summary(task) for task in self.tasks(status)]

    def outbox(self) -> list[dict]:
        return self.outbox_log.entries()

    def approvals(self, status: str | None = ApprovalStatus.PENDING, task_id: str | None = None) -> list[dict]:
        """Approval items (newest first), optionally of one status and task."""
        with self.locked():
            return self.store.list_approvals(status=status, task_id=task_id)

    def approval_link(self, approval_id: str) -> str:
        """The signed link the notification carries (`GET` shows the page, `POST` decides)."""
        from cwsync import approvals

        with self.locked():
            approval = self.store.get_approval(approval_id)
        if approval is None:
            raise KeyError(f"no approval {approval_id}")
        return approvals.approval_url(self.url, approval_id, approvals.expires_epoch(approval), self._signing_key)

    def decide(self, approval_id: str, body: Mapping[str, Any], *, link: str | None = None) -> tuple[int, str]:
        """POST a decision to the local approvals API (as the approver's browser would); (status, body)."""
        url = link or self.approval_link(approval_id)
        request = UrlRequest(url, data=json.dumps(body).encode("utf-8"), method="POST",
                             headers={"Content-Type": "application/json", "Accept": "application/json"})
        try:
            with urlopen(request, timeout=30) as response:
                return response.status, response.read().decode("utf-8")
        except HTTPError as error:
            return error.code, error.read().decode("utf-8")

    def approve(self, approval_id: str, choice: str | None = None, changes: Mapping | None = None,
                decided_by: str | None = None) -> tuple[int, str]:
        """Approve with `choice` (default: the recommended option)."""
        if choice is None:
            with self.locked():
                approval = self.store.get_approval(approval_id) or {}
            choice = recommended_choice(approval)
        body: dict[str, Any] = {"decision": Decision.APPROVE}
        if choice is not None:
            body["choice"] = choice
        if changes:
            body["changes"] = dict(changes)
        if decided_by:
            body["decidedBy"] = decided_by
        return self.decide(approval_id, body)

    def reject(self, approval_id: str, reason: str = "Rejected") -> tuple[int, str]:
        return self.decide(approval_id, {"decision": Decision.REJECT, "reason": reason})

    def approve_pending(self) -> int:
        """Auto-approve: each pending approval gets its recommended option, else it is rejected."""
        count = 0
        for approval in self.approvals(ApprovalStatus.PENDING):
            if approval["approvalId"] in self._auto_decided:
                continue  # answered once already (a refused answer is not retried)
            asked = (str(approval.get("taskId")), str(approval.get("kind")), str(approval.get("subject")))
            if self._auto_rounds.get(asked, 0) >= AUTO_APPROVE_ROUNDS:
                continue  # the same question again: the recommended answer does not help; leave it to a person
            self._auto_rounds[asked] = self._auto_rounds.get(asked, 0) + 1
            self._auto_decided.add(approval["approvalId"])
            choice = recommended_choice(approval, automatic=True)
            if choice is not None:
                status, body = self.approve(approval["approvalId"], choice, decided_by=AUTO_APPROVE)
            else:
                status, body = self.reject(approval["approvalId"], "auto-approve: no recommended option; "
                                                                   "decide it yourself and sync again")
            if status >= 400:
                self._say(f"(auto-approve: the approvals API answered {status} for {approval['approvalId']})")
            count += 1
        return count

    def executions(self, status: str | None = None) -> list[dict]:
        sfn = self.client("stepfunctions")
        kwargs: dict[str, Any] = {"stateMachineArn": self.state_machine_arn}
        if status:
            kwargs["statusFilter"] = status
        found: list[dict] = []
        for page in sfn.get_paginator("list_executions").paginate(**kwargs):
            found.extend(page["executions"])
        return found

    def settled(self) -> bool:
        """Every task synced, finished otherwise, or waiting for a person; nothing else running."""
        from cwsync.adapters.stepfunctions import execution_name

        tasks = self.tasks()
        by_execution = {execution_name(task["taskId"]): task for task in tasks}
        by_execution.update({task["executionName"]: task for task in tasks if task.get("executionName")})
        if any(task.get("status") not in SETTLED_STATUSES for task in tasks):
            return False
        waiting = {str(task["taskId"]) for task in tasks if task.get("status") == TaskStatus.WAITING_APPROVAL}
        if waiting:
            # Just decided, not resumed yet: the task still says waiting_approval but nobody is asked.
            asked = {str(approval.get("taskId")) for approval in self.approvals(ApprovalStatus.PENDING)}
            if waiting - asked:
                return False
        for execution in self.executions("RUNNING"):
            task = by_execution.get(execution["name"])
            if task is None or task.get("status") != TaskStatus.WAITING_APPROVAL:
                return False
        return True

    def wait_until_settled(self, timeout: float = 60, poll: float = 0.2) -> list[dict]:
        """Wait until `settled()` (auto-approving on the way if enabled); TimeoutError if not in time."""
        deadline = time.monotonic() + timeout
        while True:
            answered = self.auto_approve and self.approve_pending()
            if not answered and self.settled() and not (self.auto_approve and self.approve_pending()):
                if self.save_state:
                    self.save()
                return self.tasks()
            if time.monotonic() >= deadline:
                unsettled = [task_summary(t) for t in self.tasks() if t.get("status") not in SETTLED_STATUSES]
                raise TimeoutError(f"tasks not settled after {timeout}s: {unsettled}")
            time.sleep(poll)

    def save(self) -> int:
        """DynamoDB items to `<data-dir>/dynamodb.json` (the simulators save their own files)."""
        with self._save_lock, self.locked():
            count = save_table(self.client("dynamodb"), self.table_name, self.data_dir / "dynamodb.json")
        for simulator in (self.connectwise, self.marketplace):
            if simulator is not None:
                simulator.state.save()
        return count

    # -- control endpoints (cwsync check / tasks from another terminal) ---------------------
    def _control_check(self, request) -> dict:
        result = self.check()
        return {"result": result}

    def _control_reconcile(self, request) -> dict:
        repair = request.args.get("repair")
        return {"result": self.reconcile(request.args.get("customerId") or None,
                                         repair=None if repair is None else repair == "true")}

    def _control_tasks(self, request) -> dict:
        return {"tasks": self.summaries(request.args.get("status") or None)}

    def _control_status(self, request) -> dict:
        return {"url": self.url, "lastCheck": self.last_check, "pid": os.getpid()}

    # -- console ----------------------------------------------------------------------------
    def _say(self, line: str) -> None:
        if self.echo:
            self.echo(line)

    def _announce_message(self, entry: dict) -> None:
        if self.echo:
            subject = entry.get("subject") or "(no subject)"
            self.echo(f"  notification: {subject}")

    def _watch(self) -> None:
        while not self._stopping.wait(0.5):
            try:
                if self.auto_approve:
                    self.approve_pending()
                self.report_progress()
            except Exception as error:  # noqa: BLE001 - the console must not stop the runtime
                if not self._stopping.is_set():
                    self._say(f"(progress display: {error})")

    def report_progress(self) -> None:
        """Print a line for each task whose status changed since the last call."""
        for task in self.tasks():
            summary = task_summary(task)
            link = kind = None
            if summary["status"] == TaskStatus.WAITING_APPROVAL:
                pending = self.approvals(ApprovalStatus.PENDING, task_id=summary["id"])
                if pending:
                    kind = pending[0].get("kind")
                    link = self.approval_link(pending[0]["approvalId"])
            state = (summary["status"], link)
            if self._seen.get(summary["id"]) != state:
                self._seen[summary["id"]] = state
                self._say(describe(summary, link=link, kind=kind))


AUTO_APPROVE = DecidedBy.AUTO_APPROVE  # who decided, on decisions taken by --auto-approve (links remember it)


def recommended_choice(approval: Mapping[str, Any], *, automatic: bool = False) -> str | None:
    """The option to take: the recommended one, else (a person approving without naming one) the only eligible one.

    `automatic` (auto-approve): the recommended option only. Options are recommended only on
    exact evidence, so a guess (a similar name) is never taken without a person.
    """
    options = approval.get("options") or []
    recommended = approval.get("recommended")
    if recommended not in (None, ""):
        return str(recommended)
    flagged = [o for o in options if o.get("recommended") and o.get("eligible", True)]
    if flagged:
        return str(flagged[0]["id"])
    if automatic:
        return None
    # "Check again" is not an answer: it only asks the same question after a fix in ConnectWise.
    eligible = [o for o in options if o.get("eligible", True) and o.get("id") != OptionId.CHECK_AGAIN]
    if len(eligible) == 1:
        return str(eligible[0]["id"])
    return None


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def control_request(data_dir: str | Path, path: str, *, method: str = "GET", query: Mapping | None = None,
                    timeout: float = 120) -> dict | None:
    """Call a running `cwsync run`'s control API; None when none is running for this data folder."""
    file = Path(data_dir) / "runtime.json"
    if not file.exists():
        return None
    info = json.loads(file.read_text(encoding="utf-8"))
    url = f"{info['url']}/_local/{path}" + (f"?{urlencode(query)}" if query else "")
    request = UrlRequest(url, method=method, data=b"" if method == "POST" else None,
                         headers={"Authorization": f"Bearer {info['token']}"})
    try:
        with urlopen(request, timeout=timeout) as response:
            return json.loads(response.read().decode("utf-8"))
    except HTTPError as error:
        raise RuntimeError(f"the running cwsync answered {error.code}: {error.read().decode('utf-8', 'replace')}") from None
    except OSError:
        return None  # a stale runtime.json: the process is gone
