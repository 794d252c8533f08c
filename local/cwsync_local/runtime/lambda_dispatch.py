"""Run the real Lambda handlers in process when moto's Lambda is invoked.

moto's docker-free Lambda backend (`LambdaSimpleBackend.invoke`) only echoes its input.
`Dispatcher.install()` swaps that one method for `Dispatcher.invoke`, which loads
`functions/<dir>/app.py` by file path (as Lambda does with `CodeUri` + `Handler`) and
calls the handler with the environment variables the template gave the function.
Anything the handler does with boto3 reaches the same moto state.

Functions run concurrently, as in Lambda. Each call sees its function's environment
variables and its own warm container (`Dependencies.shared()`), per thread: while
installed, `os.environ` answers a handler's thread from that function's variables
(`ThreadEnviron`), and every other thread from the process's own. Keys are never added
or removed while other threads read. Invocations of the functions Step Functions calls
are bounded by `max_concurrency` (as reserved concurrency bounds them in AWS); the
functions behind HTTP routes and the schedule are not, so a slow step never delays an
approval or a check.

All functions share one interpreter, so the executions a check starts would take the CPU
from the check itself (in AWS each Lambda has its own). A function marked `priority` (the
check) goes first: while one runs, a bounded step waits before it starts, at most
`PRIORITY_WAIT_SECONDS`, then goes anyway (a long check never holds the tasks for long).
"""
from __future__ import annotations

import importlib.util
import json
import logging
import os
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

logger = logging.getLogger(__name__)

# Set for every call: Powertools must not try to reach X-Ray, and metrics go nowhere.
LOCAL_ENVIRONMENT = {"POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_DEV": "false"}
DEFAULT_MAX_CONCURRENCY = 8
PRIORITY_WAIT_SECONDS = 30.0  # how long a step waits for a running priority function (the check)
_current = threading.local()  # .function: the LocalFunction this thread runs; .environment: its variables


class ThreadEnviron(os._Environ):
    """`os.environ`, answering a thread that runs a handler from that handler's variables first."""

    def __getitem__(self, key):
        overlay = getattr(_current, "environment", None)
        if overlay is not None and key in overlay:
            return overlay[key]
        return super().__getitem__(key)


@dataclass
class LocalFunction:
    """One deployed function: where its code is and the environment it runs with."""

    logical_id: str
    name: str
    arn: str
    code_dir: Path
    handler: str = "app.handler"
    environment: dict[str, str] = field(default_factory=dict)
    timeout: int = 60
    memory: int = 512
    bounded: bool = True  # counts against the dispatcher's max_concurrency
    priority: bool = False  # while it runs, bounded functions wait to start (PRIORITY_WAIT_SECONDS at most)
    module: ModuleType | None = field(default=None, repr=False)
    dependencies: Any = field(default=None, repr=False)  # the warm container's Dependencies.shared()
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def load(self) -> Callable[[Any, Any], Any]:
        """The handler callable; the module is imported once (a warm container)."""
        module_name, _, attribute = self.handler.rpartition(".")
        with self.lock, _IMPORT_LOCK:
            if self.module is None:
                self._import(module_name)
        return getattr(self.module, attribute)

    def _import(self, module_name: str) -> None:
        if self.module is None:
            path = self.code_dir / f"{module_name.replace('.', '/')}.py"
            if not path.exists():
                raise FileNotFoundError(f"{self.logical_id}: handler file {path} does not exist")
            unique = f"cwsync_function_{self.logical_id}"
            spec = importlib.util.spec_from_file_location(unique, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[unique] = module
            try:
                spec.loader.exec_module(module)
            except BaseException:
                sys.modules.pop(unique, None)
                raise
            self.module = module


class LambdaContext:
    """The attributes of Lambda's context object that Powertools and handlers read."""

    def __init__(self, function: LocalFunction):
        self.function_name = function.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = function.arn
        self.memory_limit_in_mb = function.memory
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function.name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + function.timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class Dispatcher:
    """Maps function names/ARNs to local handlers; `install()` patches moto's Lambda invoke."""

    def __init__(self, max_concurrency: int = DEFAULT_MAX_CONCURRENCY) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.functions: dict[str, LocalFunction] = {}
        self.lock = threading.RLock()  # guards registration and the baseline environment
        self.max_concurrency = max_concurrency
        self._slots = threading.BoundedSemaphore(max_concurrency)
        self._priority = threading.Condition()
        self._priority_running = 0
        self.held = 0  # bounded calls waiting for a priority function to end
        self.invocations: list[dict] = []  # (function, duration, error) — for tests and benchmarks
        self._original: Callable | None = None
        self._original_shared: Any = None
        self._environ_class: type | None = None
        self._baseline: dict[str, str | None] = {}  # managed key -> value before install (None: absent)
        self.on_error: Callable[[LocalFunction, dict], None] | None = None

    def register(self, function: LocalFunction) -> None:
        for key in (function.name, function.arn, function.logical_id):
            self.functions[key] = function
        if self._original is not None:
            self._add_keys(function.environment)

    def _managed_keys(self) -> set[str]:
        keys = set(LOCAL_ENVIRONMENT)
        for function in self.functions.values():
            keys.update(function.environment)
        return keys

    def _add_keys(self, keys) -> None:
        with self.lock:
            for key in keys:
                if key not in self._baseline:
                    self._baseline[key] = os.environ.get(key)
                    os.environ.setdefault(key, "")

    def find(self, name: str) -> LocalFunction:
        """By name, ARN, qualified ARN or logical id."""
        if name in self.functions:
            return self.functions[name]
        if name.startswith("arn:") and name.count(":") >= 7:
            unqualified = name.rsplit(":", 1)[0]
            if unqualified in self.functions:
                return self.functions[unqualified]
        raise KeyError(f"no local function {name!r}")

    # -- the seam ---------------------------------------------------------------------------
    def install(self) -> None:
        from moto.awslambda_simple.models import LambdaSimpleBackend

        if self._original is not None:
            return
        from cwsync.services.deps import Dependencies

        self._original = LambdaSimpleBackend.invoke
        self._add_keys(self._managed_keys())
        self._environ_class = os.environ.__class__
        os.environ.__class__ = ThreadEnviron
        self._original_shared = Dependencies.__dict__["shared"]
        Dependencies.shared = classmethod(_shared_per_function)
        dispatcher = self

        def invoke(backend, function_name, qualifier, body, headers, response_headers):
            return dispatcher.invoke(function_name, body, response_headers, headers or {})

        LambdaSimpleBackend.invoke = invoke

    def uninstall(self) -> None:
        from moto.awslambda_simple.models import LambdaSimpleBackend

        if self._original is not None:
            LambdaSimpleBackend.invoke = self._original
            self._original = None
        if self._original_shared is not None:
            from cwsync.services.deps import Dependencies

            Dependencies.shared = self._original_shared
            self._original_shared = None
        if self._environ_class is not None:
            os.environ.__class__ = self._environ_class
            self._environ_class = None
        with self.lock:
            for key, value in self._baseline.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            self._baseline.clear()

    # -- running a handler ------------------------------------------------------------------
    def invoke(self, function_name: str, body: Any, response_headers: dict | None = None,
               headers: dict | None = None) -> bytes:
        """moto's invoke contract: the payload as bytes; a handler error sets x-amz-function-error."""
        response_headers = response_headers if response_headers is not None else {}
        function = self.find(function_name)
        if isinstance(body, (bytes, bytearray)):
            body = body.decode("utf-8")
        event = json.loads(body) if body else {}
        try:
            result = self.call(function, event)
        except Exception as error:  # noqa: BLE001 - every handler error becomes a Lambda function error
            response_headers["x-amz-function-error"] = "Unhandled"
            payload = {"errorType": type(error).__name__, "errorMessage": str(error),
                       "stackTrace": traceback.format_tb(error.__traceback__)[-5:]}
            if self.on_error:
                self.on_error(function, payload)
            return json.dumps(payload).encode("utf-8")
        return json.dumps(result, default=str).encode("utf-8")

    def call(self, function: LocalFunction, event: Any) -> Any:
        """Run the handler with the function's environment in this thread; exceptions propagate."""
        environment = {key: "" for key in self._baseline}
        environment.update(LOCAL_ENVIRONMENT)
        environment.update({key: str(value) for key, value in function.environment.items()})
        outer = (getattr(_current, "function", None), getattr(_current, "environment", None))
        slot = function.bounded and outer[0] is None  # a nested call on the same thread holds a slot already
        if slot:
            with self._priority:
                self.held += 1  # waiting for a priority function (tests watch this)
                try:
                    self._priority.wait_for(lambda: self._priority_running == 0, timeout=PRIORITY_WAIT_SECONDS)
                finally:
                    self.held -= 1
            self._slots.acquire()
        if function.priority:
            with self._priority:
                self._priority_running += 1
        started = time.perf_counter()
        error_name = None
        try:
            _current.function, _current.environment = function, environment
            handler = function.load()
            return handler(event, LambdaContext(function))
        except Exception as error:
            error_name = type(error).__name__
            raise
        finally:
            _current.function, _current.environment = outer
            if slot:
                self._slots.release()
            if function.priority:
                with self._priority:
                    self._priority_running -= 1
                    self._priority.notify_all()
            self.invocations.append({"function": function.logical_id, "error": error_name,
                                     "seconds": time.perf_counter() - started})


_IMPORT_LOCK = threading.RLock()  # one handler module imported at a time (imports touch sys.modules)


def _shared_per_function(cls):
    """`Dependencies.shared()` while installed: one per function (its warm container), built
    from that function's environment; outside a handler, the process-wide one."""
    function = getattr(_current, "function", None)
    if function is None:
        if cls._shared is None:
            cls._shared = cls.from_environment()
        return cls._shared
    with function.lock:
        if function.dependencies is None:
            function.dependencies = cls.from_environment()
        return function.dependencies
