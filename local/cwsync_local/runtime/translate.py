"""Translate infra/template.yaml (SAM) into CloudFormation offline, as `sam deploy` would.

The translator needs a region, S3 URIs in place of local code folders and a managed-policy
map; policy templates (DynamoDBCrudPolicy, ...) are expanded by the translator itself.
What the runtime needs besides the CloudFormation: where each function's code lives
and the state machine definition file with its substitutions.
"""
from __future__ import annotations

import copy
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = REPO_ROOT / "infra" / "template.yaml"
LOCAL_BUCKET = "cwsync-local-artifacts"
DEFAULT_REGION = "us-east-1"
# `${Name}` placeholders only: `$$.Task.Token` and `$.path` must survive untouched.
PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_.:]+)\}")


@dataclass
class Translated:
    """The CloudFormation template and what the embedded runtime must provide itself."""

    cloudformation: dict[str, Any]
    sam: dict[str, Any]
    code_dirs: dict[str, Path] = field(default_factory=dict)  # function logical id -> folder with app.py
    handlers: dict[str, str] = field(default_factory=dict)  # function logical id -> "app.handler"
    definitions: dict[str, Path] = field(default_factory=dict)  # state machine logical id -> .asl.json
    routes: list[tuple[str, str, str]] = field(default_factory=list)  # (METHOD, /path/{p}, function id)
    schedules: list[tuple[str, str]] = field(default_factory=list)  # (function id, expression or {"Ref": ...})


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    """The SAM template as a dict (short-form intrinsics such as !Sub become their long form)."""
    from samtranslator.yaml_helper import yaml_parse

    return yaml_parse(path.read_text(encoding="utf-8"))


def region() -> str:
    return os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or DEFAULT_REGION


def translate(path: Path = TEMPLATE, parameters: dict[str, str] | None = None,
              managed_policy_map: dict[str, str] | None = None) -> Translated:
    """SAM -> CloudFormation with local code folders recorded and replaced by S3 URIs."""
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    # The translator asks boto3 for the region (ARN partitions); the runtime's default when unset.
    os.environ.setdefault("AWS_DEFAULT_REGION", region())
    sam = load_template(path)
    base = path.parent
    prepared = copy.deepcopy(sam)
    result = Translated(cloudformation={}, sam=sam)
    globals_function = sam.get("Globals", {}).get("Function", {})
    for logical_id, resource in prepared.get("Resources", {}).items():
        props = resource.get("Properties", {})
        kind = resource.get("Type")
        if kind == "AWS::Serverless::Function":
            result.code_dirs[logical_id] = (base / props["CodeUri"]).resolve()
            result.handlers[logical_id] = props.get("Handler", globals_function.get("Handler", "app.handler"))
            props["CodeUri"] = f"s3://{LOCAL_BUCKET}/{logical_id}.zip"
            for event in (props.get("Events") or {}).values():
                ev = event.get("Properties", {})
                if event.get("Type") == "HttpApi":
                    result.routes.append((ev["Method"].upper(), ev["Path"], logical_id))
                elif event.get("Type") in ("ScheduleV2", "Schedule"):
                    result.schedules.append((logical_id, ev.get("ScheduleExpression")))
        elif kind == "AWS::Serverless::LayerVersion":
            props["ContentUri"] = f"s3://{LOCAL_BUCKET}/{logical_id}.zip"
        elif kind == "AWS::Serverless::StateMachine" and "DefinitionUri" in props:
            result.definitions[logical_id] = (base / props["DefinitionUri"]).resolve()
            props["DefinitionUri"] = f"s3://{LOCAL_BUCKET}/{logical_id}.asl.json"

    values = {"AWS::Region": region(), "AWS::AccountId": "123456789012", "AWS::Partition": "aws"}
    values.update(parameters or {})
    translator = Translator(managed_policy_map if managed_policy_map is not None else {}, Parser())
    result.cloudformation = translator.translate(prepared, parameter_values=values)
    return result


def substitute(text: str, values: dict[str, Any]) -> str:
    """Fill `${Name}` placeholders (DefinitionSubstitutions); unknown names are an error."""
    missing = sorted({name for name in PLACEHOLDER.findall(text) if name not in values})
    if missing:
        raise KeyError(f"no substitution for {', '.join(missing)}")
    return PLACEHOLDER.sub(lambda match: str(values[match.group(1)]), text)


def definition(path: Path, values: dict[str, Any]) -> dict[str, Any]:
    """A state machine definition file with its substitutions filled, parsed."""
    return json.loads(substitute(path.read_text(encoding="utf-8"), values))
