"""Benchmark: cold import time of each Lambda handler module, as a ratio to `import boto3` alone.

    python -m benchmarks.bench_import [--repeats 7]

Each measurement is a fresh interpreter (`python -X importtime` is not used: it slows
imports down); the child imports the module by file path, as Lambda does with `CodeUri` +
`Handler`, with the shared library importable the way the layer makes it. The median of
`--repeats` runs is reported per module, and the ratio to the median of `import boto3`.
Target: ≤ 1.5× (a handler imports little more than boto3 before its first call).
Handlers defer their service imports into the handler body; the second figure adds the
modules the first call imports (found with `ast`), i.e. the whole cold start's imports.

    python -m benchmarks.bench_import --models [--repeats 7]

compares the typed records as cwsync ships them (frozen dataclasses, `cw_records`) with the
same fields as pydantic models through Powertools' parser: each handler plus its first
call's imports, plus one of `benchmarks.records_dataclasses` / `benchmarks.records_pydantic`
(each imports its models and parses one record of every type), against `import boto3`.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FUNCTIONS = REPO / "functions"
TARGET_RATIO = 1.5

CHILD = r"""
import importlib, importlib.util, os, sys, time
path, lazy = sys.argv[1], [name for name in sys.argv[2:] if name]
started = time.perf_counter()
if path == "boto3":
    import boto3
else:
    spec = importlib.util.spec_from_file_location("handler_module", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
module_done = time.perf_counter()
for name in lazy:
    module_name, _, attributes = name.partition(":")
    importlib.import_module(module_name)
    for attribute in filter(None, attributes.split(",")):
        try:  # `from package import submodule`
            importlib.import_module(f"{module_name}.{attribute}")
        except ModuleNotFoundError:
            pass
print(module_done - started, time.perf_counter() - started)
"""


def lazy_imports(handler: Path) -> list[str]:
    """Modules the handler imports inside its functions (on the first call)."""
    import ast

    names = []
    for node in ast.walk(ast.parse(handler.read_text(encoding="utf-8"))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom) and inner.module and inner.level == 0:
                    names.append(f"{inner.module}:{','.join(alias.name for alias in inner.names)}")
                elif isinstance(inner, ast.Import):
                    names.extend(alias.name for alias in inner.names)
    return list(dict.fromkeys(names))

ENVIRONMENT = {"AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_SERVICE_NAME": "cwsync",
               "POWERTOOLS_TRACE_DISABLED": "true", "TABLE_NAME": "cwsync"}


def measure(target: str, repeats: int, lazy: list[str] | None = None) -> tuple[float, float]:
    """Median seconds: (the module alone, the module plus its first call's imports)."""
    import os

    environment = {**os.environ, **ENVIRONMENT}
    alone, full = [], []
    for _ in range(repeats):
        answer = subprocess.run([sys.executable, "-c", CHILD, target, *(lazy or [])], capture_output=True,
                                text=True, env=environment, timeout=120)
        if answer.returncode != 0:
            raise RuntimeError(f"importing {target} failed:\n{answer.stderr}")
        first, second = answer.stdout.strip().splitlines()[-1].split()
        alone.append(float(first))
        full.append(float(second))
    return statistics.median(alone), statistics.median(full)


def run(repeats: int) -> dict:
    baseline, _ = measure("boto3", repeats)
    results = {}
    for handler in sorted(FUNCTIONS.glob("*/app.py")):
        lazy = lazy_imports(handler)
        seconds, with_first_call = measure(str(handler), repeats, lazy)
        results[handler.parent.name] = {
            "ms": round(seconds * 1000, 1), "ratio": round(seconds / baseline, 2),
            "ok": seconds / baseline <= TARGET_RATIO,
            "with_first_call_imports_ms": round(with_first_call * 1000, 1),
            "with_first_call_imports_ratio": round(with_first_call / baseline, 2),
            "first_call_imports": lazy}
    return {"boto3_ms": round(baseline * 1000, 1), "repeats": repeats, "target_ratio": TARGET_RATIO,
            "handlers": results}


MODEL_KINDS = {"dataclasses": "benchmarks.records_dataclasses", "pydantic": "benchmarks.records_pydantic"}
MODEL_HANDLERS = ("link_customer", "link_product", "select_agreement", "plan_changes", "apply_changes")


def run_models(repeats: int) -> dict:
    """Each handler that reads ConnectWise records, cold, with either kind of record model."""
    baseline, _ = measure("boto3", repeats)
    results: dict = {}
    for name in MODEL_HANDLERS:
        handler = FUNCTIONS / name / "app.py"
        lazy = lazy_imports(handler)
        for kind, module in MODEL_KINDS.items():
            _, seconds = measure(str(handler), repeats, [*lazy, module])
            results.setdefault(name, {})[kind] = {"ms": round(seconds * 1000, 1),
                                                  "ratio": round(seconds / baseline, 2),
                                                  "ok": seconds / baseline <= TARGET_RATIO}
        results[name]["pydantic_extra_ms"] = round(results[name]["pydantic"]["ms"]
                                                    - results[name]["dataclasses"]["ms"], 1)
    return {"boto3_ms": round(baseline * 1000, 1), "repeats": repeats, "target_ratio": TARGET_RATIO,
            "handlers": results}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--models", action="store_true",
                        help="compare the records as dataclasses with pydantic models (Powertools parser)")
    args = parser.parse_args(argv)
    print(json.dumps(run_models(args.repeats) if args.models else run(args.repeats), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
