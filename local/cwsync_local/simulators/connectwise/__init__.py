"""ConnectWise Manage REST 3.0 simulator.

`start(...)` serves it from a background thread (tests, the embedded runtime); the API base
is `f"{sim.url}/{CODEBASE}apis/3.0"`, also discoverable from
`GET {sim.url}/login/companyinfo/{companyId}`.
"""
from __future__ import annotations

from pathlib import Path

from ..common import FaultInjector, Faults, RunningSimulator, StateFile, start_in_thread
from .app import CODEBASE, ConnectWiseApp
from .errors import fault_body

# Documented defaults (also the `cwsync simulate connectwise` flag defaults).
DEFAULT_CREDENTIALS = {
    "companyId": "demo",
    "publicKey": "demo-public-key",
    "privateKey": "demo-private-key",
    "clientId": "8f4c5a2e-1b7d-4e0a-9c3f-6d2b1a0e5f47",
}

__all__ = ["CODEBASE", "DEFAULT_CREDENTIALS", "build_app", "start"]


def build_app(state: StateFile, *, faults: Faults | None = None, request_log: str | Path | None = None,
              credentials: dict[str, str] | None = None):
    """The WSGI app with fault injection and the request log around it."""
    app = ConnectWiseApp(state, {**DEFAULT_CREDENTIALS, **(credentials or {})})
    return FaultInjector(app, faults, request_log=request_log, error_body=fault_body), app


def start(seed: str | Path | dict | None = None, *, state: str | Path | None = None, faults: Faults | None = None,
          request_log: str | Path | None = None, credentials: dict[str, str] | None = None,
          port: int = 0, host: str = "127.0.0.1") -> RunningSimulator:
    """Serve the simulator in a daemon thread; `seed` is a path or a dict in the seed format."""
    state_file = StateFile("connectwise", seed=seed, state=state)
    credentials = {**DEFAULT_CREDENTIALS, **(credentials or {})}
    wsgi, _ = build_app(state_file, faults=faults, request_log=request_log, credentials=credentials)
    return start_in_thread("connectwise", wsgi, state_file, credentials, host=host, port=port,
                           request_log=request_log)
