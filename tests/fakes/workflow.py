"""WorkflowPort in memory: every start asked for, in order (a second start of a task shows as a
repeat in `started`, and answers False as Step Functions' one execution a task does)."""
from __future__ import annotations


class FakeWorkflow:
    def __init__(self):
        self.started: list[str] = []

    def start(self, task_id):
        first = task_id not in self.started
        self.started.append(task_id)
        return first
