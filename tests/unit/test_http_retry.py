"""The shared HTTP transport: which requests are retried, how long it waits, what it logs.

A real local HTTP server (werkzeug) counts the requests it receives; sleeping goes
through an injected recorder, so no test waits for a backoff.
"""
from __future__ import annotations

import json
import threading
import time
from collections import Counter
from decimal import Decimal
from datetime import datetime, timezone

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from cwsync.adapters.http import HttpClient, RetryPolicy, build_session, dumps, loads, redact_url
from cwsync.errors import ExternalApiError, TransientError


class Scripted:
    """Answers `/<name>` with the next scripted response for that name (the last one repeats)."""

    def __init__(self):
        self.scripts: dict[str, list] = {}
        self.hits: Counter = Counter()
        self.lock = threading.Lock()

    def script(self, name: str, *answers):
        self.scripts[name] = list(answers)

    def __call__(self, environ, start_response):
        request = Request(environ)
        name = request.path.strip("/")
        with self.lock:
            index = self.hits[name]
            self.hits[name] += 1
        answers = self.scripts.get(name) or [(404, {}, {"message": "no script"})]
        status, headers, body = answers[min(index, len(answers) - 1)]
        if isinstance(status, float):  # a delay, then 200
            time.sleep(status)
            status = 200
        return Response(json.dumps(body), status=status, headers=headers, content_type="application/json")(
            environ, start_response)


@pytest.fixture(scope="module")
def server():
    app = Scripted()
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    app.url = f"http://127.0.0.1:{httpd.server_port}"
    yield app
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def client(sleeps):
    policy = RetryPolicy(attempts=3, backoff_factor=1.0, backoff_max=30, backoff_jitter=0.5,
                         retry_after_max=120, sleep=sleeps.append)
    http = HttpClient("Test API", timeout=(1, 0.5), retry=policy)
    yield http
    http.close()


OK = (200, {}, {"ok": True})
FAIL = (500, {}, {"message": "boom"})


def test_a_get_that_fails_with_5xx_is_retried_until_it_succeeds(server, client):
    server.script("get-flaky", FAIL, (503, {}, {}), OK)
    response = client.request("GET", f"{server.url}/get-flaky")
    assert response.status_code == 200
    assert server.hits["get-flaky"] == 3


def test_a_get_that_keeps_failing_stops_after_the_configured_attempts_and_is_transient(server, client):
    server.script("get-down", FAIL)
    response = client.request("GET", f"{server.url}/get-down")
    assert server.hits["get-down"] == 4  # first try + 3 retries
    with pytest.raises(TransientError, match="HTTP 500"):
        client.raise_for_status(response, what="read things")


def test_backoff_grows_exponentially_with_jitter_between_5xx_retries(server, client, sleeps):
    server.script("get-backoff", FAIL)
    client.request("GET", f"{server.url}/get-backoff")
    # urllib3 does not wait before the first retry; then factor × 2^(n-1) plus up to 0.5 s of jitter.
    assert len(sleeps) == 2
    assert 2.0 <= sleeps[0] <= 2.5 and 4.0 <= sleeps[1] <= 4.5


def test_a_post_answered_500_is_never_retried(server, client):
    server.script("post-500", FAIL, OK)
    response = client.request("POST", f"{server.url}/post-500", body={"a": 1})
    assert response.status_code == 500
    assert server.hits["post-500"] == 1


@pytest.mark.parametrize("status", [502, 503, 504])
def test_a_post_answered_with_any_5xx_is_not_retried(server, client, status):
    name = f"post-{status}"
    server.script(name, (status, {"Retry-After": "1"}, {}), OK)
    assert client.request("POST", f"{server.url}/{name}", body={}).status_code == status
    assert server.hits[name] == 1


def test_a_post_answered_429_is_retried_after_the_time_the_server_asked_for(server, client, sleeps):
    server.script("post-429", (429, {"Retry-After": "7"}, {"message": "slow down"}), (201, {}, {"id": 1}))
    response = client.request("POST", f"{server.url}/post-429", body={"a": 1})
    assert response.status_code == 201
    assert server.hits["post-429"] == 2
    assert sleeps == [7]


def test_a_get_answered_429_honours_retry_after(server, client, sleeps):
    server.script("get-429", (429, {"Retry-After": "3"}, {}), (429, {"Retry-After": "5"}, {}), OK)
    assert client.request("GET", f"{server.url}/get-429").status_code == 200
    assert sleeps == [3, 5]


def test_a_retry_after_longer_than_the_policy_allows_is_not_cut_short_but_answered_at_once(server, sleeps):
    server.script("get-429-long", (429, {"Retry-After": "3600"}, {}), OK)
    http = HttpClient("Test API", retry=RetryPolicy(attempts=2, retry_after_max=10, sleep=sleeps.append))
    response = http.request("GET", f"{server.url}/get-429-long")
    assert response.status_code == 429 and server.hits["get-429-long"] == 1  # not sent again too early
    assert sleeps == []
    with pytest.raises(TransientError, match="wait 3600 s"):
        http.raise_for_status(response, what="read")


def test_throttling_that_outlasts_the_retries_is_a_transient_error_that_says_how_long_to_wait(server, client):
    server.script("get-429-forever", (429, {"Retry-After": "30"}, {"message": "Too many requests"}))
    response = client.request("GET", f"{server.url}/get-429-forever")
    assert server.hits["get-429-forever"] == 4
    with pytest.raises(TransientError, match="wait 30 s") as caught:
        client.raise_for_status(response, what="list orders")
    assert caught.value.status == 429


def test_a_patch_is_retried_only_when_the_caller_says_it_is_idempotent(server, client):
    server.script("patch-plain", FAIL, OK)
    assert client.request("PATCH", f"{server.url}/patch-plain", body=[]).status_code == 500
    assert server.hits["patch-plain"] == 1
    server.script("patch-replace", FAIL, OK)
    assert client.request("PATCH", f"{server.url}/patch-replace", body=[], idempotent=True).status_code == 200
    assert server.hits["patch-replace"] == 2


def test_put_and_delete_are_retried_because_repeating_them_leaves_the_same_state(server, client):
    server.script("delete-flaky", (503, {}, {}), (204, {}, {}))
    assert client.request("DELETE", f"{server.url}/delete-flaky").status_code == 204
    assert server.hits["delete-flaky"] == 2
    server.script("put-flaky", FAIL, OK)
    assert client.request("PUT", f"{server.url}/put-flaky", body={}).status_code == 200
    assert server.hits["put-flaky"] == 2


def test_a_slow_get_times_out_and_is_retried(server, client):
    server.script("get-slow", (1.5, {}, {"ok": True}), OK)  # first answer after 1.5 s; the read timeout is 0.5 s
    assert client.request("GET", f"{server.url}/get-slow").status_code == 200
    assert server.hits["get-slow"] == 2


def test_a_slow_post_is_not_resent_and_reports_a_transient_error(server, client):
    server.script("post-slow", (1.5, {}, {"ok": True}), OK)
    with pytest.raises(TransientError, match="did not answer POST /post-slow"):
        client.request("POST", f"{server.url}/post-slow", body={})
    time.sleep(1.2)  # let the server finish the first request before counting
    assert server.hits["post-slow"] == 1


def test_a_refused_connection_is_retried_even_for_a_post_then_reported_as_transient(sleeps):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    http = HttpClient("Test API", retry=RetryPolicy(attempts=2, backoff_factor=0.5, sleep=sleeps.append))
    with pytest.raises(TransientError, match="Test API did not answer POST"):
        http.request("POST", f"http://127.0.0.1:{port}/x", body={})
    assert len(sleeps) == 1  # two retries: no wait before the first, one backoff before the second


def test_4xx_answers_are_never_retried_and_map_to_external_api_errors(server, client):
    server.script("get-400", (400, {}, {"message": "Bad condition", "errors": [{"field": "name"}]}))
    response = client.request("GET", f"{server.url}/get-400")
    assert server.hits["get-400"] == 1
    with pytest.raises(ExternalApiError) as caught:
        client.raise_for_status(response, what="list companies")
    assert caught.value.status == 400 and caught.value.details == [{"field": "name"}]


def test_no_retries_policy_sends_each_request_once(server, sleeps):
    server.script("get-never", FAIL, OK)
    http = HttpClient("Test API", retry=RetryPolicy.never())
    assert http.request("GET", f"{server.url}/get-never").status_code == 500
    assert server.hits["get-never"] == 1


def test_every_request_has_a_timeout_even_when_the_caller_gives_none(server, monkeypatch):
    seen = {}
    session = build_session(timeout=(2, 9))
    original = type(session).__mro__[1].request

    def spy(self, method, url, **kwargs):
        seen["timeout"] = kwargs.get("timeout")
        return original(self, method, url, **kwargs)

    monkeypatch.setattr(type(session).__mro__[1], "request", spy)
    server.script("get-timeout", OK)
    session.get(f"{server.url}/get-timeout")
    assert seen["timeout"] == (2, 9)


def test_responses_are_logged_with_the_correlation_id_and_never_with_credentials(server, http_log_records):
    records = http_log_records
    server.script("get-logged", (200, {"X-Correlation-ID": "corr-123"}, {"ok": True}))
    http = HttpClient("Test API", headers={"X-Subscription-Key": "sub-secret"}, auth=("user", "pa55word"))
    http.request("GET", f"{server.url}/get-logged", params={"token": "tok-secret", "q": "x"},
                 headers={"Authorization": "Bearer tok-secret"})
    text = " ".join(record.getMessage() + json.dumps(record.__dict__, default=str) for record in records)
    assert "corr-123" in text
    for secret in ("sub-secret", "pa55word", "tok-secret"):
        assert secret not in text


def test_redact_url_hides_credential_parameters_and_userinfo():
    assert redact_url("https://u:p@host:8443/a?password=x&q=1&apiKey=2") == \
        "https://host:8443/a?password=%2A%2A%2A&q=1&apiKey=%2A%2A%2A"


def test_json_bodies_carry_decimals_as_exact_numbers_and_datetimes_in_utc():
    body = {"unitPrice": Decimal("6.00"), "quantity": Decimal("12"), "tiny": Decimal("0.000001"),
            "big": Decimal("1E+3"), "nested": [{"amount": Decimal("-1.10")}], "name": "@@dec-fake-0@@",
            "effectiveDate": datetime(2026, 2, 15, tzinfo=timezone.utc)}
    text = dumps(body)
    assert '"unitPrice":6.00' in text and '"quantity":12' in text and '"tiny":0.000001' in text
    assert '"big":1000' in text and '"amount":-1.10' in text and '"name":"@@dec-fake-0@@"' in text
    assert '"effectiveDate":"2026-02-15T00:00:00Z"' in text
    assert loads(text)["unitPrice"] == Decimal("6.00")


def test_naive_datetimes_are_refused_in_json_bodies():
    with pytest.raises(ValueError, match="timezone"):
        dumps({"effectiveDate": datetime(2026, 2, 15)})
