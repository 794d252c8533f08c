"""Unit tests run on the in-memory fakes (`tests/fakes`), never on moto: what is DynamoDB's, Step
Functions' or Secrets Manager's behaviour is tested under tests/integration."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
UNIT = TESTS / "unit"
MOTO_FIXTURES = {"aws", "dynamodb", "module_dynamodb", "atomic_dynamodb"}  # tests/conftest.py
MOTO_HELPERS = {"fake_aws", "atomic_moto_dynamodb", "mock_aws", "ThreadedMotoServer"}


def moto_uses(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if a.name.split(".")[0] == "moto"]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if module.split(".")[0] == "moto":
                found.append(f"from {module}")
            found += [f"import {a.name}" for a in node.names if a.name in MOTO_HELPERS]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found += [f"{node.name}({a.arg})" for a in node.args.args + node.args.kwonlyargs if a.arg in MOTO_FIXTURES]
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "getfixturevalue" and node.args and isinstance(node.args[0], ast.Constant)
              and node.args[0].value in MOTO_FIXTURES):
            found.append(f"getfixturevalue({node.args[0].value!r})")
    return found


def test_no_unit_test_imports_moto_or_asks_for_a_moto_fixture():
    found = {path.name: moto_uses(path) for path in sorted(UNIT.rglob("*.py"))}
    assert {name: uses for name, uses in found.items() if uses} == {}


def test_importing_every_unit_test_module_leaves_moto_unloaded():
    modules = [p.stem for p in sorted(UNIT.glob("test_*.py"))]
    script = ("import importlib, sys\n"
              f"sys.path[:0] = [{str(UNIT)!r}, {str(TESTS)!r}]\n"
              f"for name in {modules!r}:\n"
              "    importlib.import_module(name)\n"
              "    if 'moto' in sys.modules:\n"
              "        print(name); break\n")
    answer = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert answer.returncode == 0, answer.stderr[-2000:]
    assert answer.stdout.strip() == ""


def test_the_check_sees_moto_however_a_test_reaches_it(tmp_path):
    sample = tmp_path / "test_sample.py"
    sample.write_text("import moto\nfrom moto import mock_aws\nfrom conftest import fake_aws\n"
                      "def test_a(dynamodb):\n    pass\n"
                      "def test_b(request):\n    request.getfixturevalue('aws')\n")
    assert sorted(moto_uses(sample)) == sorted(["import moto", "from moto", "import mock_aws", "import fake_aws",
                                                "test_a(dynamodb)", "getfixturevalue('aws')"])
