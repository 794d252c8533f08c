"""infra/template.yaml and the SyncTask definition: valid, wired, least privilege."""
from __future__ import annotations

import fnmatch
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cwsync_local.runtime.translate import PLACEHOLDER, TEMPLATE, load_template, substitute, translate

REPO = Path(__file__).resolve().parents[2]
ASL = REPO / "infra" / "statemachine" / "sync_task.asl.json"
TABLE, CW, MP, SIGNING, TOPIC, MACHINE = ("Table", "ConnectWiseSecret", "MarketplaceSecret", "SigningSecret",
                                          "NotificationTopic", "SyncTaskStateMachine")
TABLE_RW = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"]
SECRET = ["secretsmanager:GetSecretValue"]
# What each function calls (cwsync.services.*) -> the resources it calls them on.
EXPECTED = {
    "CheckChangesFunction": {TABLE: TABLE_RW + ["dynamodb:BatchGetItem"], MP: SECRET,
                             MACHINE: ["states:StartExecution"], TOPIC: ["sns:Publish"],
                             "CheckChangesDeadLetterQueue": ["sqs:SendMessage"]},
    "ReconcileFunction": {TABLE: TABLE_RW, CW: SECRET, MP: SECRET, MACHINE: ["states:StartExecution"],
                          TOPIC: ["sns:Publish"], "CheckChangesDeadLetterQueue": ["sqs:SendMessage"]},
    "LoadTaskFunction": {TABLE: TABLE_RW},
    "LinkCustomerFunction": {TABLE: TABLE_RW, CW: SECRET, MP: SECRET},
    "LinkProductFunction": {TABLE: TABLE_RW, CW: SECRET, MP: SECRET},
    "SelectAgreementFunction": {TABLE: TABLE_RW, CW: SECRET, MP: SECRET},
    "PlanChangesFunction": {TABLE: TABLE_RW, CW: SECRET, MP: SECRET},
    "RequestApprovalFunction": {TABLE: TABLE_RW, SIGNING: SECRET, MP: SECRET, TOPIC: ["sns:Publish"]},
    "ApplyChangesFunction": {TABLE: TABLE_RW, CW: SECRET},
    "FinishTaskFunction": {TABLE: TABLE_RW, TOPIC: ["sns:Publish"]},
    "ApprovalsApiFunction": {TABLE: TABLE_RW, SIGNING: SECRET, CW: SECRET,
                             MACHINE: ["states:SendTaskSuccess", "states:SendTaskFailure"]},
    "DashboardFunction": {TABLE: TABLE_RW + ["dynamodb:Scan"], SIGNING: SECRET, MACHINE: ["states:StartExecution"],
                          "CheckChangesFunction": ["lambda:InvokeFunction"],
                          "ReconcileFunction": ["lambda:InvokeFunction"],
                          "OperatorUserPool": ["cognito-idp:ListUserPoolClients"]},
    "OperatorAuthorizerFunction": {"OperatorUserPool": ["cognito-idp:ListUserPoolClients"]},
}
STEP_FUNCTIONS = ["LoadTaskFunction", "LinkCustomerFunction", "LinkProductFunction", "SelectAgreementFunction",
                  "PlanChangesFunction", "RequestApprovalFunction", "ApplyChangesFunction", "FinishTaskFunction"]
ALLOWED_MANAGED = {"AWSLambdaBasicExecutionRole", "AWSXrayWriteOnlyAccess", "AWSXRayDaemonWriteAccess"}
# Actions AWS only grants on "*".
STAR_ONLY = ("xray:*", "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery",
             "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy",
             "logs:DescribeResourcePolicies", "logs:DescribeLogGroups")


def cfn_lint(path: Path) -> subprocess.CompletedProcess:
    executable = Path(sys.executable).with_name("cfn-lint")
    return subprocess.run([str(executable), "--format", "parseable", str(path)],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def sam() -> dict:
    return load_template()


@pytest.fixture(scope="module")
def cloudformation() -> dict:
    return translate().cloudformation


def dummy_substitutions(sam: dict) -> dict[str, str]:
    values = {}
    props = sam["Resources"]["SyncTaskStateMachine"]["Properties"]
    for name in props["DefinitionSubstitutions"]:
        values[name] = (f"arn:aws:lambda:us-east-1:123456789012:function:{name.removesuffix('Arn')}"
                        if name.endswith("FunctionArn") else "3")
    return values


def test_template_passes_cfn_lint_without_errors_or_warnings():
    result = cfn_lint(TEMPLATE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_every_definition_substitution_is_defined_and_used(sam):
    declared = set(sam["Resources"]["SyncTaskStateMachine"]["Properties"]["DefinitionSubstitutions"])
    used = set(PLACEHOLDER.findall(ASL.read_text(encoding="utf-8")))
    assert used == declared


def test_substitution_keeps_the_task_token_path(sam):
    text = substitute(ASL.read_text(encoding="utf-8"), dummy_substitutions(sam))
    definition = json.loads(text)
    payload = definition["States"]["AwaitCustomerApproval"]["Parameters"]["Payload"]
    assert payload["token.$"] == "$$.Task.Token"
    assert definition["States"]["AwaitCustomerApproval"]["TimeoutSeconds"] == 3


def test_state_machine_definition_passes_cfn_lint(tmp_path, sam):
    definition = json.loads(substitute(ASL.read_text(encoding="utf-8"), dummy_substitutions(sam)))
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {"Machine": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
            "RoleArn": "arn:aws:iam::123456789012:role/sync-task", "Definition": definition}}},
    }
    path = tmp_path / "machine.json"
    path.write_text(json.dumps(template), encoding="utf-8")
    result = cfn_lint(path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_state_machine_definition_is_accepted_by_an_executing_step_functions(sam):
    import boto3
    from moto import mock_aws

    text = substitute(ASL.read_text(encoding="utf-8"), dummy_substitutions(sam))
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        client = boto3.client("stepfunctions", region_name="us-east-1")
        arn = client.create_state_machine(name="sync-task", definition=text,
                                          roleArn="arn:aws:iam::123456789012:role/sync-task")["stateMachineArn"]
        assert json.loads(client.describe_state_machine(stateMachineArn=arn)["definition"])["StartAt"] == "Start"


def test_workflow_routes_timeouts_rejections_and_failures_to_their_finish_states(sam):
    definition = json.loads(substitute(ASL.read_text(encoding="utf-8"), dummy_substitutions(sam)))
    states = definition["States"]
    for name, state in states.items():
        if state["Type"] != "Task" or name.startswith("Mark"):
            continue
        routes = {tuple(c["ErrorEquals"]): c["Next"] for c in state["Catch"]}
        assert routes[("States.Timeout",)] == "MarkExpired", name
        assert routes[("ApprovalRejected",)] == "MarkRejected", name
        assert routes[("States.ALL",)] == "MarkFailed", name
        retried = {error for rule in state["Retry"] for error in rule["ErrorEquals"]}
        assert {"Lambda.TooManyRequestsException", "Lambda.ServiceException", "TransientError"} <= retried
        assert all(rule["JitterStrategy"] == "FULL" for rule in state["Retry"])
    for waiting in ("AwaitCustomerApproval", "AwaitProductApproval", "AwaitAgreementApproval", "AwaitConfirmation"):
        assert states[waiting]["Resource"] == "arn:aws:states:::lambda:invoke.waitForTaskToken"
        assert "TimeoutSeconds" in states[waiting]
    assert states["MarkExpired"]["Parameters"]["Payload"]["outcome"] == "expired"
    assert states[states["MarkFailed"]["Next"]]["Type"] == "Fail"


@pytest.mark.parametrize("logical_id", sorted(EXPECTED))
def test_every_handler_exists_and_imports_by_file_path(sam, logical_id):
    props = sam["Resources"][logical_id]["Properties"]
    handler = props.get("Handler", sam["Globals"]["Function"]["Handler"])
    module_name, _, attribute = handler.rpartition(".")
    path = (TEMPLATE.parent / props["CodeUri"] / f"{module_name}.py").resolve()
    assert path.exists(), path
    spec = importlib.util.spec_from_file_location(f"handler_under_test_{logical_id}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert callable(getattr(module, attribute))


def test_every_function_in_the_template_has_an_expected_permission_list(cloudformation):
    functions = {k for k, v in cloudformation["Resources"].items() if v["Type"] == "AWS::Lambda::Function"}
    assert functions == set(EXPECTED)


# --- least privilege, from the translated template -----------------------------------------

def referenced(value, sub_variables=None) -> set[str]:
    """Logical ids a Resource expression points at (Ref, GetAtt, ${X} in Sub)."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= referenced(item)
    elif isinstance(value, dict):
        if "Ref" in value:
            found.add(value["Ref"])
        elif "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            found.add(target[0] if isinstance(target, list) else target.split(".")[0])
        elif "Fn::Sub" in value:
            argument = value["Fn::Sub"]
            text, variables = (argument, {}) if isinstance(argument, str) else argument
            for name in PLACEHOLDER.findall(text):
                if name in variables:
                    found |= referenced(variables[name])
                elif not name.startswith("AWS::"):
                    found.add(name.split(".")[0])
        else:
            for item in value.values():
                found |= referenced(item)
    return found


def statements_of(cloudformation: dict, logical_id: str) -> tuple[list[dict], list]:
    role_id = cloudformation["Resources"][logical_id]["Properties"]["Role"]["Fn::GetAtt"][0]
    role = cloudformation["Resources"][role_id]["Properties"]
    statements = []
    for policy in role.get("Policies", []):
        body = policy["PolicyDocument"]["Statement"]
        statements.extend(body if isinstance(body, list) else [body])
    return statements, role.get("ManagedPolicyArns", [])


def machine_arn_by_name(value, sam) -> bool:
    """A Sub-built state machine ARN whose name is the template's state machine name."""
    name = sam["Resources"][MACHINE]["Properties"]["Name"]
    name = name["Fn::Sub"] if isinstance(name, dict) else name
    text = value.get("Fn::Sub") if isinstance(value, dict) else None
    return isinstance(text, str) and text.endswith(f":stateMachine:{name}")


def grants(statement: dict, action: str, resource: str, sam) -> bool:
    actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
    if not any(fnmatch.fnmatchcase(action, pattern) for pattern in actions):
        return False
    resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
    return any(resource in referenced(item) or (resource == MACHINE and machine_arn_by_name(item, sam))
               for item in resources)


@pytest.mark.parametrize("logical_id", sorted(EXPECTED))
def test_each_function_may_do_what_it_calls(cloudformation, sam, logical_id):
    statements, _ = statements_of(cloudformation, logical_id)
    missing = [(action, resource) for resource, actions in EXPECTED[logical_id].items() for action in actions
               if not any(s["Effect"] == "Allow" and grants(s, action, resource, sam) for s in statements)]
    assert not missing


@pytest.mark.parametrize("logical_id", sorted(EXPECTED))
def test_each_function_may_do_nothing_beyond_its_own_resources(cloudformation, sam, logical_id):
    statements, managed = statements_of(cloudformation, logical_id)
    allowed = set(EXPECTED[logical_id])
    for statement in statements:
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        for resource in resources:
            if resource == "*":
                assert all(action in STAR_ONLY for action in actions), (logical_id, actions)
                continue
            targets = referenced(resource)
            assert targets <= allowed or machine_arn_by_name(resource, sam), (logical_id, actions, targets)
        assert not any(action in ("*", "dynamodb:*", "secretsmanager:*", "states:*", "sns:*") for action in actions)
    names = {str(json.dumps(arn)).rsplit("/", 1)[-1].strip('"') for arn in managed}
    assert names <= ALLOWED_MANAGED, names


def test_state_machine_may_invoke_exactly_the_step_functions(cloudformation):
    role = cloudformation["Resources"]["SyncTaskStateMachineRole"]["Properties"]
    invoked: set[str] = set()
    for policy in role["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if "lambda:InvokeFunction" in actions:
                invoked |= referenced(statement["Resource"])
            else:
                assert statement["Resource"] == "*" and all(a in STAR_ONLY for a in actions)
    assert invoked == set(STEP_FUNCTIONS)


def test_outputs_and_parameters_are_the_documented_ones(sam):
    assert set(sam["Outputs"]) == {"ApprovalsApiUrl", "SyncTaskStateMachineArn", "TableName", "TopicArn",
                                   "DashboardUrl", "OperatorUserPoolId", "OperatorUserPoolClientId",
                                   "OperatorSignInDomain"}
    assert {"ScheduleExpression", "ApprovalTimeoutSeconds", "ApprovalPolicy", "ApprovalThreshold", "PriceSource",
            "Proration", "NotificationEmail", "WebhookUrl", "LogRetentionDays", "ReconcileScheduleExpression",
            "ReconcileMode", "ReconcileNotBilledThreshold", "OperatorEmail", "OperatorSignInDomainPrefix"} <= set(sam["Parameters"])
    assert sam["Parameters"]["ReconcileScheduleExpression"]["Default"] == "rate(1 day)"
    assert sam["Parameters"]["ApprovalPolicy"]["AllowedValues"] == ["always", "on_decrease_or_over_threshold", "never"]


def test_table_matches_the_store_schema(sam):
    from cwsync.adapters.store import table_definition

    table = sam["Resources"]["Table"]["Properties"]
    expected = table_definition("x")
    assert table["KeySchema"] == expected["KeySchema"]
    assert sorted(table["AttributeDefinitions"], key=str) == sorted(expected["AttributeDefinitions"], key=str)
    assert table["GlobalSecondaryIndexes"][0]["KeySchema"] == expected["GlobalSecondaryIndexes"][0]["KeySchema"]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert re.fullmatch(r"PAY_PER_REQUEST", table["BillingMode"])
