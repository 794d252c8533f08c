"""`cwsync run` (`make run`): cwsync on this machine — embedded AWS, simulators, the schedule."""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import warnings

from .cli_common import Console, add_data_dir, parse_parameters, print_tasks

DEFAULT_PORT = 8765
DEFAULT_CONCURRENCY = 8


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_data_dir(parser)
    parser.add_argument("--seed", metavar="FILE|NAME",
                        help="simulator seed data: a seed file, or a shipped data set, demo (the default), real "
                             "(real-shaped ConnectWise records) or vendor-full (every field of the vendor's "
                             "newer models); docs/SEED.md")
    parser.add_argument("--config", metavar="FILE",
                        help="JSON file with real endpoints and parameters (default: <data-dir>/config.json)")
    parser.add_argument("--parameter", action="append", metavar="NAME=VALUE", default=[],
                        help="override a template parameter, e.g. ApprovalPolicy=always (repeatable)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help="port of the local approvals API (default: %(default)s; 0 = any free port)")
    parser.add_argument("--once", action="store_true",
                        help="check once, wait until every task is synced, failed or waiting for a person, then exit")
    parser.add_argument("--timeout", type=float, default=300, metavar="SECONDS",
                        help="with --once: how long to wait for the tasks (default: %(default)s)")
    parser.add_argument("--json", action="store_true", help="with --once: print the task summary as JSON")
    parser.add_argument("--auto-approve", action="store_true",
                        help="take each approval's recommended option (none recommended: reject with a reason)")
    parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY, metavar="N",
                        help="sync steps that may run at once, across all tasks (default: %(default)s)")


def _quiet_libraries() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for name in ("werkzeug", "moto", "botocore", "urllib3"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    warnings.filterwarnings("ignore", module="moto")
    warnings.filterwarnings("ignore", category=UserWarning)


def _port_free(port: int) -> bool:
    import socket

    if port == 0:
        return True
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def run(args: argparse.Namespace) -> int:
    from .cli_check import describe_check
    from .embedded import EmbeddedRuntime, NotSettled

    _quiet_libraries()
    parameters = parse_parameters(args.parameter)
    if args.concurrency < 1:
        raise SystemExit("--concurrency must be at least 1")
    say = Console(sys.stderr if args.json else sys.stdout)

    port = args.port
    if not _port_free(port):
        say(f"Port {port} is busy (another cwsync?); using a free port instead.")
        port = 0
    runtime = EmbeddedRuntime(args.data_dir, seed=args.seed, parameters=parameters, config=args.config, port=port,
                              schedule=not args.once, echo=say, auto_approve=args.auto_approve,
                              function_log=f"{args.data_dir}/functions.log", concurrency=args.concurrency)
    stop = threading.Event()

    def interrupt(*_):
        stop.set()
        raise KeyboardInterrupt

    # Ctrl-C (also when started without a terminal, where SIGINT may be ignored) and SIGTERM stop
    # cleanly at any moment, also during the start or the first check.
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    try:
        try:
            runtime.start()
        except ValueError as error:  # a parameter the template refuses
            say(f"cwsync cannot start: {error}")
            return 2
        _banner(runtime, say, once=args.once)
        say("Checking the marketplace now …")
        try:
            say(describe_check(runtime.check()))
        except RuntimeError as error:
            say(f"The check failed: {error}")
            if args.once:
                return 1
        if args.once:
            try:
                runtime.wait_until_settled(timeout=args.timeout)
            except NotSettled as error:
                say(f"Stopped waiting after {args.timeout:g} s (--timeout): {len(error.open)} task(s) still open: "
                    + "; ".join(f"{t.get('order') or t.get('id')} ({t.get('status')})" for t in error.open)
                    + ". They are saved and continue on the next start.")
                return 1
            runtime.report_progress()
            summaries = runtime.summaries()
            if args.json:
                print_tasks(summaries, as_json=True)
            else:
                _summary(summaries, say)
            return 0
        while not stop.wait(60):  # a signal handler wakes it at once
            pass
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        # Nothing may interrupt the stop: every acknowledged change is on disk already, and the
        # stop folds the journal into the snapshot; printing comes last and cannot fail.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        started = runtime.started
        runtime.stop()
        if started:
            say("Stopped; state saved in " + str(runtime.data_dir))


def _banner(runtime, say, *, once: bool) -> None:
    parameters = runtime.deployment.parameters
    say(f"cwsync is running on this machine (embedded AWS; data in {runtime.data_dir}/)")
    say(f"  dashboard:   {runtime.url}/ (this machine only)")
    say(f"  approvals:   {runtime.url}/approvals/…")
    say("  ConnectWise: " + (f"simulator at {runtime.connectwise.url}" if runtime.connectwise else "real endpoint (configured)"))
    say("  marketplace: " + (f"simulator at {runtime.marketplace.url}" if runtime.marketplace else "real endpoint (configured)"))
    say(f"  approval policy: {parameters['ApprovalPolicy']}; price source: {parameters['PriceSource']}; "
        f"proration: {parameters['Proration']}")
    say(f"  notifications: {runtime.outbox_log.path}; function logs: {runtime.function_log}")
    if not once:
        say(f"  schedule: {parameters['ScheduleExpression']}; `cwsync check` checks now, `cwsync tasks` lists tasks; "
            "Ctrl-C stops (state is saved)")


def _summary(summaries: list[dict], say) -> None:
    counts: dict[str, int] = {}
    for summary in summaries:
        counts[summary["status"]] = counts.get(summary["status"], 0) + 1
    say(f"{len(summaries)} task(s): " + ", ".join(f"{n} {status.replace('_', ' ')}" for status, n in sorted(counts.items())))
    print_tasks(summaries, as_json=False)
