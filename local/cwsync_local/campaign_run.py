"""Running the billing-safety campaign: `cwsync run` as its own process, stopped and started again.

`run_campaign(count, kills=, seed=)` starts both simulators in this process (so their state
and their fault sequence outlive every stop of cwsync; ConnectWise keeps its records in a
state file written on every write), points a data folder's `config.json` at them as real
endpoints, and runs `cwsync run` on that folder as a separate process, as a person does.
An approver works only from the notifications: the signed links in `outbox.jsonl`, read
and decided over HTTP. At seeded moments the campaign stops the runtime — mostly SIGKILL,
sometimes Ctrl-C — and starts it again on the same folder and port, until every task is
settled or the deadline passes. The moments are counted in events, never in seconds: "after
the n-th ConnectWise write or acknowledged decision since the last start", or "as soon as
the restarted runtime answers" (while it resumes the tasks in flight); the same `seed`
gives the same moments and the same fault sequence.
"""
from __future__ import annotations

import copy
import json
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

from cwsync.vocabulary import FINAL_STATUSES, ApprovalKind, ApprovalStatus, Decision, OptionId

from .campaign import DEFAULT_FAULTS, CampaignResult, approver_changes, campaign_seed, scenarios, score

CLI = [sys.executable, "-m", "cwsync_local.cli"]
ROOT = Path(__file__).resolve().parents[2]
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
HTTP_TIMEOUT = 150  # an approval request may wait up to 120 s for a restart's re-binding
STOP_TIMEOUT = 300  # a Ctrl-C'd runtime saves and exits; on a busy machine that can take a while
EVENTS_PER_TASK = 2.5  # ConnectWise writes plus decisions a task makes, at least (for spreading the kills)
AT_START = 0  # a kill's `after` of 0: as soon as the restarted runtime answers


@dataclass(frozen=True)
class Stop:
    after: int  # events (ConnectWise writes + acknowledged decisions) since the last start; AT_START: at once
    how: str  # "sigkill" or "ctrl-c"


def stop_plan(kills: int, tasks: int, seed: int) -> list[Stop]:
    """`kills` stops at seeded moments, spread so that every one is reached: their events add up to
    no more than the tasks make in any case."""
    rng = random.Random(seed)
    most = max(1, int(EVENTS_PER_TASK * tasks / (kills + 1)))
    plan = []
    for index in range(kills):
        after = AT_START if index and rng.random() < 0.2 else rng.randint(1, most)
        plan.append(Stop(after, "ctrl-c" if rng.random() < 0.25 else "sigkill"))
    return plan


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def http(method: str, url: str, payload: dict | None = None) -> tuple[int, dict] | None:
    """(status, JSON body) of one request; None when the runtime is not answering (stopped, starting)."""
    data = json.dumps(payload).encode("utf-8") if payload is not None else None
    headers = {"Accept": "application/json", **({"Content-Type": "application/json"} if data else {})}
    try:
        with urlopen(Request(url, data=data, method=method, headers=headers), timeout=HTTP_TIMEOUT) as answer:
            return answer.status, json.loads(answer.read() or b"{}")
    except HTTPError as error:
        try:
            return error.code, json.loads(error.read() or b"{}")
        except ValueError:
            return error.code, {}
    except (URLError, OSError, ValueError):
        return None


class Lines:
    """The lines appended to a file since the last call (a log another process writes)."""

    def __init__(self, path: Path):
        self.path, self.offset = path, 0

    def new(self) -> list[str]:
        if not self.path.exists():
            return []
        with self.path.open("rb") as handle:
            handle.seek(self.offset)
            chunk = handle.read()
        complete = chunk[:chunk.rfind(b"\n") + 1]
        self.offset += len(complete)
        return [line for line in complete.decode("utf-8").splitlines() if line]


class Approver:
    """Answers every confirmation from its notification link, over HTTP, editing as the scenario says."""

    def __init__(self, data_dir: Path, by_task: dict, result: CampaignResult, on_decision: Callable[[], bool]):
        self.outbox = Lines(data_dir / "outbox.jsonl")
        self.by_task, self.result, self.on_decision = by_task, result, on_decision
        self.links: dict[str, str] = {}  # approval id -> signed link, in the order they were sent
        self.done: set[str] = set()
        self.decided_tasks: set[str] = set()  # tasks whose confirmation was acknowledged as decided

    def round(self) -> bool:
        """Look at every open link once; False when the runtime stopped answering (or a stop is due)."""
        for line in self.outbox.new():
            for link in json.loads(line).get("links") or []:
                if "/approvals/" in link:
                    self.links.setdefault(link.split("/approvals/", 1)[1].split("?", 1)[0], link)
        for approval_id, link in list(self.links.items()):
            if approval_id in self.done:
                continue
            seen = http("GET", f"{link}&format=json")
            if seen is None:
                return False
            status, view = seen
            if status >= 400 or view.get("status") != ApprovalStatus.PENDING:
                self.done.add(approval_id)  # decided (perhaps by an answer a stop cut off), expired or gone
                continue
            if not self._answer(approval_id, link, view):
                return False
        return True

    def _answer(self, approval_id: str, link: str, view: dict) -> bool:
        task_id = str((view.get("task") or {}).get("taskId"))
        scenario = self.by_task.get(task_id)
        if view.get("kind") != ApprovalKind.CONFIRM or scenario is None:
            body: dict[str, Any] = {"decision": Decision.REJECT, "reason": "the campaign expects no other question"}
        else:
            if task_id in self.decided_tasks:
                self.result.asked_again += 1
            changes = approver_changes(scenario, view.get("plan"))
            body = {"decision": Decision.APPROVE, "choice": OptionId.APPLY, **({"changes": changes} if changes else {})}
        answer = http("POST", link, body)
        if answer is None:
            return False
        if answer[0] < 400:
            self.done.add(approval_id)
            if body["decision"] == Decision.APPROVE:
                self.decided_tasks.add(task_id)
                self.result.approvals_answered += 1
                self.result.edits_made += bool(body.get("changes"))
            return self.on_decision()
        if answer[0] == 409:
            self.done.add(approval_id)  # decided already
        return True


class Runtime:
    """`cwsync run` on one data folder and port, started again after every stop."""

    def __init__(self, data_dir: Path, port: int, log: Path):
        self.data_dir, self.port, self.log = data_dir, port, log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("a", encoding="utf-8") as output:
            self.process = subprocess.Popen(
                CLI + ["run", "--data-dir", str(self.data_dir), "--port", str(self.port)], cwd=ROOT,
                stdout=output, stderr=subprocess.STDOUT, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))

    def tasks(self) -> list[dict] | None:
        """The task summaries, once this start of the runtime answers (None before, or when it is gone)."""
        from cwsync_local.runtime.console import control_request

        try:
            answer = control_request(self.data_dir, "tasks", timeout=HTTP_TIMEOUT)
        except (RuntimeError, ValueError):  # the previous start's runtime.json, or one being written
            return None
        return answer.get("tasks") if answer else None

    def check(self) -> None:
        from cwsync_local.runtime.console import control_request

        try:
            control_request(self.data_dir, "check", method="POST", timeout=HTTP_TIMEOUT)
        except (RuntimeError, ValueError):
            pass  # a faulty marketplace: the next round asks again

    def exited(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def stop(self, how: str) -> str:
        """Stop it; returns how it ended ("killed", "stopped", or what went wrong)."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return f"had exited with {process.returncode if process else None}"
        process.send_signal(signal.SIGKILL if how == "sigkill" else signal.SIGINT)
        try:
            code = process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=60)
            return f"did not stop within {STOP_TIMEOUT} s of Ctrl-C"
        if how == "sigkill":
            return "killed"
        return "stopped" if code == 0 else f"exited with {code} after Ctrl-C"


def run_campaign(count: int, *, kills: int = 0, seed: int | None = None, faults: dict | None = None,
                 timeout: float = 3600, folder: str | Path | None = None) -> CampaignResult:
    """Run `count` scenarios through `cwsync run`, stopping it `kills` times; the figures."""
    faults = dict(DEFAULT_FAULTS if faults is None else faults)
    seed = faults.get("random_seed") if seed is None else seed
    faults["random_seed"] = seed
    if folder is None:
        with tempfile.TemporaryDirectory(prefix="cwsync-campaign-") as temporary:
            return run_campaign(count, kills=kills, seed=seed, faults=faults, timeout=timeout, folder=temporary)
    return _Campaign(Path(folder), count, stop_plan(kills, count, seed or 0), faults).run(timeout)


class _Campaign:
    def __init__(self, folder: Path, count: int, plan: list[Stop], faults: dict):
        self.folder, self.count, self.plan, self.faults = folder, count, list(plan), faults
        self.items = scenarios(count)
        self.now = datetime.now(timezone.utc).replace(microsecond=0)
        self.result = CampaignResult(tasks=count)
        self.data_dir = folder / "data"
        self.events_at_start = 0
        self.decisions = 0
        self.writes = Lines(folder / "connectwise-requests.jsonl")
        self.write_count = 0
        self.stop_notes: list[str] = []

    def run(self, timeout: float) -> CampaignResult:
        from cwsync_local.simulators import connectwise, marketplace
        from cwsync_local.simulators.common import Faults

        started = time.monotonic()
        seed = campaign_seed(self.items, self.now)
        kinds = {"connectwise": connectwise, "marketplace": marketplace}
        sims = {name: module.start(seed, state=self.folder / f"{name}.json", faults=Faults(**self.faults),
                                   request_log=self.folder / f"{name}-requests.jsonl")
                for name, module in kinds.items()}
        try:
            self._configure(sims)
            runtime = Runtime(self.data_dir, free_port(), self.folder / "cwsync-run.log")
            approver = Approver(self.data_dir, {s.order_id: s for s in self.items}, self.result, self._stop_due)
            try:
                tasks = self._drive(runtime, approver, time.monotonic() + timeout)
            finally:
                runtime.stop("sigkill")  # only when something went wrong: the drive ends with a Ctrl-C
            with sims["connectwise"].state.lock:
                data = copy.deepcopy(sims["connectwise"].state.data)
        finally:
            for simulator in sims.values():
                simulator.stop()
        self.result.seconds = time.monotonic() - started
        score(self.result, self.items, {t["id"]: t for t in tasks}, data, self.now)
        self.result.partial.extend(self.stop_notes)
        return self.result

    def _configure(self, sims: dict) -> None:
        from cwsync_local.runtime.embedded import SIMULATOR_PARAMETERS

        cw, mp = sims["connectwise"], sims["marketplace"]
        self.data_dir.mkdir(parents=True)
        config = {"connectwise": {**cw.credentials, "siteUrl": cw.url}, "marketplace": {**mp.credentials, "baseUrl": mp.url},
                  "parameters": {**SIMULATOR_PARAMETERS, "ApprovalPolicy": "always",
                                 "ConnectWiseRequestsPerMinute": str(int(self.faults.get("throttle") or 0))}}
        (self.data_dir / "config.json").write_text(json.dumps(config), encoding="utf-8")

    # -- events and stops ----------------------------------------------------------------
    def _events(self) -> int:
        self.write_count += sum(1 for line in self.writes.new() if json.loads(line).get("method") in WRITE_METHODS)
        return self.write_count + self.decisions

    def _stop_due(self) -> bool:
        """Called after each acknowledged decision: False when a stop is due now (the approver pauses)."""
        self.decisions += 1
        return not self._due(answering=True)

    def _due(self, *, answering: bool) -> bool:
        if not self.plan:
            return False
        after = self.plan[0].after
        if after == AT_START:
            return answering
        return self._events() - self.events_at_start >= after

    def _drive(self, runtime: Runtime, approver: Approver, deadline: float) -> list[dict]:
        runtime.start()
        last_check, tasks = 0.0, []
        while time.monotonic() < deadline:
            if runtime.exited():
                self.stop_notes.append(f"cwsync run ended by itself ({runtime.stop('sigkill')}); started again")
                self._restart(runtime)
                continue
            answered = runtime.tasks()
            if answered is None:
                time.sleep(0.2)  # starting: poll its state again
                continue
            tasks = answered
            if self._due(answering=True):
                self._stop(runtime)
                continue
            if len(tasks) >= self.count and all(t.get("status") in FINAL_STATUSES for t in tasks):
                self._last_stop(runtime)
                return tasks
            if len(tasks) < self.count and time.monotonic() - last_check > 10:
                runtime.check()  # marketplace faults may defer orders to the next check
                last_check = time.monotonic()
            if approver.round() and not self._due(answering=True):
                time.sleep(0.3)  # poll the task states again
        self.result.open_tasks = [f"{t.get('order')} ({t.get('status')})" for t in tasks
                                  if t.get("status") not in FINAL_STATUSES]
        self.result.partial.append(f"not settled within the deadline: {len(self.result.open_tasks)} task(s) open: "
                                   + ", ".join(self.result.open_tasks[:20]))
        self._last_stop(runtime)
        return tasks

    def _last_stop(self, runtime: Runtime) -> None:
        outcome = runtime.stop("ctrl-c")
        if outcome != "stopped":
            self.stop_notes.append(f"cwsync run {outcome} at the end")

    def _stop(self, runtime: Runtime) -> None:
        stop = self.plan.pop(0)
        outcome = runtime.stop(stop.how)
        if stop.how == "sigkill":
            self.result.kills += 1
        else:
            self.result.interrupts += 1
        if outcome not in ("killed", "stopped"):
            self.stop_notes.append(f"cwsync run {outcome}")
        self._restart(runtime)

    def _restart(self, runtime: Runtime) -> None:
        self.events_at_start = self._events()
        self.result.restarts += 1
        runtime.start()
