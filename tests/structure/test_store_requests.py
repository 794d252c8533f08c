"""DynamoDB requests are said through `cwsync.adapters.dynamo_values` (boto3's conditions and its
one update builder): no other module writes expression text or expression arguments itself."""
from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUILDER = REPO / "shared" / "cwsync" / "adapters" / "dynamo_values.py"
EXPRESSION_ARGUMENTS = {"UpdateExpression", "ConditionExpression", "KeyConditionExpression", "FilterExpression",
                        "ProjectionExpression", "ExpressionAttributeNames", "ExpressionAttributeValues"}
EXPRESSION_TEXT = re.compile(r"\b(attribute_(not_)?exists|begins_with|list_append|if_not_exists)\s*\(|"
                             r"^\s*(SET|REMOVE|ADD)\s+[#\w]|[#:]\w+\s*(=|<|>|IN\b)")


def hand_written_expressions(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.keyword) and node.arg in EXPRESSION_ARGUMENTS:
            found.append(f"{path.name}:{node.value.lineno} {node.arg}=")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value in EXPRESSION_ARGUMENTS or EXPRESSION_TEXT.search(node.value):
                found.append(f"{path.name}:{node.lineno} {node.value!r}")
    return found


def test_no_module_but_the_builder_writes_a_dynamodb_expression_itself():
    code = [p for root in ("shared", "local") for p in sorted((REPO / root).rglob("*.py")) if p != BUILDER]
    assert [line for path in code for line in hand_written_expressions(path)] == []


def test_the_check_sees_expression_text_and_expression_arguments(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('client.update_item(UpdateExpression="SET #s = :s")\n'
                      'kwargs = {"FilterExpression": "begins_with(#pk, :p)"}\n'
                      'condition = "#version = :seen"\n')
    assert sorted(hand_written_expressions(sample)) == [
        "sample.py:1 'SET #s = :s'", "sample.py:1 UpdateExpression=", "sample.py:2 'FilterExpression'",
        "sample.py:2 'begins_with(#pk, :p)'", "sample.py:3 '#version = :seen'"]
