"""The embedded runtime: the real template and handlers on one machine, no AWS account.

    with EmbeddedRuntime(data_dir=tmp_path, parameters={"ApprovalPolicy": "never"}) as rt:
        rt.check()
        rt.wait_until_settled(timeout=60)
        rt.tasks(); rt.outbox(); rt.connectwise.state.data
        rt.approve(approval_id, choice="...")

What it does on `start()` (docs/INTERFACES.md, "Embedded runtime"): starts an in-process
moto behind one gate (moto_gate), the simulators (unless real endpoints are configured),
translates and deploys infra/template.yaml, runs the handlers for moto's Lambda, several
at once (lambda_dispatch), serves the HttpApi routes and a token-guarded `/_local/`
control API (http_api), captures SNS into `<data-dir>/outbox.jsonl` (outbox), plays the
schedule (scheduler), keeps every acknowledged DynamoDB write on disk (state), and gives
every task that was still in flight when the last run stopped a live execution again
(`resume`).
"""
from __future__ import annotations

import json
import logging
import os
import secrets as random_secrets
import sys
import threading
from pathlib import Path
from typing import Any, Callable, Mapping

from . import endpoints, moto_fixes, moto_gate
from .approving import AUTO_APPROVE_ROUNDS, Approving  # noqa: F401 - AUTO_APPROVE_ROUNDS is part of the API
from .console import control_request, describe, now_text, recommended_choice, task_summary  # noqa: F401 - re-exported
from .deploy import Deployment, deploy
from .http_api import HttpApi, LocalServer
from .lambda_dispatch import DEFAULT_MAX_CONCURRENCY, Dispatcher
from .outbox import Outbox
from .resuming import REBIND_WAIT_SECONDS, Resuming
from .scheduler import Schedule, interval_seconds
from .state import DurableTable
from .translate import TEMPLATE, translate
from .watching import FINAL_STATUSES, SETTLED_STATUSES, NotSettled, Watching  # noqa: F401 - part of the API

MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
# Short waits for a machine on a desk; `parameters=` (or --parameter) overrides any of them.
LOCAL_PARAMETERS = {"RetryIntervalSeconds": "1", "RetryBackoffRate": "1.5", "RetryMaxAttempts": "3"}
# With the ConnectWise simulator: where its demo catalog keeps cloud licences (subcategory
# "Cloud Licensing", type "Subscription"), so "add product to ConnectWise" can be offered.
SIMULATOR_PARAMETERS = {"CatalogSubcategoryId": "11", "CatalogTypeId": "3"}
STEP_FUNCTIONS = {"check": "CheckChangesFunction", "approvals": "ApprovalsApiFunction",
                  "reconcile": "ReconcileFunction"}


class EmbeddedRuntime(Approving, Resuming, Watching):
    """cwsync on one machine. Use as a context manager, or `start()` / `stop()`."""

    def __init__(self, data_dir: str | Path = ".cwsync", *, seed: str | Path | dict | None = None,
                 parameters: Mapping[str, str] | None = None, config: str | Path | None = None,
                 port: int = 0, schedule: bool = False, echo: Callable[[str], None] | None = None,
                 stack_name: str = "cwsync", faults: Mapping[str, Any] | None = None,
                 auto_approve: bool = False, save_state: bool = True, function_log: str | Path | None = None,
                 concurrency: int = DEFAULT_MAX_CONCURRENCY, resume: bool = True):
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
        self.dispatcher = Dispatcher(max_concurrency=concurrency)
        self.resume_enabled = resume
        self.durable: DurableTable | None = None
        self.resumed: list[str] = []  # execution names started again on start()
        self.outbox_log = Outbox(self.data_dir / "outbox.jsonl", listener=self._announce_message)
        self.server: LocalServer | None = None
        self.token = random_secrets.token_urlsafe(24)
        self._mock = None
        self._session = None
        self._clients: dict[str, Any] = {}  # one per service (building one costs ~10 ms of CPU), under:
        self._clients_lock = threading.Lock()
        self._schedule: Schedule | None = None
        self._reconcile_schedule: Schedule | None = None
        self._watcher: threading.Thread | None = None
        self._stopping = threading.Event()
        self._rebound = threading.Event()  # set once no approval request must wait for a re-binding
        self._seen: dict[str, tuple] = {}
        self._auto_decided: set[str] = set()
        self._auto_rounds: dict[tuple, int] = {}
        self._auto_lock = threading.Lock()  # one auto-approver at a time: the console's and --once's
        self._signing_key: bytes | None = None
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
        simulated = {}
        if settings["connectwise"] is None:
            # The simulator's own limit is the one to share (none unless `faults` throttles it).
            simulated = {**SIMULATOR_PARAMETERS, "ConnectWiseRequestsPerMinute": str(int(self.faults.get("throttle") or 0))}
        parameters = {**LOCAL_PARAMETERS, **simulated, **settings["parameters"], **self.requested_parameters}
        self._start_simulators(settings)

        self._mock = mock_aws(config=MOTO_CONFIG)
        self._mock.start()
        moto_gate.install()
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
                function.bounded = function.logical_id not in STEP_FUNCTIONS.values()
                function.priority = function.logical_id == STEP_FUNCTIONS["check"]
                self.dispatcher.register(function)
            if self.function_log:  # before install: the import must see the process's own environment
                self._redirect_function_logs()
            self.dispatcher.install()
            self.outbox_log.install()
            moto_fixes.install()
            if self.save_state:
                self.durable = DurableTable(self.data_dir, self.table_name, self._session.region_name)
                loaded = self.durable.load(self.client("dynamodb"))
                if loaded:
                    self._say(f"Loaded {loaded} saved items from {self.data_dir}")
                moto_gate.install(self.durable.record)  # from here on every acknowledged write is on disk
            self._write_runtime_file()
            self.started = True
            if self.resume_enabled:
                self.resumed = self.resume()
                if self.resumed:
                    self._say(f"Resumed {len(self.resumed)} task(s) that were in flight when cwsync last stopped")
            else:
                self._rebound.set()
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
        """Stop everything; nothing here can skip the save (each step's failure is only reported)."""
        self._stopping.set()
        self._rebound.set()
        self._quietly("stop the schedule", lambda: self._schedule and self._schedule.stop())
        self._quietly("stop the reconciliation schedule",
                      lambda: self._reconcile_schedule and self._reconcile_schedule.stop())
        self._quietly("stop the progress display",
                      lambda: self._watcher and self._watcher.is_alive() and self._watcher.join(timeout=5))
        if self.started:
            self._quietly("save the state", self.save)
        self.started = False
        if self.server:
            self._quietly("stop the approvals API", self.server.stop)
            self.server = None
            (self.data_dir / "runtime.json").unlink(missing_ok=True)
        self.outbox_log.uninstall()
        self.dispatcher.uninstall()
        moto_fixes.uninstall()
        if not self._simulators_stopped:
            self._simulators_stopped = True
            for simulator in (self.connectwise, self.marketplace):
                if simulator is not None:  # the objects stay: tests may read `rt.connectwise.state.data` afterwards
                    self._quietly(f"stop the {simulator.name} simulator", simulator.stop)
        self._clients.clear()
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        moto_gate.uninstall()
        if self.durable is not None:
            self.durable.close()
        if self._log_stream is not None and self._log_handler is not None:
            with self._log_handler.lock:
                self._log_handler.stream = getattr(self, "_previous_log_stream", None) or sys.stdout
            self._log_stream.close()
            self._log_stream = None

    def _quietly(self, what: str, action: Callable[[], Any]) -> None:
        try:
            action()
        except Exception as error:  # noqa: BLE001 - stopping must go on
            try:
                self._say(f"Could not {what}: {error}")
            except Exception:  # noqa: BLE001 - not even a closed console stops it
                pass

    def _redirect_function_logs(self) -> None:
        """The functions' JSON logs go to a file (the console is for people): `function_log`."""
        from cwsync.observability import logger as function_logger

        self.function_log.parent.mkdir(parents=True, exist_ok=True)
        self._log_stream = self.function_log.open("a", encoding="utf-8")
        handler = function_logger.registered_handler
        if isinstance(handler, logging.StreamHandler):
            # Swapped without setStream's flush of the old stream: it may be closed (a test's capture).
            with handler.lock:
                self._previous_log_stream, handler.stream = handler.stream, self._log_stream
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
                                    "startedAt": now_text()}), encoding="utf-8")
        path.chmod(0o600)

    # -- AWS side ---------------------------------------------------------------------------
    def client(self, service: str):
        """The runtime's own client of `service` (built once; boto3 clients are thread-safe)."""
        with self._clients_lock:
            if service not in self._clients:
                self._clients[service] = self._session.client(service)
            return self._clients[service]

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
        if logical_id == STEP_FUNCTIONS["approvals"]:
            self._rebound.wait(timeout=REBIND_WAIT_SECONDS)  # set at once unless a restart is re-binding
        return self.invoke(logical_id, event)

    # -- what tests and the CLI use ---------------------------------------------------------
    def check(self) -> dict:
        """Run CheckChanges now (as the schedule does); what it stored is on disk already."""
        with self._check_lock:
            result = self.invoke(STEP_FUNCTIONS["check"], {"source": "cwsync.local", "detail-type": "Scheduled Event"})
            self.last_check = {"at": now_text(), "result": result}
        return result

    def reconcile(self, customer_id: str | None = None, *, repair: bool | None = None) -> dict:
        """Run the Reconcile function now (as its schedule does); what it stored is on disk already."""
        event = {"source": "cwsync.local", **({"customerId": customer_id} if customer_id else {}),
                 **({"repair": repair} if repair is not None else {})}
        with self._check_lock:
            return self.invoke(STEP_FUNCTIONS["reconcile"], event)

    def locked(self):
        """Hold to make several reads of moto state one consistent view (each call alone is atomic:
        moto_gate runs every AWS call but a Lambda invoke one at a time)."""
        return moto_gate.lock

    def tasks(self, status: str | None = None) -> list[dict]:
        with self.locked():
            return self.store.list_tasks(status)

    def task(self, task_id: str) -> dict | None:
        return self.store.get_task(task_id)

    def summaries(self, status: str | None = None) -> list[dict]:
        return [task_summary(task) for task in self.tasks(status)]

    def outbox(self) -> list[dict]:
        return self.outbox_log.entries()

    def executions(self, status: str | None = None) -> list[dict]:
        sfn = self.client("stepfunctions")
        kwargs: dict[str, Any] = {"stateMachineArn": self.state_machine_arn}
        if status:
            kwargs["statusFilter"] = status
        found: list[dict] = []
        for page in sfn.get_paginator("list_executions").paginate(**kwargs):
            found.extend(page["executions"])
        return found

    def save(self) -> int:
        """Fold the journal into `<data-dir>/dynamodb.json`, save the simulators; returns the item count.
        (Every acknowledged write is on disk already: this only makes the next start quicker.)"""
        count = self.durable.compact() if self.durable is not None else 0
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
