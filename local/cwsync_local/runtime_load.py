"""Many sync tasks through the embedded runtime against a throttled ConnectWise (the throttle
benchmark's runtime mode and its small-size test; never deployed).

The ConnectWise simulator plays the external service: the runtime is given it as a
configured ConnectWise (`config.json`, as a real tenant would be), with its throttle at
`limit` requests a minute (429 with `Retry-After` past it). It serves from a thread of this
process, or with `separate=True` from a process of its own (the real ConnectWise has its
own machines), so the runtime's process does not also pay the simulator's CPU. The runtime
is what `cwsync run` starts: the real template, moto's Step Functions, the real handlers,
`concurrency` steps at once, and the shared token bucket in the table at the same limit
(`ConnectWiseRequestsPerMinute`). The marketplace simulator is the runtime's own, not
throttled.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import resource
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cwsync.vocabulary import TaskStatus

DISCOVERY_PATH = "/login/"  # API discovery (login/companyinfo): not a request of the sync itself
THROTTLING_WORDS = ("429", "many requests", "throttl", "request budget", "rate limit")


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _serve(seed: dict, limit: int, request_log: str, pipe) -> None:
    """The separate simulator process: serve until told to stop, then answer with the
    additions ConnectWise holds and this process's CPU seconds."""
    import logging

    from cwsync_local.simulators import connectwise
    from cwsync_local.simulators.common import Faults

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log lines: the request log has them
    simulator = connectwise.start(seed, faults=Faults(throttle=limit), request_log=request_log)
    pipe.send(simulator.url)
    pipe.recv()
    with simulator.state.lock:
        additions = json.loads(json.dumps(simulator.state.data.get("additions", [])))
    simulator.stop()
    pipe.send({"additions": additions, "cpu_s": cpu_seconds()})


class ThrottledConnectWise:
    """The ConnectWise simulator throttled at `limit` a minute, in a thread or its own process."""

    def __init__(self, seed: dict, limit: int, request_log: Path, *, separate: bool = False):
        from cwsync_local.simulators.connectwise import DEFAULT_CREDENTIALS

        self.seed, self.limit, self.request_log, self.separate = seed, limit, Path(request_log), separate
        self.credentials = dict(DEFAULT_CREDENTIALS)
        self.url = ""
        self.cpu_s = 0.0  # the separate process's CPU (in a thread it is this process's own)
        self._simulator = None
        self._process = None
        self._pipe = None

    def start(self) -> "ThrottledConnectWise":
        if self.separate:
            context = multiprocessing.get_context("spawn")
            self._pipe, theirs = context.Pipe()
            self._process = context.Process(target=_serve, name="connectwise-simulator", daemon=True,
                                            args=(self.seed, self.limit, str(self.request_log), theirs))
            self._process.start()
            if not self._pipe.poll(120):
                self._process.kill()
                raise RuntimeError("the ConnectWise simulator process did not start within 120 s")
            self.url = self._pipe.recv()
        else:
            from cwsync_local.simulators import connectwise
            from cwsync_local.simulators.common import Faults

            self._simulator = connectwise.start(self.seed, faults=Faults(throttle=self.limit),
                                                request_log=self.request_log)
            self.url = self._simulator.url
        return self

    def stop(self) -> list[dict]:
        """Stop serving; the additions ConnectWise holds at the end."""
        if self._process is not None:
            self._pipe.send("stop")
            answer = self._pipe.recv() if self._pipe.poll(60) else {"additions": [], "cpu_s": 0.0}
            self._process.join(timeout=30)
            self.cpu_s = answer["cpu_s"]
            return answer["additions"]
        with self._simulator.state.lock:
            additions = json.loads(json.dumps(self._simulator.state.data.get("additions", [])))
        self._simulator.stop()
        return additions

    def requests(self) -> list[dict]:
        if not self.request_log.exists():
            return []
        return [json.loads(line) for line in self.request_log.read_text(encoding="utf-8").splitlines() if line]


class LoadSampler:
    """The 1-minute load average every `every` seconds while the run lasts."""

    def __init__(self, every: float = 5.0):
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, args=(every,), name="load-sampler", daemon=True)

    def _sample(self, every: float) -> None:
        while True:
            self.samples.append(os.getloadavg()[0])
            if self._stop.wait(every):
                return

    def __enter__(self) -> "LoadSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.samples.append(os.getloadavg()[0])


@dataclass
class RuntimeRun:
    """What one run did: the tasks as the runtime stored them, ConnectWise's request log, what
    the functions' ConnectWise clients counted, and the additions ConnectWise holds afterwards."""

    tasks: list[dict]
    requests: list[dict]  # the simulator's request log, in order
    additions: list[dict]
    seconds: float  # from the check's start until every task settled
    check_seconds: float
    check_ended_at: float  # epoch seconds: every task stored and its execution started
    cpu_s: float  # this process (the runtime, and the simulator unless separate)
    simulator_cpu_s: float  # the separate simulator process (0 when it ran in a thread)
    most_refusals_in_a_row: int  # of one ConnectWise request, over every function
    refusals: int  # 429s the clients received
    waited_for_tokens: float  # seconds, over every function
    token_collisions: int
    load: list[float] = field(default_factory=list)
    settings: dict = field(default_factory=dict)

    def outcomes(self) -> Counter:
        return Counter(str(task["status"]) for task in self.tasks)

    def throttling_reasons(self) -> list[str]:
        """Task reasons that blame the rate limit (none should)."""
        return [f"{task['taskId']}: {task.get('reason')}" for task in self.tasks
                if any(word in str(task.get("reason") or "").lower() for word in THROTTLING_WORDS)]

    def sync_requests(self) -> list[dict]:
        """ConnectWise requests other than API discovery."""
        return [entry for entry in self.requests if not str(entry.get("path", "")).startswith(DISCOVERY_PATH)]

    def accepted_per_minute(self, since: float = 0.0) -> tuple[float, float]:
        """(accepted requests a minute, window seconds) from the first ConnectWise request of the
        sync (API discovery left out) at or after `since` (epoch seconds) to the last."""
        times = sorted(entry["at"] for entry in self.sync_requests() if entry["status"] != 429 and entry["at"] >= since)
        if len(times) < 2:
            return 0.0, 0.0
        window = times[-1] - times[0]
        return (len(times) - 1) / window * 60, window

    def accepted_each_minute(self) -> list[int]:
        """Accepted requests in each whole minute of the window, from its first request."""
        times = sorted(entry["at"] for entry in self.sync_requests() if entry["status"] != 429)
        if not times:
            return []
        counts = Counter(int((at - times[0]) // 60) for at in times)
        return [counts.get(minute, 0) for minute in range(int((times[-1] - times[0]) // 60))]

    def added_once(self, prefix: str) -> dict[str, int]:
        """Serial number -> how many live (not cancelled) additions carry it, for tags starting `prefix`."""
        return dict(Counter(str(a.get("serialNumber")) for a in self.additions
                            if str(a.get("serialNumber", "")).startswith(prefix) and not a.get("cancelledDate")))

    def summary(self) -> dict[str, Any]:
        limit = self.settings.get("limit") or 0
        rate, window = self.accepted_per_minute()
        steady, steady_window = self.accepted_per_minute(self.check_ended_at)
        statuses = Counter(entry["status"] for entry in self.requests)
        count = len(self.tasks)
        sync_requests = len(self.sync_requests())
        cpu_per_task = self.cpu_s / max(1, count)
        requests_per_task = sync_requests / max(1, count)
        return {
            **self.settings, "tasks": count, "outcomes": dict(self.outcomes()),
            "throttling_reasons": self.throttling_reasons()[:5],
            "other_reasons": dict(Counter(str(t.get("reason")) for t in self.tasks
                                          if t["status"] != TaskStatus.SYNCED).most_common(3)),
            "connectwise_requests": len(self.requests), "discovery_requests": len(self.requests) - sync_requests,
            "connectwise_statuses": {str(k): v for k, v in statuses.items()}, "rejected_429": statuses.get(429, 0),
            "client_refusals": self.refusals, "most_refusals_in_a_row": self.most_refusals_in_a_row,
            "window_s": round(window, 1), "accepted_per_minute": round(rate, 1),
            "accepted_share_of_limit": round(rate / limit, 3) if limit else None,
            # steady: from the check's end (every task started) to the last request
            "steady_window_s": round(steady_window, 1), "steady_accepted_per_minute": round(steady, 1),
            "steady_share_of_limit": round(steady / limit, 3) if limit else None,
            "accepted_each_minute": self.accepted_each_minute(),
            "waited_for_tokens_s": round(self.waited_for_tokens, 1), "token_collisions": self.token_collisions,
            "seconds": round(self.seconds, 1), "check_s": round(self.check_seconds, 1),
            "tasks_per_minute": round(count / max(self.seconds, 1e-9) * 60, 1),
            "cpu_s": round(self.cpu_s, 1), "simulator_cpu_s": round(self.simulator_cpu_s, 1),
            "cpu_ms_per_task": round(1000 * cpu_per_task, 1), "requests_per_task": round(requests_per_task, 2),
            # one interpreter uses at most one core: the most this process could send a minute
            "cpu_bound_requests_per_minute": round(60 * requests_per_task / max(cpu_per_task, 1e-9), 1),
            "load_average_1min": {"mean": round(sum(self.load) / max(1, len(self.load)), 1),
                                  "max": round(max(self.load or [0.0]), 1),
                                  "end": round(self.load[-1], 1) if self.load else None},
        }


def connectwise_http_clients(runtime) -> list[Any]:
    """The HTTP clients of the functions' ConnectWise clients (one per warm function)."""
    clients = []
    for function in {id(f): f for f in runtime.deployment.functions.values()}.values():
        connectwise = getattr(function.dependencies, "_connectwise", None)  # never build one here
        if connectwise is not None:
            clients.append(connectwise.http)
    return clients


def run_through_runtime(seed: dict, limit: int, folder: Path, *, concurrency: int = 8, separate: bool = False,
                        durable: bool = False, timeout: float = 3600, poll: float = 1.0) -> RuntimeRun:
    """Check once and wait until every task has settled; the runtime and the simulators stop after."""
    from cwsync_local.runtime.embedded import EmbeddedRuntime

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    connectwise = ThrottledConnectWise(seed, limit, folder / "connectwise-requests.jsonl", separate=separate).start()
    additions: list[dict] = []
    try:
        config = folder / "config.json"
        config.write_text(json.dumps({"connectwise": {"siteUrl": connectwise.url, **connectwise.credentials}}),
                          encoding="utf-8")
        parameters = {"ApprovalPolicy": "never", "ConnectWiseRequestsPerMinute": str(limit)}
        with LoadSampler() as load, EmbeddedRuntime(
                folder / "data", seed=seed, config=config, parameters=parameters, concurrency=concurrency,
                save_state=durable, resume=False, function_log=folder / "functions.log") as runtime:
            started, cpu = time.perf_counter(), cpu_seconds()
            runtime.check()
            check_seconds, check_ended_at = time.perf_counter() - started, time.time()
            tasks = runtime.wait_until_settled(timeout=timeout, poll=poll)
            seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
            http = connectwise_http_clients(runtime)
    finally:
        additions = connectwise.stop()
    limiters = [client.limiter for client in http if client.limiter is not None]
    return RuntimeRun(
        tasks, connectwise.requests(), additions, seconds, check_seconds, check_ended_at, cpu, connectwise.cpu_s,
        max([client.most_refusals_in_a_row for client in http] or [0]), sum(client.refusals for client in http),
        sum(limiter.waited for limiter in limiters), sum(limiter.collisions for limiter in limiters), load.samples,
        {"limit": limit, "concurrency": concurrency, "simulator": "own process" if separate else "thread",
         "durable": durable})
