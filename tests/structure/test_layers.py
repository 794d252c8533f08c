"""The layers hold: only adapters talk to the outside (requests, boto3, botocore), the adapters
implement the ports the services use, and no source file grows past 400 lines."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from cwsync import ports
from cwsync.adapters.connectwise import ConnectWiseClient
from cwsync.adapters.marketplace import MarketplaceClient
from cwsync.adapters.notify import Notifier
from cwsync.adapters.stepfunctions import SyncTaskWorkflow, TaskResumer
from cwsync.adapters.store import Store
from fakes import FakeConnectWise, FakeMarketplace, FakeNotifier, FakeStore, FakeWorkflow

REPO = Path(__file__).resolve().parents[2]
LIBRARY = REPO / "shared" / "cwsync"
ADAPTERS = LIBRARY / "adapters"
OUTSIDE = ("requests", "boto3", "botocore", "urllib3")
MAX_LINES = 400
# Data the code reads (seeds, API contracts) is not code; every source file is held to the limit.
SOURCE_SUFFIXES = (".py", ".html", ".css", ".js", ".txt", ".cfg", ".toml")


def imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_only_the_adapters_import_requests_boto3_or_botocore():
    code = [p for p in sorted(LIBRARY.rglob("*.py")) if ADAPTERS not in p.parents]
    code += sorted((REPO / "functions").rglob("*.py"))
    found = {str(p.relative_to(REPO)): sorted(imported_modules(p) & set(OUTSIDE)) for p in code}
    assert {path: names for path, names in found.items() if names} == {}


def test_the_import_check_sees_an_import_inside_a_function(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from botocore.exceptions import ClientError\n")
    assert imported_modules(sample) == {"botocore"}


@pytest.mark.parametrize("port, implementation", [
    (ports.StorePort, Store), (ports.ConnectWisePort, ConnectWiseClient), (ports.MarketplacePort, MarketplaceClient),
    (ports.NotifierPort, Notifier), (ports.WorkflowPort, SyncTaskWorkflow), (ports.TaskResumerPort, TaskResumer),
    (ports.StorePort, FakeStore), (ports.MarketplacePort, FakeMarketplace), (ports.NotifierPort, FakeNotifier),
    (ports.WorkflowPort, FakeWorkflow),
])
def test_each_adapter_and_fake_has_every_method_of_its_port(port, implementation):
    wanted = [name for name, value in vars(port).items() if callable(value) and not name.startswith("_")]
    assert wanted and [name for name in wanted if not callable(getattr(implementation, name, None))] == []


def test_the_connectwise_fake_has_every_read_the_steps_make():
    steps_reads = ["companies", "company", "catalog_items", "catalog_items_by_id", "company_agreements",
                   "agreement_for_rules", "subscription_additions", "find_catalog_item"]
    assert all(name in vars(ports.ConnectWisePort) for name in steps_reads)
    assert [name for name in steps_reads if not callable(getattr(FakeConnectWise, name, None))] == []


def test_no_source_file_under_shared_or_local_is_longer_than_400_lines():
    too_long = {}
    for root in (REPO / "shared", REPO / "local"):
        for path in sorted(root.rglob("*")):
            if path.suffix in SOURCE_SUFFIXES and path.is_file() and ".egg-info" not in str(path):
                lines = len(path.read_text(encoding="utf-8").splitlines())
                if lines > MAX_LINES:
                    too_long[str(path.relative_to(REPO))] = lines
    assert too_long == {}
