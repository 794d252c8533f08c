"""Benchmark: what `sam build` deploys, per function and for the shared layer.

    python -m benchmarks package [--sam PATH] [--python312 DIR]

Runs `sam build` of infra/template.yaml into a temporary folder and reports each
artifact's size unpacked and zipped (what Lambda downloads on a cold start), the layer's
largest packages, and whether boto3/botocore were kept out of the layer. SAM CLI is not a
project dependency: install it apart (`python3.12 -m venv /opt/sam && /opt/sam/bin/pip
install aws-sam-cli`) and pass `--sam`; `sam build` needs a python3.12 on PATH for the
functions (`--python312` adds its folder).
"""
from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer")


def tree_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def zipped_size(folder: Path) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder))
    return buffer.tell()


def kib(size: int) -> float:
    return round(size / 1024, 1)


def build(sam: str, python312: str | None, into: Path) -> float:
    env = dict(os.environ, SAM_CLI_TELEMETRY="0")
    if python312:
        env["PATH"] = f"{python312}{os.pathsep}{env.get('PATH', '')}"
    started = time.perf_counter()
    subprocess.run([sam, "build", "--template-file", str(ROOT / "infra" / "template.yaml"),
                    "--build-dir", str(into / "build"), "--cache-dir", str(into / "cache")],
                   check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - started


def report(build_dir: Path) -> dict:
    artifacts = {}
    for folder in sorted(p for p in build_dir.iterdir() if p.is_dir()):
        artifacts[folder.name] = {"unpacked_kib": kib(tree_size(folder)), "zipped_kib": kib(zipped_size(folder))}
    layer = build_dir / "SharedLayer" / "python"
    packages = {}
    if layer.exists():
        for entry in layer.iterdir():
            if entry.is_dir() and not entry.name.endswith(".dist-info"):
                packages[entry.name] = kib(tree_size(entry))
    shadowing = sorted(name for name in RUNTIME_PROVIDED if (layer / name).exists())
    return {"artifacts": artifacts,
            "layer_largest_packages_kib": dict(sorted(packages.items(), key=lambda kv: -kv[1])[:8]),
            "runtime_packages_in_layer": shadowing}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sam", default=shutil.which("sam"), help="the sam command (default: from PATH)")
    parser.add_argument("--python312", help="folder holding a python3.12 for sam build's functions")
    args = parser.parse_args(argv)
    if not args.sam:
        print("sam not found: install aws-sam-cli apart and pass --sam (see this module's docstring)",
              file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="cwsync-sam-") as folder:
        seconds = build(args.sam, args.python312, Path(folder))
        result = {"sam_build_s": round(seconds, 1), **report(Path(folder) / "build")}
    print(json.dumps(result, indent=2))
    return 0 if not result["runtime_packages_in_layer"] else 1


if __name__ == "__main__":
    sys.exit(main())
