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
  interpreter). The parsed program is kept per definition and each execution gets its own
  deep copy of it (a few milliseconds), so no execution shares state with another.
"""
from __future__ import annotations

import base64
import copy
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


def _install_program_cache() -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    _originals["entrypoint"] = ExecutionWorker._get_evaluation_entrypoint

    def entrypoint(worker):
        definition = worker._evaluation_details.state_machine_details.definition
        with _programs_lock:
            program = _programs.get(definition)
            if program is None:
                program = _programs[definition] = AmazonStateLanguageParser.parse(definition)[0]
        return copy.deepcopy(program)

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
    entrypoint = _originals.pop("entrypoint", None)
    if entrypoint is not None:
        from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

        ExecutionWorker._get_evaluation_entrypoint = entrypoint
