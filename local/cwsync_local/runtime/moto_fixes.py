"""Small fixes to moto 5.2.x that the runtime applies while it runs (each undone on stop).

- `SendTaskFailure` drops its `cause` in moto's response handler, so a rejected task would
  lose the approver's reason; the fixed handler passes it on, as Step Functions does.
"""
from __future__ import annotations

from typing import Callable

_originals: dict[str, Callable] = {}


def install() -> None:
    from moto.core.responses import EmptyResult
    from moto.stepfunctions.responses import StepFunctionResponse

    if "send_task_failure" in _originals:
        return
    _originals["send_task_failure"] = StepFunctionResponse.send_task_failure

    def send_task_failure(self):
        self.stepfunction_backend.send_task_failure(self._get_param("taskToken"), error=self._get_param("error"),
                                                    cause=self._get_param("cause"))
        return EmptyResult()

    StepFunctionResponse.send_task_failure = send_task_failure


def uninstall() -> None:
    from moto.stepfunctions.responses import StepFunctionResponse

    original = _originals.pop("send_task_failure", None)
    if original is not None:
        StepFunctionResponse.send_task_failure = original
