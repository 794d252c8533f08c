"""The runtime's small seams on their own: the Lambda dispatcher, HTTP events, schedule, substitution."""
from __future__ import annotations

import io
import json
import os
import threading
import zipfile

import boto3
import pytest
from moto import mock_aws
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from cwsync_local.runtime.http_api import Route, to_event, to_response
from cwsync_local.runtime.lambda_dispatch import Dispatcher, LocalFunction
from cwsync_local.runtime.outbox import links_in
from cwsync_local.runtime.scheduler import Schedule, interval_seconds
from cwsync_local.runtime.translate import substitute

HANDLER = '''
import os

class StepFailed(Exception):
    pass

def handler(event, context):
    if event.get("fail"):
        raise StepFailed("the step failed: " + event["fail"])
    return {"table": os.environ["TABLE_NAME"], "event": event, "function": context.function_name}
'''


@pytest.fixture
def moto_lambda(tmp_path):
    code = tmp_path / "fn"
    code.mkdir()
    (code / "app.py").write_text(HANDLER, encoding="utf-8")
    with mock_aws(config={"lambda": {"use_docker": False}}):
        iam = boto3.client("iam", region_name="us-east-1")
        role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as bundle:
            bundle.writestr("app.py", "")
        client = boto3.client("lambda", region_name="us-east-1")
        arn = client.create_function(FunctionName="step", Runtime="python3.12", Role=role, Handler="app.handler",
                                     Code={"ZipFile": archive.getvalue()})["FunctionArn"]
        dispatcher = Dispatcher()
        dispatcher.register(LocalFunction("StepFunction", "step", arn, code,
                                          environment={"TABLE_NAME": "cwsync-table"}))
        dispatcher.install()
        try:
            yield client, dispatcher
        finally:
            dispatcher.uninstall()


def test_dispatcher_runs_the_real_handler_with_the_function_environment(moto_lambda):
    client, _ = moto_lambda
    answer = client.invoke(FunctionName="step", Payload=json.dumps({"taskId": "T1"}).encode())
    assert json.loads(answer["Payload"].read()) == {"table": "cwsync-table", "event": {"taskId": "T1"},
                                                   "function": "step"}
    assert os.environ["TABLE_NAME"] == ""  # between calls: present (other threads read os.environ) but empty


def test_uninstall_removes_the_variables_the_functions_brought(moto_lambda):
    _, dispatcher = moto_lambda
    os.environ.pop("TABLE_NAME", None)
    dispatcher.uninstall()
    dispatcher.install()
    assert os.environ["TABLE_NAME"] == ""
    dispatcher.uninstall()
    assert "TABLE_NAME" not in os.environ


def test_a_handler_exception_becomes_a_lambda_function_error_named_after_the_class(moto_lambda):
    client, dispatcher = moto_lambda
    answer = client.invoke(FunctionName="step", Payload=json.dumps({"fail": "no agreement"}).encode())
    assert answer["FunctionError"] == "Unhandled"
    payload = json.loads(answer["Payload"].read())
    assert payload["errorType"] == "StepFailed"
    assert payload["errorMessage"] == "the step failed: no agreement"
    assert dispatcher.invocations[-1]["error"] == "StepFailed"


def test_uninstall_gives_moto_its_echo_back(moto_lambda):
    client, dispatcher = moto_lambda
    dispatcher.uninstall()
    answer = client.invoke(FunctionName="step", Payload=json.dumps({"taskId": "T1"}).encode())
    assert json.loads(answer["Payload"].read()) == {"taskId": "T1"}


def test_http_requests_become_http_api_v2_events():
    builder = EnvironBuilder(path="/approvals/abc", method="POST", query_string="exp=10&sig=x%2By",
                             data="decision=approve&choice=7", content_type="application/x-www-form-urlencoded",
                             headers={"Cookie": "a=1; b=2"})
    request = Request(builder.get_environ())
    event = to_event(request, Route("POST", "/approvals/{id}", "ApprovalsApiFunction"), {"id": "abc"})
    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /approvals/{id}"
    assert event["rawPath"] == "/approvals/abc"
    assert event["rawQueryString"] == "exp=10&sig=x%2By"
    assert event["queryStringParameters"] == {"exp": "10", "sig": "x+y"}
    assert event["pathParameters"] == {"id": "abc"}
    assert event["requestContext"]["http"]["method"] == "POST"
    assert event["headers"]["content-type"] == "application/x-www-form-urlencoded"
    assert event["cookies"] == ["a=1", "b=2"]
    assert (event["body"], event["isBase64Encoded"]) == ("decision=approve&choice=7", False)


def test_function_results_become_http_responses():
    response = to_response({"statusCode": 409, "headers": {"Content-Type": "text/html"}, "body": "<p>decided</p>"})
    assert (response.status_code, response.headers["Content-Type"], response.get_data(as_text=True)) == \
        (409, "text/html", "<p>decided</p>")
    assert to_response({"ok": True}).get_json() == {"ok": True}


def test_substitution_fills_names_and_keeps_jsonpath_and_the_task_token():
    text = '{"F": "${FnArn}", "T": ${Timeout}, "token.$": "$$.Task.Token", "p.$": "$.a"}'
    assert json.loads(substitute(text, {"FnArn": "arn:x", "Timeout": 5})) == {
        "F": "arn:x", "T": 5, "token.$": "$$.Task.Token", "p.$": "$.a"}
    with pytest.raises(KeyError, match="Timeout"):
        substitute(text, {"FnArn": "arn:x"})


@pytest.mark.parametrize("expression, seconds", [("rate(15 minutes)", 900), ("rate(1 hour)", 3600),
                                                 ("rate(2 days)", 172800), ("rate(5 seconds)", 5)])
def test_schedule_rates_are_understood(expression, seconds):
    assert interval_seconds(expression) == seconds


def test_cron_schedules_are_refused_locally_with_a_hint():
    with pytest.raises(ValueError, match="rate"):
        interval_seconds("cron(0 * * * ? *)")


def test_the_schedule_runs_its_action_until_stopped():
    calls = threading.Event()
    schedule = Schedule(0.05, calls.set).start()
    try:
        assert calls.wait(2)
    finally:
        schedule.stop()


def test_links_are_found_in_plain_and_json_messages():
    assert links_in("Open: https://x.example/approvals/1?sig=a.\nDone") == ["https://x.example/approvals/1?sig=a"]
    assert links_in(json.dumps({"url": "http://h/p?q=1"})) == ["http://h/p?q=1"]


RUN_HANDLER = '''
def handler(event, context):
    return event["run"]()
'''


def test_a_step_invoked_while_the_check_runs_starts_only_after_the_check_has_ended(tmp_path):
    code = tmp_path / "fn"
    code.mkdir()
    (code / "app.py").write_text(RUN_HANDLER, encoding="utf-8")
    arn = "arn:aws:lambda:us-east-1:123456789012:function:"
    check_function = LocalFunction("CheckChangesFunction", "check", arn + "check", code, bounded=False, priority=True)
    step_function = LocalFunction("LoadTaskFunction", "load", arn + "load", code)
    dispatcher = Dispatcher()
    for function in (check_function, step_function):
        dispatcher.register(function)
    happened: list[str] = []
    check_running, check_may_end = threading.Event(), threading.Event()

    def check():
        check_running.set()
        check_may_end.wait(120)
        happened.append("check ended")
        return "checked"

    def step():
        happened.append("step started")
        return "stepped"

    answers = {}
    check_thread = threading.Thread(target=lambda: answers.update(check=dispatcher.call(check_function, {"run": check})))
    check_thread.start()
    assert check_running.wait(120)
    step_thread = threading.Thread(target=lambda: answers.update(step=dispatcher.call(step_function, {"run": step})))
    step_thread.start()
    deadline = threading.Event()
    for _ in range(1200):  # until the step is held (generous: up to 120 s on a busy machine)
        if dispatcher.held:
            break
        deadline.wait(0.1)
    assert dispatcher.held == 1 and happened == []
    check_may_end.set()
    check_thread.join(120)
    step_thread.join(120)
    assert happened == ["check ended", "step started"]
    assert answers == {"check": "checked", "step": "stepped"}


def test_a_step_invoked_when_no_check_runs_is_not_held(tmp_path):
    code = tmp_path / "fn"
    code.mkdir()
    (code / "app.py").write_text(RUN_HANDLER, encoding="utf-8")
    step_function = LocalFunction("LoadTaskFunction", "load", "arn:aws:lambda:us-east-1:123456789012:function:load",
                                  code)
    dispatcher = Dispatcher()
    dispatcher.register(step_function)
    assert dispatcher.call(step_function, {"run": lambda: "stepped"}) == "stepped"
    assert dispatcher.held == 0
