"""Fixtures for tests that run cwsync through the embedded runtime (docs/INTERFACES.md, "Embedded runtime").

`make_runtime(**kwargs)` starts an `EmbeddedRuntime` in a fresh data folder (kwargs go to the
constructor: seed, parameters, faults, auto_approve, ...) and stops it after the test. moto is
process-wide: one runtime runs at a time, so start the next only after stopping the previous
(`rt.stop()`), as the state save/load tests do.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from acceptance import DATA_SETS
from cwsync_local.runtime.embedded import EmbeddedRuntime

HERE = Path(__file__).resolve().parent
# The suite-wide timeout (pyproject: 300 s) guards against hangs. A workflow test runs whole
# runtimes and waits on states with deadlines of up to 1,500 s (a busy 2-core machine can be
# that slow), so its guard must sit above its own deadlines, or it fires first.
WORKFLOW_TIMEOUT = 1800


def pytest_collection_modifyitems(items):
    for item in items:
        if HERE in Path(item.path).resolve().parents and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(WORKFLOW_TIMEOUT))


@pytest.fixture(scope="module", params=DATA_SETS)
def data_set(request) -> str:
    """The name of a shipped data set; a module using it runs once per data set."""
    return request.param


@pytest.fixture
def make_runtime(tmp_path):
    started: list[EmbeddedRuntime] = []

    def make(data_dir=None, **kwargs) -> EmbeddedRuntime:
        runtime = EmbeddedRuntime(data_dir or tmp_path / f"data{len(started)}", **kwargs)
        started.append(runtime)
        return runtime.start()

    yield make
    for runtime in reversed(started):
        if runtime.started:
            runtime.stop()


@pytest.fixture
def runtime(make_runtime):
    """A started runtime with the demo data and the template's default parameters (local retry timings)."""
    return make_runtime()
