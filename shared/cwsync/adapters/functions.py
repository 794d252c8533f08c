"""Starting another cwsync function without waiting for it (Lambda `Event` invocation)."""
from __future__ import annotations

import json
from typing import Any, Mapping

from botocore.config import Config


class FunctionInvoker:
    """`invoke_async(payload)`: Lambda queues the call and answers at once (202)."""

    def __init__(self, function_name: str, *, client=None):
        if client is None:
            import boto3

            client = boto3.client("lambda", config=Config(connect_timeout=3, read_timeout=10,
                                                           retries={"mode": "standard", "max_attempts": 3}))
        self.function_name = function_name
        self.client = client

    def invoke_async(self, payload: Mapping[str, Any]) -> None:
        self.client.invoke(FunctionName=self.function_name, InvocationType="Event",
                           Payload=json.dumps(dict(payload)).encode("utf-8"))
