"""The approvals API driven with HTTP API v2 events against moto: DynamoDB, Secrets Manager,
and a real Step Functions execution paused on `lambda:invoke.waitForTaskToken`."""
from __future__ import annotations

import base64
import json
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlencode, urlsplit

import boto3
import pytest
from moto import mock_aws
from moto.awslambda_simple.models import LambdaSimpleBackend

from cwsync import config
from cwsync.adapters.store import Store, create_table
from cwsync.approvals import sign
from cwsync.approvals_api import create_app
from cwsync.config import Settings
from cwsync.services import steps
from cwsync.services.deps import Dependencies

TABLE = "cwsync-approvals"
EVIL = "<script>alert(1)</script> & \"O'Brien\""
ORDER = {
    "id": "5000012", "orderNumber": "SO000012", "type": "sales", "customerId": "1000048531",
    "creationDate": "2026-02-15T08:00:00Z", "status": "completed", "total": {"amount": "60", "currency": "USD"},
    "subscriptionId": "SUB-1",
    "products": [{"mpn": "M365-BB", "name": "Microsoft 365 Business Basic", "quantity": 10, "subscriptionId": "SUB-1",
                  "billingPeriod": {"type": "month", "duration": 1}}],
    "details": [],
}
OPTIONS = [
    {"id": "21", "label": EVIL, "eligible": True, "reason": "Name is 80% similar"},
    {"id": "22", "label": "Green Lane Holdings (GLH)", "eligible": True, "reason": "Name is 70% similar"},
    {"id": "23", "label": "Old Green Lane", "eligible": False, "reason": "Company is deleted"},
]


class Notifier:
    def __init__(self):
        self.sent = []

    def publish(self, subject, message, links=None):
        self.sent.append({"subject": subject, "message": message, "links": list(links or [])})


class Clock:
    def __init__(self):
        self.now = datetime.now(timezone.utc).replace(microsecond=0)

    def __call__(self):
        return self.now


@pytest.fixture
def world(monkeypatch):
    """moto with executing state machines; the request-approval Lambda runs the real step."""
    for name, value in {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
                        "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    config.clear_secret_cache()
    with mock_aws(config={"lambda": {"use_docker": False}, "stepfunctions": {"execute_state_machine": True}}):
        dynamodb = boto3.client("dynamodb")
        create_table(dynamodb, TABLE)
        secret = boto3.client("secretsmanager").create_secret(
            Name="signing", SecretString=json.dumps({"key": "k3y-" * 12}))["ARN"]
        settings = Settings.from_environment({"TABLE_NAME": TABLE, "SIGNING_SECRET_ARN": secret,
                                              "APPROVALS_BASE_URL": "https://approvals.example",
                                              "APPROVAL_TIMEOUT_SECONDS": "3600"})
        clock = Clock()
        deps = Dependencies(settings, store=Store(TABLE, client=dynamodb), notifier=Notifier(), clock=clock,
                            stepfunctions=boto3.client("stepfunctions"))
        deps.store.create_task({"taskId": ORDER["id"], "orderId": ORDER["id"], "orderNumber": ORDER["orderNumber"],
                                "customerId": ORDER["customerId"], "taskType": "sales", "order": ORDER,
                                "customerName": EVIL})

        def invoke(self, function_name, qualifier, body, headers, response_headers):
            event = json.loads(body)
            steps.request_approval(deps, event["taskId"], event["approval"], event["token"])
            return b"{}"

        monkeypatch.setattr(LambdaSimpleBackend, "invoke", invoke)
        iam = boto3.client("iam")
        role = iam.create_role(RoleName="sfn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        function = boto3.client("lambda").create_function(
            FunctionName="request-approval", Runtime="python3.12", Role=role, Handler="app.handler",
            Code={"ZipFile": b"not used"})["FunctionArn"]
        definition = {"StartAt": "Await", "States": {
            "Await": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                      "Parameters": {"FunctionName": function, "Payload": {
                          "taskId.$": "$.taskId", "approval.$": "$.approval", "token.$": "$$.Task.Token"}},
                      "TimeoutSeconds": 600, "ResultPath": "$.decision", "End": True}}}
        machine = boto3.client("stepfunctions").create_state_machine(
            name="sync-task", definition=json.dumps(definition), roleArn=role)["stateMachineArn"]
        world = type("World", (), {})()
        world.deps, world.clock, world.machine, world.app = deps, clock, machine, create_app(lambda: deps)
        world.sfn = boto3.client("stepfunctions")
        yield world
    config.clear_secret_cache()


def start(world, kind="customer", options=OPTIONS, plan=None):
    """Start an execution and wait until its approval is stored; returns (execution arn, approval id, query)."""
    approval = {"kind": kind, "title": f"Choose the ConnectWise company for {EVIL} (order SO000012)",
                "options": options, "recommended": options[0]["id"], "explanation": "No exact match"}
    if plan is not None:
        world.deps.store.set_task_attributes(ORDER["id"], plan=plan)
    execution = world.sfn.start_execution(stateMachineArn=world.machine,
                                          input=json.dumps({"taskId": ORDER["id"], "approval": approval}))["executionArn"]
    for _ in range(200):
        if world.deps.notifier.sent:
            break
        time.sleep(0.05)
    [(_, url)] = world.deps.notifier.sent[-1]["links"]
    parts = urlsplit(url)
    return execution, parts.path.rsplit("/", 1)[1], {k: v[0] for k, v in parse_qs(parts.query).items()}


def event(method, approval_id, *, query=None, body=None, headers=None, b64=False):
    path = f"/approvals/{approval_id}"
    raw_body = body
    if b64 and body is not None:
        raw_body = base64.b64encode(body.encode()).decode()
    return {
        "version": "2.0", "routeKey": f"{method} /approvals/{{id}}", "rawPath": path,
        "rawQueryString": urlencode(query or {}), "queryStringParameters": query or None,
        "headers": {"host": "approvals.example", **(headers or {})}, "pathParameters": {"id": approval_id},
        "requestContext": {"accountId": "123456789012", "apiId": "api", "domainName": "approvals.example",
                           "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                                    "sourceIp": "127.0.0.1", "userAgent": "pytest"},
                           "requestId": "req", "routeKey": f"{method} /approvals/{{id}}", "stage": "$default",
                           "time": "15/Feb/2026:09:00:00 +0000", "timeEpoch": 0},
        "body": raw_body, "isBase64Encoded": b64,
    }


def call(world, *args, **kwargs):
    response = world.app.resolve(event(*args, **kwargs), None)
    return response["statusCode"], response["body"], response.get("headers") or {}


def post_json(world, approval_id, payload, **kwargs):
    return call(world, "POST", approval_id, body=json.dumps(payload),
                headers={"content-type": "application/json", "accept": "application/json"}, **kwargs)


def wait_for(world, execution, statuses=("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")):
    for _ in range(200):
        described = world.sfn.describe_execution(executionArn=execution)
        if described["status"] in statuses:
            return described
        time.sleep(0.05)
    return described


def test_get_shows_the_page_escaped_and_changes_nothing(world):
    execution, approval_id, query = start(world)
    status, body, headers = call(world, "GET", approval_id, query=query)
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "<script>alert" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "Company is deleted" in body and headers["Cache-Control"] == "no-store"
    assert world.deps.store.get_approval(approval_id)["status"] == "pending"
    assert world.sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"


def test_get_as_json_lists_options_and_hides_the_token(world):
    _, approval_id, query = start(world)
    status, body, _ = call(world, "GET", approval_id, query={**query, "format": "json"})
    view = json.loads(body)
    assert status == 200 and view["id"] == approval_id and view["kind"] == "customer" and view["status"] == "pending"
    assert view["options"][2] == {"id": "23", "label": "Old Green Lane", "eligible": False,
                                  "reason": "Company is deleted"}
    assert view["task"]["orderNumber"] == "SO000012" and view["plan"] is None
    token = world.deps.store.get_approval(approval_id)["token"]
    assert token not in body and "token" not in view


def test_approving_resumes_the_execution_with_the_choice(world):
    execution, approval_id, query = start(world)
    status, body, _ = post_json(world, approval_id, {**query, "decision": "approve", "choice": "22"})
    assert status == 200 and json.loads(body)["status"] == "decided"
    described = wait_for(world, execution)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"])["decision"] == {"decision": "approve", "choice": "22", "changes": {},
                                                           "approvalId": approval_id, "decidedBy": "person"}
    stored = world.deps.store.get_approval(approval_id)
    assert stored["status"] == "decided" and stored["decision"]["choice"] == "22"


def test_a_form_post_decides_and_shows_what_was_chosen(world):
    execution, approval_id, query = start(world)
    form = urlencode({**query, "decision": "approve", "choice": "21"})
    status, body, _ = call(world, "POST", approval_id, body=form, b64=True,
                           headers={"content-type": "application/x-www-form-urlencoded"})
    assert status == 200 and "Approved" in body and "&lt;script&gt;" in body and "<script>" not in body
    assert wait_for(world, execution)["status"] == "SUCCEEDED"


def test_rejecting_fails_the_execution_with_approval_rejected(world):
    execution, approval_id, query = start(world)
    status, _, _ = post_json(world, approval_id, {**query, "decision": "reject", "reason": "Wrong customer"})
    assert status == 200
    described = wait_for(world, execution)
    assert described["status"] == "FAILED"
    assert described.get("error") == "ApprovalRejected"  # moto drops the cause; AWS passes it to the Catch
    assert world.deps.store.get_approval(approval_id)["decision"] == {
        "decision": "reject", "reason": "Wrong customer", "decidedAt": world.deps.store.get_approval(approval_id)[
            "decision"]["decidedAt"]}


def test_a_second_post_is_refused_with_409_and_changes_nothing(world):
    execution, approval_id, query = start(world)
    assert post_json(world, approval_id, {**query, "decision": "approve", "choice": "22"})[0] == 200
    wait_for(world, execution)
    status, body, _ = post_json(world, approval_id, {**query, "decision": "reject"})
    assert status == 409 and "already" in json.loads(body)["error"]["message"]
    status, body, _ = call(world, "POST", approval_id, body=urlencode({**query, "decision": "approve", "choice": "21"}),
                           headers={"content-type": "application/x-www-form-urlencoded"})
    assert status == 409 and "Already decided" in body
    assert world.deps.store.get_approval(approval_id)["decision"]["choice"] == "22"
    assert world.sfn.describe_execution(executionArn=execution)["status"] == "SUCCEEDED"


def test_an_ineligible_or_unknown_choice_is_refused_with_400_and_the_approval_stays_open(world):
    _, approval_id, query = start(world)
    status, body, _ = post_json(world, approval_id, {**query, "decision": "approve", "choice": "23"})
    assert status == 400 and "Company is deleted" in json.loads(body)["error"]["message"]
    assert post_json(world, approval_id, {**query, "decision": "approve", "choice": "99"})[0] == 400
    assert world.deps.store.get_approval(approval_id)["status"] == "pending"


@pytest.mark.parametrize("tamper", ["sig", "exp", "id"])
def test_forged_or_tampered_links_are_refused_with_403(world, tamper):
    execution, approval_id, query = start(world)
    if tamper == "sig":
        query = {**query, "sig": sign(b"wrong-key" * 4, approval_id, int(query["exp"]))}
    elif tamper == "exp":
        query = {**query, "exp": str(int(query["exp"]) + 86400)}
    target = approval_id + "x" if tamper == "id" else approval_id
    assert call(world, "GET", target, query=query)[0] == 403
    status, body, _ = post_json(world, target, {**query, "decision": "approve", "choice": "22"})
    assert status == 403 and json.loads(body)["error"]["title"] == "This link is not valid"
    assert world.deps.store.get_approval(approval_id)["status"] == "pending"
    assert world.sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"


def test_an_expired_link_is_refused_with_410(world):
    _, approval_id, query = start(world)
    world.clock.now += timedelta(seconds=3601)
    status, body, _ = call(world, "GET", approval_id, query=query)
    assert status == 410 and "expired" in body
    assert post_json(world, approval_id, {**query, "decision": "approve", "choice": "22"})[0] == 410
    assert world.deps.store.get_approval(approval_id)["status"] == "pending"


def test_a_token_step_functions_no_longer_accepts_gives_410(world):
    execution, approval_id, query = start(world)
    token = world.deps.store.get_approval(approval_id)["token"]
    world.sfn.send_task_success(taskToken=token, output="{}")  # resumed elsewhere: the token is spent
    wait_for(world, execution)
    status, body, _ = post_json(world, approval_id, {**query, "decision": "approve", "choice": "22"})
    assert status == 410 and "stopped waiting" in json.loads(body)["error"]["message"]
    assert token not in body


def test_a_timed_out_task_gives_410(world):
    from botocore.exceptions import ClientError

    class TimedOut:
        def send_task_success(self, **kwargs):
            raise ClientError({"Error": {"Code": "TaskTimedOut", "Message": "Task Timed Out"}}, "SendTaskSuccess")

    _, approval_id, query = start(world)
    world.deps._stepfunctions = TimedOut()
    status, body, _ = call(world, "POST", approval_id, body=urlencode({**query, "decision": "approve", "choice": "22"}),
                           headers={"content-type": "application/x-www-form-urlencoded"})
    assert status == 410 and "stopped waiting" in body
    # The approval is recorded as expired, so a later click is told the same, not "already decided".
    assert world.deps.store.get_approval(approval_id)["status"] == "expired"
    again, _, _ = post_json(world, approval_id, {**query, "decision": "approve", "choice": "22"})
    assert again == 410


def test_a_decision_step_functions_could_not_take_is_undone_so_the_approver_can_decide_again(world):
    from botocore.exceptions import ClientError

    class Unavailable:
        def send_task_success(self, **kwargs):
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "try later"}}, "SendTaskSuccess")

    execution, approval_id, query = start(world)
    working = world.deps.stepfunctions
    world.deps._stepfunctions = Unavailable()
    status, body, _ = post_json(world, approval_id, {**query, "decision": "approve", "choice": "22"})
    assert status == 503 and "nothing was decided" in json.loads(body)["error"]["message"]
    record = world.deps.store.get_approval(approval_id)
    assert record["status"] == "pending" and "decision" not in record

    world.deps._stepfunctions = working
    status, _, _ = post_json(world, approval_id, {**query, "decision": "approve", "choice": "22"})
    assert status == 200
    assert wait_for(world, execution)["status"] == "SUCCEEDED"


def test_an_unknown_approval_with_a_valid_signature_is_404(world):
    exp = str(int(world.clock.now.timestamp()) + 600)
    query = {"exp": exp, "sig": sign(world.deps.signing_key, "nope", int(exp))}
    assert call(world, "GET", "nope", query=query)[0] == 404


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_wrong_methods_are_refused_with_400_and_a_readable_message(world, method):
    _, approval_id, query = start(world)
    status, body, _ = call(world, method, approval_id, query=query)
    assert status == 400 and "is not supported here" in body
    assert world.deps.store.get_approval(approval_id)["status"] == "pending"


@pytest.mark.parametrize("body, content_type", [("{not json", "application/json"), ("[1]", "application/json"),
                                                ("<xml/>", "application/xml")])
def test_a_malformed_body_is_refused_with_400(world, body, content_type):
    _, approval_id, query = start(world)
    status, _, _ = call(world, "POST", approval_id, query=query, body=body, headers={"content-type": content_type})
    assert status == 400
    assert world.deps.store.get_approval(approval_id)["status"] == "pending"


def test_confirm_edits_reach_the_execution(world):
    plan = {"currency": "USD", "agreementId": 12, "summary": "10 licences", "total": "60.00", "operations": [
        {"key": "create-addition:MP-SUB-1-SO000012", "action": "create_addition", "agreementId": 12,
         "fields": {"quantity": "10", "unitPrice": "6.00", "unitCost": "4.80", "description": "M365 BB"},
         "explanation": "New subscription"}]}
    execution, approval_id, query = start(world, kind="confirm", plan=plan,
                                          options=[{"id": "apply", "label": "Apply", "eligible": True, "reason": ""}])
    page = call(world, "GET", approval_id, query=query)[1]
    assert 'name="changes.create-addition:MP-SUB-1-SO000012.quantity"' in page
    form = urlencode({**query, "decision": "approve", "choice": "apply",
                      "changes.create-addition:MP-SUB-1-SO000012.quantity": "12",
                      "changes.create-addition:MP-SUB-1-SO000012.unitPrice": "6.00"})
    assert call(world, "POST", approval_id, body=form,
                headers={"content-type": "application/x-www-form-urlencoded"})[0] == 200
    output = json.loads(wait_for(world, execution)["output"])
    assert output["decision"]["changes"] == {"create-addition:MP-SUB-1-SO000012": {"quantity": "12"}}


def test_no_response_ever_contains_the_token_or_the_key(world):
    _, approval_id, query = start(world)
    token = world.deps.store.get_approval(approval_id)["token"]
    key = world.deps.signing_key.decode()
    bodies = [call(world, "GET", approval_id, query=query)[1],
              call(world, "GET", approval_id, query={**query, "format": "json"})[1],
              call(world, "GET", approval_id, query={**query, "sig": "x"})[1],
              post_json(world, approval_id, {**query, "decision": "approve", "choice": "21"})[1],
              post_json(world, approval_id, {**query, "decision": "approve", "choice": "21"})[1]]
    for body in bodies:
        assert token not in body and key not in body
