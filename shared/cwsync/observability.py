"""The one Logger and Tracer every cwsync handler and service shares.

Configured by the template's `POWERTOOLS_*` variables (service name, log level).
Powertools' Tracer loads the X-Ray SDK (and botocore) when it is created, which alone costs
more than `import boto3`; `tracer` here creates it on first use, so a handler module imports
quickly and the cost lands where boto3 is needed anyway.
"""
from __future__ import annotations

import functools
import os
from typing import Any, Callable

from aws_lambda_powertools import Logger

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "cwsync")


class LazyTracer:
    """Powertools `Tracer`, built on first use; same decorators and attributes."""

    def __init__(self, **options: Any):
        self._options = options
        self._tracer = None

    @property
    def tracer(self):
        if self._tracer is None:
            from aws_lambda_powertools import Tracer

            self._tracer = Tracer(**self._options)
        return self._tracer

    def capture_lambda_handler(self, handler: Callable | None = None, **options: Any):
        if handler is None:
            return functools.partial(self.capture_lambda_handler, **options)
        return self._defer(handler, "capture_lambda_handler", options)

    def capture_method(self, method: Callable | None = None, **options: Any):
        if method is None:
            return functools.partial(self.capture_method, **options)
        return self._defer(method, "capture_method", options)

    def _defer(self, function: Callable, decorator: str, options: dict) -> Callable:
        traced: Callable | None = None

        @functools.wraps(function)
        def call(*args: Any, **kwargs: Any):
            nonlocal traced
            if traced is None:
                traced = getattr(self.tracer, decorator)(function, **options)
            return traced(*args, **kwargs)

        return call

    def __getattr__(self, name: str) -> Any:
        return getattr(self.tracer, name)


logger = Logger(service=SERVICE)
tracer = LazyTracer(service=SERVICE)
