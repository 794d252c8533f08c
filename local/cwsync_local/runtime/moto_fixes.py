"""Small fixes to moto 5.2.x that the runtime applies while it runs (each undone on stop).

- `SendTaskFailure` drops its `cause` in moto's response handler, so a rejected task would
  lose the approver's reason; the fixed handler passes it on, as Step Functions does.
- DynamoDB item answers (GetItem, Query, Scan, …) go through moto's generic response
  serializer, which walks botocore's shapes key by key: a list of 20 tasks (each with its
  order, plan and history) took about half a second, and every step reads tasks. Their
  results are already in DynamoDB's wire form (typed JSON), so they are written out as
  JSON directly, as moto did before its serializer; anything else keeps the serializer.
- Every execution parses the state machine's definition again with ANTLR (0.06 s alone,
  0.4 s and more on a busy machine, per execution, competing with everything else for the
  interpreter). The parsed program is kept per definition and shared by the executions of
  that definition: its components are built once and keep every execution's state in the
  execution's own environment (`env.heap`, `env.stack`; checked in moto 5.2.5: outside their
  constructors, only the Map state's per-run worker objects change their own attributes,
  and our state machine has no Map). The one lazy attribute, each component's `heap_key`
  (the name of its retry counters in `env.heap`), is set before the program is shared, so
  no two executions race to set it. (A deep copy per execution took 4–10 ms of CPU, 40 % of
  a 100-order check's own CPU.)
- Every Lambda task state builds a new boto3 Lambda client (loading the service model,
  creating its methods: about a fifth of the CPU of a task's state machine before this
  fix). The interpreter's clients are kept per region and service instead (the function
  ignores its credentials argument, and boto3 clients are thread-safe).
- Every JSONPath the interpreter evaluates (`$.taskId`, `$.plan`, …) is parsed again by
  jsonpath_ng, whose parser builds its yacc tables on each call. Parsed paths are kept per
  text (they are read, never changed, when evaluated).
"""
from __future__ import annotations

import base64
import json
import threading
from decimal import Decimal
from typing import Any, Callable

_originals: dict[str, Callable] = {}
_programs: dict[str, Any] = {}  # definition text -> parsed program (copied for each execution)
_programs_lock = threading.Lock()
FAST_ACTIONS = frozenset({"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem",
                          "BatchWriteItem", "TransactGetItems", "TransactWriteItems"})


def install() -> None:
    from moto.core.responses import EmptyResult
    from moto.dynamodb.responses import DynamoResult
    from moto.stepfunctions.responses import StepFunctionResponse

    if "send_task_failure" in _originals:
        return
    _originals["send_task_failure"] = StepFunctionResponse.send_task_failure
    _originals["dynamo_result"] = original_result = DynamoResult.execute_result

    def send_task_failure(self):
        self.stepfunction_backend.send_task_failure(self._get_param("taskToken"), error=self._get_param("error"),
                                                    cause=self._get_param("cause"))
        return EmptyResult()

    def execute_result(self, context):
        if str(context.operation_model.name) in FAST_ACTIONS:
            try:
                body = json.dumps(self.result, default=_wire_value, separators=(",", ":"))
            except TypeError:  # something not plain (a model object): the serializer knows it
                pass
            else:
                return 200, {"Content-Type": "application/x-amz-json-1.0"}, body
        return original_result(self, context)

    StepFunctionResponse.send_task_failure = send_task_failure
    DynamoResult.execute_result = execute_result
    _install_program_cache()
    _install_interpreter_caches()


def _set_heap_keys(program: Any) -> None:
    """Give every evaluable component of the program its `heap_key` now (it is set lazily)."""
    from moto.stepfunctions.parser.asl.component.component import Component
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent

    seen: set[int] = set()
    pending = [program]
    while pending:
        value = pending.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, (list, tuple, set, frozenset)):
            pending.extend(value)
        elif isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, Component):
            if isinstance(value, EvalComponent):
                value.heap_key  # noqa: B018 - the property sets it on first read
            pending.extend(vars(value).values())


def _install_interpreter_caches() -> None:
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.asl.utils import json_path

    _originals["boto_client_for"] = original_client = lambda_eval_utils.boto_client_for
    _originals["json_path.parse"] = json_path.parse
    _originals["result_path.parse"] = result_path.parse
    clients: dict[tuple, Any] = {}

    def boto_client_for(region: str, service: str, state_credentials: Any = None):
        with _programs_lock:
            client = clients.get((region, service))
            if client is None:
                client = clients[(region, service)] = original_client(region=region, service=service,
                                                                      state_credentials=state_credentials)
            return client

    lambda_eval_utils.boto_client_for = boto_client_for
    json_path.parse = _cached(json_path.parse)
    result_path.parse = _cached(result_path.parse)


def _cached(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    parsed: dict[str, Any] = {}

    def cached_parse(path: str) -> Any:
        found = parsed.get(path)
        if found is None:
            found = parsed[path] = parse(path)
        return found

    return cached_parse


def _install_program_cache() -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    _originals["entrypoint"] = ExecutionWorker._get_evaluation_entrypoint

    def entrypoint(worker):
        definition = worker._evaluation_details.state_machine_details.definition
        with _programs_lock:
            program = _programs.get(definition)
            if program is None:
                program = AmazonStateLanguageParser.parse(definition)[0]
                _set_heap_keys(program)
                _programs[definition] = program
        return program

    ExecutionWorker._get_evaluation_entrypoint = entrypoint


def _wire_value(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(type(value).__name__)


def uninstall() -> None:
    from moto.dynamodb.responses import DynamoResult
    from moto.stepfunctions.responses import StepFunctionResponse

    original = _originals.pop("send_task_failure", None)
    if original is not None:
        StepFunctionResponse.send_task_failure = original
    result = _originals.pop("dynamo_result", None)
    if result is not None:
        DynamoResult.execute_result = result
    _uninstall_interpreter_caches()
    entrypoint = _originals.pop("entrypoint", None)
    if entrypoint is not None:
        from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

        ExecutionWorker._get_evaluation_entrypoint = entrypoint


def _uninstall_interpreter_caches() -> None:
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.asl.utils import json_path

    for name, module, attribute in (("boto_client_for", lambda_eval_utils, "boto_client_for"),
                                    ("json_path.parse", json_path, "parse"), ("result_path.parse", result_path, "parse")):
        original = _originals.pop(name, None)
        if original is not None:
            setattr(module, attribute, original)
