"""The embedded runtime's mechanics: deploy, dispatch, HTTP API, outbox, state, control API."""
from __future__ import annotations

import json
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest

from cwsync_local.runtime.embedded import control_request


def http(method: str, url: str, body: bytes | None = None, headers: dict | None = None) -> tuple[int, dict, str]:
    request = Request(url, data=body, method=method, headers=headers or {})
    try:
        with urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read().decode("utf-8")
    except HTTPError as error:
        return error.code, dict(error.headers), error.read().decode("utf-8")


def test_the_template_deploys_with_every_function_the_table_and_an_executing_state_machine(runtime):
    deployment = runtime.deployment
    assert set(deployment.functions) == {
        "CheckChangesFunction", "LoadTaskFunction", "LinkCustomerFunction", "LinkProductFunction",
        "SelectAgreementFunction", "PlanChangesFunction", "RequestApprovalFunction", "ApplyChangesFunction",
        "FinishTaskFunction", "ApprovalsApiFunction", "DashboardFunction", "ReconcileFunction",
        "OperatorAuthorizerFunction"}
    table = runtime.client("dynamodb").describe_table(TableName=runtime.table_name)["Table"]
    assert table["GlobalSecondaryIndexes"][0]["IndexName"] == "GSI1"
    assert deployment.outputs["SyncTaskStateMachineArn"] == runtime.state_machine_arn
    assert deployment.outputs["TableName"] == runtime.table_name


def test_state_machine_substitutions_are_resolved_from_the_stack(runtime):
    values = runtime.deployment.substitutions["SyncTaskStateMachine"]
    assert values["LoadTaskFunctionArn"] == runtime.deployment.functions["LoadTaskFunction"].arn
    assert values["RetryIntervalSeconds"] == "1"  # the local default, not the template's
    definition = runtime.client("stepfunctions").describe_state_machine(
        stateMachineArn=runtime.state_machine_arn)["definition"]
    assert "${" not in definition
    assert '"$$.Task.Token"' in definition


def test_functions_get_the_template_environment_with_secrets_and_the_local_api(runtime):
    link_customer = runtime.deployment.functions["LinkCustomerFunction"].environment
    assert link_customer["TABLE_NAME"] == runtime.table_name
    assert link_customer["CONNECTWISE_SECRET_ARN"].startswith("arn:aws:secretsmanager:")
    assert "SIGNING_SECRET_ARN" not in link_customer  # least privilege: only what the template gave it
    request_approval = runtime.deployment.functions["RequestApprovalFunction"].environment
    assert request_approval["APPROVALS_BASE_URL"] == runtime.url
    secret = json.loads(runtime.client("secretsmanager").get_secret_value(
        SecretId=link_customer["CONNECTWISE_SECRET_ARN"])["SecretString"])
    assert secret["siteUrl"] == runtime.connectwise.url


def test_parameters_override_the_template_and_reach_the_functions(make_runtime):
    rt = make_runtime(parameters={"ApprovalPolicy": "never", "ApprovalTimeoutSeconds": "120"})
    environment = rt.deployment.functions["PlanChangesFunction"].environment
    assert environment["APPROVAL_POLICY"] == "never"
    assert rt.deployment.substitutions["SyncTaskStateMachine"]["ApprovalTimeoutSeconds"] == "120"


def test_an_unknown_parameter_is_refused_with_the_known_names(tmp_path):
    from cwsync_local.runtime.embedded import EmbeddedRuntime

    with pytest.raises(ValueError, match="ApprovalPolicy"):
        EmbeddedRuntime(tmp_path, parameters={"ApprovalPolicyy": "never"}).start()


def test_http_api_routes_reach_the_function_that_owns_them(runtime):
    status, headers, body = http("GET", f"{runtime.url}/approvals/does-not-exist?exp=1&sig=forged")
    assert status in (400, 403, 404, 410)
    assert "text/html" in headers.get("Content-Type", "") or "application/json" in headers.get("Content-Type", "")
    assert body != json.dumps({"message": "Not Found"})  # the function answered, not the gateway
    assert runtime.dispatcher.invocations[-1]["function"] == "ApprovalsApiFunction"
    status, _, body = http("GET", f"{runtime.url}/nowhere")
    assert (status, json.loads(body)) == (404, {"message": "Not Found"})


def test_sns_messages_land_in_the_outbox_with_their_links(runtime):
    runtime.client("sns").publish(TopicArn=runtime.topic_arn, Subject="Choose the agreement",
                                  Message="Order SO1\nOpen the approval page: http://127.0.0.1:1/approvals/a?sig=b")
    entries = runtime.outbox()
    assert entries[-1]["subject"] == "Choose the agreement"
    assert entries[-1]["links"] == ["http://127.0.0.1:1/approvals/a?sig=b"]
    saved = (runtime.data_dir / "outbox.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(saved[-1])["topicArn"] == runtime.topic_arn


def test_dynamodb_items_survive_a_restart(make_runtime, tmp_path):
    first = make_runtime(tmp_path / "kept")
    first.store.put_customer_link("1000048531", "250", "Green Lane LLC")
    first.stop()
    assert (tmp_path / "kept" / "dynamodb.json").exists()
    second = make_runtime(tmp_path / "kept")
    assert second.store.get_customer_link("1000048531")["companyId"] == "250"


def test_control_api_answers_cwsync_commands_only_with_the_token(runtime):
    answer = control_request(runtime.data_dir, "tasks")
    assert answer == {"tasks": []}
    status, _, _ = http("GET", f"{runtime.url}/_local/tasks", headers={"Authorization": "Bearer wrong"})
    assert status == 403


def test_without_a_running_runtime_the_control_api_says_none(tmp_path):
    assert control_request(tmp_path, "tasks") is None


def test_a_check_creates_tasks_and_the_run_settles(make_runtime):
    rt = make_runtime(parameters={"ApprovalPolicy": "never"}, auto_approve=True)
    result = rt.check()
    assert isinstance(result, dict)
    tasks = rt.wait_until_settled(timeout=120)
    assert tasks, "the demo data has orders to sync"
    assert all(task["status"] in ("synced", "nothing_to_change", "failed", "expired", "rejected", "invalid",
                                  "ignored", "waiting_approval") for task in tasks)
    functions = {call["function"] for call in rt.dispatcher.invocations}
    assert {"CheckChangesFunction", "LoadTaskFunction", "FinishTaskFunction"} <= functions
    assert (rt.data_dir / "dynamodb.json").exists()
