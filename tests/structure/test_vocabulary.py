"""One vocabulary: the state machine, the template and the code use the words of `cwsync.vocabulary`,
and no other module spells a status, type, kind or option id itself."""
from __future__ import annotations

import ast
import json
import re
from pathlib import Path

from cwsync import errors, vocabulary
from cwsync_local.runtime.translate import load_template

REPO = Path(__file__).resolve().parents[2]
ASL = REPO / "infra" / "statemachine" / "sync_task.asl.json"
AWS_ERROR = re.compile(r"^(States|Lambda)\.")
# Where cwsync's own words may appear: the library, the handlers and the local runtime
# (the simulators stand in for other systems and speak their words).
CODE_ROOTS = [REPO / "shared" / "cwsync", REPO / "functions", REPO / "local" / "cwsync_local"]
OTHER_SYSTEMS = [REPO / "local" / "cwsync_local" / "simulators", REPO / "local" / "cwsync_local" / "data"]
WORDS = {str(value): enum.__name__
         for enum in (vocabulary.TaskStatus, vocabulary.TaskType, vocabulary.ApprovalKind, vocabulary.ApprovalStatus,
                      vocabulary.OptionId, vocabulary.StepOutcome, vocabulary.Decision, vocabulary.Action,
                      vocabulary.ChangeStatus)
         for value in enum}


def asl() -> dict:
    # Numeric placeholders (`${RetryMaxAttempts}`) stand unquoted in the file; any number parses.
    return json.loads(re.sub(r"\$\{[A-Za-z]+\}(?!\")", "1", ASL.read_text(encoding="utf-8")))


def walk(node, key=None):
    """(key, value) of every entry of a JSON document, depth first."""
    if isinstance(node, dict):
        for name, value in node.items():
            yield name, value
            yield from walk(value, name)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value, key)


def test_the_errors_the_state_machine_routes_on_are_cwsyncs_error_classes_named_in_the_vocabulary():
    retried, caught = set(), set()
    for state in asl()["States"].values():
        for retry in state.get("Retry", []):
            retried.update(name for name in retry["ErrorEquals"] if not AWS_ERROR.match(name))
        for catch in state.get("Catch", []):
            caught.update(name for name in catch["ErrorEquals"] if not AWS_ERROR.match(name))
    assert retried == set(vocabulary.RETRIED_ERRORS)
    assert caught == set(vocabulary.CAUGHT_ERRORS)
    for name in retried | caught:
        assert issubclass(getattr(errors, name), errors.CwsyncError), name


def test_the_outcomes_the_state_machine_chooses_on_and_finishes_with_are_the_vocabularys():
    chosen = {rule["StringEquals"] for key, rules in walk(asl()) if key == "Choices" for rule in rules
              if rule.get("Variable") == "$.result.Payload.outcome"}
    assert chosen and chosen <= set(vocabulary.StepOutcome)
    finishes = {value for key, value in walk(asl()) if key == "outcome" and isinstance(value, str)}
    assert finishes == set(vocabulary.FINISH_OUTCOMES)
    assert set(vocabulary.FINISH_OUTCOMES) <= vocabulary.FINAL_STATUSES


def test_the_templates_allowed_setting_values_are_the_vocabularys():
    parameters = load_template()["Parameters"]
    assert parameters["ApprovalPolicy"]["AllowedValues"] == list(vocabulary.APPROVAL_POLICIES)
    assert parameters["PriceSource"]["AllowedValues"] == list(vocabulary.PRICE_SOURCES)
    assert parameters["Proration"]["AllowedValues"] == list(vocabulary.PRORATIONS)
    for name, allowed in (("ApprovalPolicy", vocabulary.APPROVAL_POLICIES), ("PriceSource", vocabulary.PRICE_SOURCES),
                          ("Proration", vocabulary.PRORATIONS)):
        assert parameters[name]["Default"] in allowed


def test_every_task_type_has_a_label_and_every_action_an_approver_may_edit_has_a_label():
    assert set(vocabulary.TASK_TYPE_LABELS) == set(vocabulary.TaskType)
    assert set(vocabulary.APPROVAL_KIND_LABELS) == set(vocabulary.ApprovalKind)
    assert set(vocabulary.EDITABLE_FIELDS) <= set(vocabulary.ACTION_LABELS) == set(vocabulary.Action)
    numeric_edits = {f for fields in vocabulary.EDITABLE_FIELDS.values() for f in fields} - vocabulary.NON_NUMERIC_EDITS
    assert numeric_edits >= {"quantity", "unitPrice", "unitCost", "amount", "price", "cost"}
    assert numeric_edits <= vocabulary.NUMERIC_FIELDS


def python_files():
    for root in CODE_ROOTS:
        for path in sorted(root.rglob("*.py")):
            if not any(other in path.parents for other in OTHER_SYSTEMS):
                yield path


def field_name_positions(tree: ast.AST) -> set[int]:
    """Strings used as a record's field name (`x["product"]`, `x.get("customer")`, `"product" in x`,
    a dict key, a `*FIELD*` constant): external records share some of cwsync's words as field names."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript):
            found.add(id(node.slice))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in ("get", "setdefault", "pop") and node.args:
            found.add(id(node.args[0]))
        elif isinstance(node, ast.Compare) and isinstance(node.ops[0], (ast.In, ast.NotIn)):
            found.add(id(node.left))  # `"product" in record`
        elif isinstance(node, ast.Dict):
            found.update(id(key) for key in node.keys if key is not None)
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and "FIELD" in t.id
                                                  for t in node.targets):
            found.update(id(element) for element in ast.walk(node.value))
    return found


def docstrings(tree: ast.AST) -> set[int]:
    return {id(node.body[0].value) for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body
            and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}


def test_no_module_but_the_vocabulary_spells_a_status_type_kind_outcome_or_option_id():
    found = []
    for path in python_files():
        if path == REPO / "shared" / "cwsync" / "vocabulary.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = docstrings(tree) | field_name_positions(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in WORDS \
                    and id(node) not in skip:
                found.append(f"{path.relative_to(REPO)}:{node.lineno}: {node.value!r} is {WORDS[node.value]}")
    assert found == []


def test_the_literal_check_finds_a_status_written_by_hand():
    tree = ast.parse('"""Doc mentioning failed."""\nif task.status == "failed":\n    x = item["product"]\n')
    skip = docstrings(tree) | field_name_positions(tree)
    spelled = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and n.value in WORDS and id(n) not in skip]
    assert spelled == ["failed"]


def package_of(path: Path) -> str:
    """The dotted package a file belongs to (`cwsync.services` for shared/cwsync/services/apply.py)."""
    for root in (REPO / "shared", REPO / "local", REPO):
        if root in path.parents:
            parts = list(path.relative_to(root).with_suffix("").parts)
            return ".".join(parts[:-1])
    raise AssertionError(path)


def test_no_module_imports_a_private_name_from_another_package():
    found = []
    for path in python_files():
        package = package_of(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                private = [a.name for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
                same_package = package in (node.module, node.module.rpartition(".")[0])
                if private and not same_package:
                    found.append(f"{path.relative_to(REPO)}:{node.lineno}: {node.module} {private}")
    assert found == []
