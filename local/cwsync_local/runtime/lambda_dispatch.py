"""Run the real Lambda handlers in process when moto's Lambda is invoked.

moto's docker-free Lambda backend (`LambdaSimpleBackend.invoke`) only echoes its input.
`Dispatcher.install()` swaps that one method for `Dispatcher.invoke`, which loads
`functions/<dir>/app.py` by file path (as Lambda does with `CodeUri` + `Handler`) and
calls the handler with the environment variables the template gave the function.
Anything the handler does with boto3 reaches the same moto state.

One function runs at a time: `os.environ` is process-wide, so a handler's environment is
set for the duration of its call under a re-entrant lock (a handler that synchronously
causes another invocation on the same thread may re-enter). Other threads (moto's Step
Functions workers building boto3 clients) read `os.environ` at any time, so keys are never
removed while installed: every variable any function uses exists, empty ("" = unset for
cwsync's settings) when the running function does not have it.
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
# Per-container state kept in shared (layer) modules: in Lambda each function has its own
# copy; here all functions share one process, so each function's value is swapped in and out
# with the owner's swap method (`swap(new) -> previous`).
CONTAINER_STATE = (("cwsync.services.deps", "Dependencies", "swap_shared"),)


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
    module: ModuleType | None = field(default=None, repr=False)
    container: dict[tuple[str, str, str], Any] = field(default_factory=dict, repr=False)

    def load(self) -> Callable[[Any, Any], Any]:
        """The handler callable; the module is imported once (a warm container)."""
        module_name, _, attribute = self.handler.rpartition(".")
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
        return getattr(self.module, attribute)


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

    def __init__(self) -> None:
        self.functions: dict[str, LocalFunction] = {}
        self.lock = threading.RLock()
        self.invocations: list[dict] = []  # (function, duration, error) — for tests and benchmarks
        self._original: Callable | None = None
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
        self._original = LambdaSimpleBackend.invoke
        self._add_keys(self._managed_keys())
        dispatcher = self

        def invoke(backend, function_name, qualifier, body, headers, response_headers):
            return dispatcher.invoke(function_name, body, response_headers, headers or {})

        LambdaSimpleBackend.invoke = invoke

    def uninstall(self) -> None:
        from moto.awslambda_simple.models import LambdaSimpleBackend

        if self._original is not None:
            LambdaSimpleBackend.invoke = self._original
            self._original = None
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
        """Run the handler with the function's environment; exceptions propagate."""
        with self.lock:
            # Values only, never keys: other threads (moto, servers) read os.environ meanwhile.
            wanted = {key: "" for key in self._baseline}
            wanted.update(LOCAL_ENVIRONMENT)
            wanted.update({key: str(value) for key, value in function.environment.items()})
            saved = {key: os.environ.get(key) for key in wanted}
            started = time.perf_counter()
            error_name = None
            try:
                os.environ.update(wanted)
                _swap_in(function)
                handler = function.load()
                return handler(event, LambdaContext(function))
            except Exception as error:
                error_name = type(error).__name__
                raise
            finally:
                _swap_out(function)
                for key, value in saved.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value
                self.invocations.append({"function": function.logical_id, "error": error_name,
                                         "seconds": time.perf_counter() - started})


def _holder(module_name: str, owner: str):
    module = sys.modules.get(module_name)
    return getattr(module, owner, None) if module is not None else None


def _swap_in(function: LocalFunction) -> None:
    for module_name, owner, swap in CONTAINER_STATE:
        holder = _holder(module_name, owner)
        if holder is not None:
            getattr(holder, swap)(function.container.get((module_name, owner, swap)))


def _swap_out(function: LocalFunction) -> None:
    for module_name, owner, swap in CONTAINER_STATE:
        holder = _holder(module_name, owner)
        if holder is not None:
            function.container[(module_name, owner, swap)] = getattr(holder, swap)(None)
