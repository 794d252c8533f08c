"""The `cwsync` command: simulators, the embedded runtime, and task inspection."""
from __future__ import annotations

import argparse
import importlib
import sys

# Subcommand -> module with `add_arguments(parser)` and `run(args) -> int`; imported on use
# so that `cwsync simulate ...` does not load the runtime and vice versa.
SIMULATORS = {
    "marketplace": "cwsync_local.simulators.marketplace.cli",
    "connectwise": "cwsync_local.simulators.connectwise.cli",
}
COMMANDS = {
    "run": ("cwsync_local.runtime.cli_run", "run cwsync on this machine: embedded AWS, simulators, schedule"),
    "check": ("cwsync_local.runtime.cli_check", "check the marketplace for changes now"),
    "tasks": ("cwsync_local.runtime.cli_tasks", "list sync tasks"),
    "reconcile": ("cwsync_local.runtime.cli_reconcile",
                  "compare marketplace subscriptions with ConnectWise billing (and repair with approval)"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cwsync", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    simulate = commands.add_parser("simulate", help="run a local marketplace or ConnectWise simulator")
    kinds = simulate.add_subparsers(dest="simulator", required=True, metavar="SIMULATOR")
    for name, module in SIMULATORS.items():
        sub = kinds.add_parser(name, help=f"the {name} simulator")
        sub.set_defaults(module=module)
        _load(module).add_arguments(sub)
    for name, (module, help_text) in COMMANDS.items():
        sub = commands.add_parser(name, help=help_text)
        sub.set_defaults(module=module)
        try:
            _load(module).add_arguments(sub)
        except ModuleNotFoundError as error:
            if error.name != module:
                raise
            sub.set_defaults(missing=module)
    return parser


def _load(module: str):
    return importlib.import_module(module)


def main(argv: list[str] | None = None) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if getattr(args, "missing", None):
            parser.error(f"'{args.command}' is not available in this build")
        code = int(_load(args.module).run(args) or 0)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        # The reader went away (`cwsync tasks | head -3`): what it wanted was printed; end quietly.
        from cwsync_local.runtime.cli_common import quiet_closed_output

        quiet_closed_output(sys.stdout)
        return 0


if __name__ == "__main__":
    sys.exit(main())
