"""Plumbing shared by the marketplace and ConnectWise simulators.

State file (load at start, save on every write and on exit), fault injection, the
request log, and a threaded WSGI server that runs in a background thread for tests and in
the foreground for `cwsync simulate ...`.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable
from urllib.parse import parse_qsl

from werkzeug.serving import BaseWSGIServer, make_server

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DATA = Path(__file__).resolve().parent.parent / "data"
DEMO_SEED = DATA / "demo_seed.json"
# The data sets that ship with cwsync, by the names `--seed` also takes (docs/SEED.md).
DATA_SETS = {"demo": DEMO_SEED, "real": DATA / "real_seed.json", "vendor-full": DATA / "vendor_full_seed.json"}


@dataclass
class Faults:
    """Fault injection knobs: each is off at its default."""

    fail_rate: float = 0.0  # share of requests answered 500 without doing anything
    throttle: int = 0  # requests per window (a minute) before 429 with Retry-After (0 = no limit)
    throttle_window_seconds: float = 60.0  # shorter in tests, so a small budget refills quickly
    latency_ms: int = 0  # added to every request
    commit_then_fail_rate: float = 0.0  # share of writes performed, then answered 500
    random_seed: int | None = None

    def __post_init__(self) -> None:
        for name in ("fail_rate", "commit_then_fail_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        if self.throttle < 0 or self.latency_ms < 0:
            raise ValueError("throttle and latency_ms must not be negative")
        if self.throttle_window_seconds <= 0:
            raise ValueError("throttle_window_seconds must be positive")


def load_seed(seed: str | Path | None = None) -> dict[str, Any]:
    """Read a seed file in the seed format (docs/SEED.md), or a shipped data set by name
    (`demo`, `real`, `vendor-full`); the demo data when none is given."""
    path = DATA_SETS.get(str(seed), Path(seed)) if seed else DEMO_SEED
    try:
        with path.open(encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        raise SystemExit(f"seed file not found: {path}") from None
    except json.JSONDecodeError as error:
        raise SystemExit(f"seed file {path} is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise SystemExit(f"seed file {path} must hold a JSON object")
    return data


class StateFile:
    """One simulator's data: loaded from its state file if present, else from the seed.

    `section` is "marketplace" or "connectwise"; the file is written in the seed format,
    so a saved state can be used as a seed again. Writes are atomic (temp file + rename).
    """

    def __init__(self, section: str, *, seed: str | Path | dict | None = None, state: str | Path | None = None):
        self.section = section
        self.path = Path(state) if state else None
        self.lock = threading.RLock()
        if self.path and self.path.exists():
            source = load_seed(self.path)
        elif isinstance(seed, dict):
            source = seed
        else:
            source = load_seed(seed)
        self.data: dict[str, Any] = json.loads(json.dumps(source.get(section, {})))

    def save(self) -> None:
        if not self.path:
            return
        with self.lock:
            payload = json.dumps({self.section: self.data}, indent=1, sort_keys=True)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            temporary.write_text(payload, encoding="utf-8")
            os.replace(temporary, self.path)


class FaultInjector:
    """WSGI middleware: latency, 5xx, 429 throttling, commit-then-fail and the request log."""

    def __init__(self, app: WSGIApp, faults: Faults | None = None, *, request_log: str | Path | None = None,
                 error_body: Callable[[int, str], bytes] | None = None, exempt_paths: tuple[str, ...] = ()):
        self.app = app
        self.faults = faults or Faults()
        self.random = random.Random(self.faults.random_seed)
        self.request_log = Path(request_log) if request_log else None
        self.error_body = error_body or (lambda status, message: json.dumps({"message": message}).encode())
        self.exempt_paths = exempt_paths
        self._recent: deque[float] = deque()
        self._lock = threading.Lock()

    def _throttled(self) -> int | None:
        """Seconds to wait when over the per-minute budget, else None."""
        if not self.faults.throttle:
            return None
        now, window = time.monotonic(), self.faults.throttle_window_seconds
        with self._lock:
            while self._recent and now - self._recent[0] >= window:
                self._recent.popleft()
            if len(self._recent) >= self.faults.throttle:
                return max(1, int(window - (now - self._recent[0])) + 1)
            self._recent.append(now)
        return None

    def _roll(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self._lock:
            return self.random.random() < rate

    def _log(self, environ: dict, status: int) -> None:
        if not self.request_log:
            return
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "at": round(time.time(), 3),  # the same, precise enough for request rates
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "query": dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)),
            "status": status,
        }
        line = json.dumps(entry) + "\n"
        with self._lock, self.request_log.open("a", encoding="utf-8") as handle:
            handle.write(line)

    def _answer(self, environ, start_response, status: int, reason: str, message: str, headers=()):
        body = self.error_body(status, message)
        start_response(f"{status} {reason}", [("Content-Type", "application/json"),
                                              ("Content-Length", str(len(body))), *headers])
        self._log(environ, status)
        return [body]

    def __call__(self, environ, start_response):
        if self.exempt_paths and environ.get("PATH_INFO", "").startswith(self.exempt_paths):
            return self._passthrough(environ, start_response)
        if self.faults.latency_ms:
            time.sleep(self.faults.latency_ms / 1000)
        wait = self._throttled()
        if wait is not None:
            return self._answer(environ, start_response, 429, "Too Many Requests",
                                f"Too many requests: try again in {wait} seconds.",
                                [("Retry-After", str(wait))])
        if self._roll(self.faults.fail_rate):
            return self._answer(environ, start_response, 500, "Internal Server Error",
                                "Injected failure: the request was not processed.")
        if environ.get("REQUEST_METHOD") in WRITE_METHODS and self._roll(self.faults.commit_then_fail_rate):
            # Perform the write completely, then hide its answer behind a 500.
            result = self.app(environ, lambda *args, **kwargs: (lambda data: None))
            for _ in result:
                pass
            if hasattr(result, "close"):
                result.close()
            return self._answer(environ, start_response, 500, "Internal Server Error",
                                "Injected failure after the write was saved.")
        return self._passthrough(environ, start_response)

    def _passthrough(self, environ, start_response):
        captured: dict[str, int] = {}

        def recording_start_response(status, headers, exc_info=None):
            captured["status"] = int(status.split(" ", 1)[0])
            return start_response(status, headers, exc_info)

        result = self.app(environ, recording_start_response)
        self._log(environ, captured.get("status", 0))
        return result


@dataclass
class RunningSimulator:
    """A simulator serving in a background thread (tests, the embedded runtime)."""

    name: str
    url: str
    server: BaseWSGIServer
    state: StateFile
    credentials: dict[str, str]
    request_log: Path | None = None
    thread: threading.Thread | None = field(default=None, repr=False)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self.thread:
            self.thread.join(timeout=5)
        self.state.save()

    def requests(self) -> list[dict]:
        """The request log's entries so far (empty without a request log)."""
        if not self.request_log or not self.request_log.exists():
            return []
        return [json.loads(line) for line in self.request_log.read_text(encoding="utf-8").splitlines() if line]

    def __enter__(self) -> "RunningSimulator":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_in_thread(name: str, app: WSGIApp, state: StateFile, credentials: dict[str, str], *,
                    host: str = "127.0.0.1", port: int = 0, request_log: str | Path | None = None) -> RunningSimulator:
    """Serve `app` from a threaded server in a daemon thread; port 0 picks a free port."""
    server = make_server(host, port, app, threaded=True)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name=f"{name}-simulator", daemon=True)
    thread.start()
    url = f"http://{host}:{server.server_port}"
    return RunningSimulator(name, url, server, state, credentials,
                            Path(request_log) if request_log else None, thread)


def add_common_arguments(parser: argparse.ArgumentParser, *, default_port: int) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=default_port, help="port to listen on (default: %(default)s)")
    parser.add_argument("--seed", metavar="FILE|NAME",
                        help="seed data file, or a shipped data set: demo (the default), real or vendor-full; see docs/SEED.md")
    parser.add_argument("--state", metavar="FILE",
                        help="state file: loaded at start if present, saved on every write and on exit")
    faults = parser.add_argument_group("fault injection")
    faults.add_argument("--fail-rate", type=float, default=0.0, metavar="RATE",
                        help="share of requests answered 500 without doing anything (0..1)")
    faults.add_argument("--throttle", type=int, default=0, metavar="N",
                        help="requests per minute before 429 with Retry-After (0 = unlimited)")
    faults.add_argument("--latency-ms", type=int, default=0, metavar="MS", help="delay added to every request")
    faults.add_argument("--commit-then-fail-rate", type=float, default=0.0, metavar="RATE",
                        help="share of writes that are saved and then answered 500 (0..1)")
    faults.add_argument("--request-log", metavar="FILE", help="append one JSON line per request")


def faults_from_arguments(args: argparse.Namespace) -> Faults:
    try:
        return Faults(fail_rate=args.fail_rate, throttle=args.throttle, latency_ms=args.latency_ms,
                      commit_then_fail_rate=args.commit_then_fail_rate)
    except ValueError as error:
        raise SystemExit(f"invalid fault setting: {error}") from None


def serve_forever(name: str, app: WSGIApp, state: StateFile, *, host: str, port: int) -> None:
    """Run in the foreground until Ctrl-C or SIGTERM; the state file is saved on exit.

    The signal handlers only set an event (they never raise), and they are in place before
    the server exists, so a signal at any moment — before, during or after the "listening"
    line — ends in the same stop and save.
    """
    stop = threading.Event()
    # Set both explicitly: a process started in the background inherits SIGINT as ignored.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    server = make_server(host, port, app, threaded=True)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name=f"{name}-simulator", daemon=True)
    thread.start()
    try:
        _print(f"{name} simulator listening on http://{host}:{server.server_port} (Ctrl-C to stop)")
        while not stop.wait(60):
            pass
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)  # the save below is not interrupted by a second Ctrl-C
        server.shutdown()
        server.server_close()
        state.save()
        _print(f"{name} simulator stopped" + (f"; state saved to {state.path}" if state.path else ""))


def _print(line: str) -> None:
    """Print, staying quiet when the output is gone (a closed pipe must not skip the save)."""
    try:
        print(line, flush=True)
    except (OSError, ValueError):
        pass
