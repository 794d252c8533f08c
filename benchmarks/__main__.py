"""Run one benchmark by name, or list them: `python -m benchmarks [NAME] [ARGS...]` (`make bench ARGS=NAME`)."""
from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

PREFIX = "bench_"


def names() -> list[str]:
    folder = str(Path(__file__).resolve().parent)
    return sorted(m.name[len(PREFIX):] for m in pkgutil.iter_modules([folder]) if m.name.startswith(PREFIX))


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: python -m benchmarks NAME [ARGS...]\n\nbenchmarks: " + ", ".join(names()))
        print("numbers measured on the project machine are kept in docs/BENCHMARKS.md")
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in names():
        print(f"no benchmark named {name!r}; choose one of: {', '.join(names())}", file=sys.stderr)
        return 2
    return int(importlib.import_module(f"benchmarks.{PREFIX}{name}").main(rest) or 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
