"""Deploy the translated template into the in-process moto, and fill in what moto skips.

`create_stack` builds the table, topic, roles, log groups and functions (with their resolved
environment). moto skips `AWS::SecretsManager::Secret`, `AWS::Scheduler::Schedule`,
`AWS::ApiGatewayV2::*` and `AWS::CloudWatch::Alarm`, and creates the state machine in its
non-executing backend without `DefinitionSubstitutions`. So, after the stack:
- secrets are created here (values from the runtime: simulators or real endpoints) and the
  environment variables that referred to them are filled in;
- the SyncTask definition file gets its substitutions resolved from the stack's resources
  (a regex on `${Name}`: `$$.Task.Token` survives) and is created again, same name and so
  the same ARN, in the executing backend;
- the schedule and the HttpApi routes are left to the runtime (scheduler.py, http_api.py).
Call inside an active `mock_aws(config={"stepfunctions": {"execute_state_machine": True},
"lambda": {"use_docker": False}})`.
"""
from __future__ import annotations

import io
import json
import re
import secrets as random_secrets
import warnings
import zipfile
from dataclasses import dataclass, field
from typing import Any, Mapping

from .lambda_dispatch import LocalFunction
from .translate import LOCAL_BUCKET, PLACEHOLDER, Translated, region, substitute

SKIPPED_BY_MOTO = ("AWS::SecretsManager::Secret", "AWS::Scheduler::Schedule", "AWS::ApiGatewayV2::Api",
                   "AWS::ApiGatewayV2::Stage", "AWS::CloudWatch::Alarm")
LOCAL_API_ID = "local"


@dataclass
class Deployment:
    stack_name: str
    parameters: dict[str, str]
    resources: dict[str, str] = field(default_factory=dict)  # logical id -> physical id
    types: dict[str, str] = field(default_factory=dict)  # logical id -> resource type
    secrets: dict[str, str] = field(default_factory=dict)  # secret logical id -> ARN
    functions: dict[str, LocalFunction] = field(default_factory=dict)  # logical id -> function
    state_machines: dict[str, str] = field(default_factory=dict)  # logical id -> ARN
    substitutions: dict[str, dict[str, str]] = field(default_factory=dict)  # state machine -> resolved values
    outputs: dict[str, str] = field(default_factory=dict)

    def physical(self, logical_id: str) -> str:
        return self.resources[logical_id]


def effective_parameters(template: Mapping[str, Any], given: Mapping[str, str] | None) -> dict[str, str]:
    """Template defaults overridden by `given`; unknown names are an error."""
    declared = template.get("Parameters", {})
    unknown = sorted(set(given or {}) - set(declared))
    if unknown:
        raise ValueError(f"unknown template parameter(s): {', '.join(unknown)}; "
                         f"known: {', '.join(sorted(declared))}")
    values = {name: str(spec.get("Default", "")) for name, spec in declared.items()}
    values.update({name: str(value) for name, value in (given or {}).items()})
    for name, value in values.items():
        allowed = declared[name].get("AllowedValues")
        if allowed and value not in [str(item) for item in allowed]:
            raise ValueError(f"parameter {name}={value!r} is not one of {', '.join(map(str, allowed))}")
    return values


LOCAL_COGNITO_ID = "local-no-cognito"


class Resolver:
    """Resolves the intrinsics the template uses (Ref, Fn::GetAtt, Fn::Sub, Fn::Join) to strings."""

    def __init__(self, deployment: Deployment, attributes: Mapping[tuple[str, str], str]):
        self.deployment = deployment
        self.attributes = attributes
        self.pseudo = {"AWS::Region": region(), "AWS::AccountId": "123456789012", "AWS::Partition": "aws",
                       "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": deployment.stack_name}

    def ref(self, name: str) -> str:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.deployment.parameters:
            return self.deployment.parameters[name]
        if name in self.deployment.secrets:
            return self.deployment.secrets[name]
        if name in self.deployment.resources:
            return self.deployment.resources[name]
        if self.deployment.types.get(name, "").startswith("AWS::ApiGatewayV2::"):
            return LOCAL_API_ID
        if self.deployment.types.get(name, "").startswith("AWS::Cognito::"):
            return LOCAL_COGNITO_ID  # the local dashboard is for this machine only: no sign-in
        raise KeyError(f"cannot resolve Ref {name}")

    def get_att(self, name: str, attribute: str) -> str:
        if (name, attribute) in self.attributes:
            return self.attributes[(name, attribute)]
        raise KeyError(f"cannot resolve Fn::GetAtt {name}.{attribute}")

    def __call__(self, value: Any) -> str:
        if isinstance(value, (str, int, float, bool)):
            return str(value).lower() if isinstance(value, bool) else str(value)
        if isinstance(value, dict) and len(value) == 1:
            (function, argument), = value.items()
            if function == "Ref":
                return self.ref(argument)
            if function == "Fn::GetAtt":
                name, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
                return self.get_att(name, attribute)
            if function == "Fn::Sub":
                text, variables = (argument, {}) if isinstance(argument, str) else argument
                local = {key: self(item) for key, item in variables.items()}

                def one(match: re.Match) -> str:
                    name = match.group(1)
                    if name in local:
                        return local[name]
                    if "." in name and name.split(".", 1)[0] in self.deployment.types:
                        return self.get_att(*name.split(".", 1))
                    return self.ref(name)

                return PLACEHOLDER.sub(one, text)
            if function == "Fn::Join":
                separator, items = argument
                return separator.join(self(item) for item in items)
        raise ValueError(f"unsupported template value {value!r}")


def _upload_artifacts(session, translated: Translated) -> None:
    """moto's Lambda wants its code in S3; the real code is run from the folders, not from here."""
    s3 = session.client("s3")
    try:
        s3.create_bucket(Bucket=LOCAL_BUCKET) if region() == "us-east-1" else s3.create_bucket(
            Bucket=LOCAL_BUCKET, CreateBucketConfiguration={"LocationConstraint": region()})
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("README.txt", "cwsync local placeholder: the runtime runs the code from its folder\n")
    for logical_id, resource in translated.sam.get("Resources", {}).items():
        if resource.get("Type") in ("AWS::Serverless::Function", "AWS::Serverless::LayerVersion"):
            s3.put_object(Bucket=LOCAL_BUCKET, Key=f"{logical_id}.zip", Body=archive.getvalue())
        if resource.get("Type") == "AWS::Serverless::StateMachine":
            s3.put_object(Bucket=LOCAL_BUCKET, Key=f"{logical_id}.asl.json", Body=b"{}")


def _secret_value(logical_id: str, properties: Mapping[str, Any], given: Mapping[str, Any]) -> str:
    if logical_id in given:
        value = given[logical_id]
        return value if isinstance(value, str) else json.dumps(value)
    if "SecretString" in properties:
        return properties["SecretString"]
    generate = properties.get("GenerateSecretString") or {}
    template = json.loads(generate.get("SecretStringTemplate") or "{}")
    generated = random_secrets.token_urlsafe(int(generate.get("PasswordLength", 32)))
    if generate.get("GenerateStringKey"):
        template[generate["GenerateStringKey"]] = generated
        return json.dumps(template)
    return generated


def deploy(session, translated: Translated, *, stack_name: str = "cwsync",
           parameters: Mapping[str, str] | None = None, secret_values: Mapping[str, Any] | None = None,
           extra_environment: Mapping[str, str] | None = None) -> Deployment:
    """Create the stack in moto and everything moto leaves out; returns where things are."""
    template = translated.cloudformation
    values = effective_parameters(template, parameters)
    deployment = Deployment(stack_name=stack_name, parameters=values)
    _upload_artifacts(session, translated)

    cfn = session.client("cloudformation")
    with warnings.catch_warnings():  # moto warns about each resource type it skips (listed above)
        warnings.filterwarnings("ignore", message="Tried to parse", category=UserWarning)
        cfn.create_stack(StackName=stack_name, TemplateBody=json.dumps(template),
                         Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in (parameters or {}).items()],
                         Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"])
    stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    if stack["StackStatus"] != "CREATE_COMPLETE":
        raise RuntimeError(f"stack {stack_name} ended in {stack['StackStatus']}: {stack.get('StackStatusReason')}")
    for resource in cfn.describe_stack_resources(StackName=stack_name)["StackResources"]:
        if "LogicalResourceId" in resource and resource.get("PhysicalResourceId"):
            deployment.resources[resource["LogicalResourceId"]] = resource["PhysicalResourceId"]
    deployment.types = {name: spec["Type"] for name, spec in template["Resources"].items()}

    # Secrets (skipped by moto's CloudFormation).
    sm = session.client("secretsmanager")
    for logical_id, spec in template["Resources"].items():
        if spec["Type"] == "AWS::SecretsManager::Secret":
            answer = sm.create_secret(Name=f"{stack_name}-{logical_id}",
                                      SecretString=_secret_value(logical_id, spec.get("Properties", {}),
                                                                 secret_values or {}))
            deployment.secrets[logical_id] = answer["ARN"]

    # Functions: moto's resolved environment plus what referred to skipped resources.
    lam = session.client("lambda")
    attributes: dict[tuple[str, str], str] = {}
    configurations: dict[str, dict] = {}
    for logical_id, spec in template["Resources"].items():
        if spec["Type"] == "AWS::Lambda::Function":
            configuration = lam.get_function(FunctionName=deployment.resources[logical_id])["Configuration"]
            configurations[logical_id] = configuration
            attributes[(logical_id, "Arn")] = configuration["FunctionArn"]
        elif spec["Type"] == "AWS::IAM::Role" and logical_id in deployment.resources:
            attributes[(logical_id, "Arn")] = f"arn:aws:iam::123456789012:role/{deployment.resources[logical_id]}"
        elif spec["Type"] == "AWS::SNS::Topic" and logical_id in deployment.resources:
            attributes[(logical_id, "TopicName")] = deployment.resources[logical_id].rsplit(":", 1)[-1]
    resolve = Resolver(deployment, attributes)
    for logical_id, configuration in configurations.items():
        declared = (template["Resources"][logical_id]["Properties"].get("Environment") or {}).get("Variables", {})
        environment = {key: str(value) for key, value in
                       (configuration.get("Environment") or {}).get("Variables", {}).items()}
        for key, value in declared.items():
            if key not in environment or "${" in environment[key]:
                environment[key] = resolve(value)
        environment.update(extra_environment or {})
        lam.update_function_configuration(FunctionName=configuration["FunctionName"],
                                          Environment={"Variables": environment})
        deployment.functions[logical_id] = LocalFunction(
            logical_id=logical_id, name=configuration["FunctionName"], arn=configuration["FunctionArn"],
            code_dir=translated.code_dirs[logical_id], handler=translated.handlers[logical_id],
            environment=environment, timeout=int(configuration.get("Timeout") or 60),
            memory=int(configuration.get("MemorySize") or 512))

    # State machines: substitutions resolved here, created in the executing backend.
    sfn = session.client("stepfunctions")
    for logical_id, spec in template["Resources"].items():
        if spec["Type"] != "AWS::StepFunctions::StateMachine" or logical_id not in translated.definitions:
            continue
        properties = spec["Properties"]
        substitutions = {name: resolve(value) for name, value in (properties.get("DefinitionSubstitutions") or {}).items()}
        text = substitute(translated.definitions[logical_id].read_text(encoding="utf-8"), substitutions)
        json.loads(text)  # fail here, with the file's name, rather than inside an execution
        arn = deployment.resources[logical_id]
        name = arn.rsplit(":", 1)[-1]
        role = resolve(properties["RoleArn"]) if "RoleArn" in properties else "arn:aws:iam::123456789012:role/local"
        created = sfn.create_state_machine(name=name, definition=text, roleArn=role,
                                           type=properties.get("StateMachineType", "STANDARD"))
        if created["stateMachineArn"] != arn:
            raise RuntimeError(f"state machine ARN mismatch: {created['stateMachineArn']} != {arn}")
        deployment.state_machines[logical_id] = arn
        deployment.substitutions[logical_id] = substitutions

    for output_name, output in (template.get("Outputs") or {}).items():
        try:
            deployment.outputs[output_name] = resolve(output["Value"])
        except (KeyError, ValueError):
            continue
    return deployment
