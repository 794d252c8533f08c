"""The approvals API under attack, over real HTTP against the embedded runtime: forged and
tampered links, malformed queries, bodies and encodings, cross-site posts, path traversal,
replays and races. Every refusal is a 4xx with a plain message (no Python or codec text),
nothing is decided by a refused request, and no secret appears in any answer.

Attempts (see docs/RELIABILITY.md): the parametrized cases below plus the hypothesis
examples (`max_examples` of each property).
"""
from __future__ import annotations

import http.client
import json
import threading
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from acceptance import demo_seed, notification_link, start_runtime, wait_for_status

INTERNALS = ("Traceback", "codec", "KeyError", "Exception", "File \"", "utf-8", "0xff", "errorType", "line ")
ATTACK_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def rt(tmp_path_factory):
    # Two confirmations pending (policy `always`): one for the single-request attacks, one for the race.
    runtime = start_runtime(tmp_path_factory.mktemp("attacks"), seed=demo_seed({"5000112", "5000116"}),
                            parameters={"ApprovalPolicy": "always"})
    try:
        runtime.check()
        yield runtime
    finally:
        runtime.stop()


@pytest.fixture(scope="module")
def target(rt):
    """(approval id, the signed link's path, its query) of the first pending confirmation."""
    approval_id, link = notification_link(rt, "5000112", "confirm", timeout=120)
    parts = urlsplit(link)
    return approval_id, parts.path, parts.query


def send(rt, method: str, path_and_query: str, body: bytes | None = None, headers: dict | None = None):
    """(status, text) of one raw HTTP request (bytes exactly as given, no client-side cleaning)."""
    host = urlsplit(rt.url)
    connection = http.client.HTTPConnection(host.hostname, host.port, timeout=120)
    try:
        connection.putrequest(method, path_and_query, skip_accept_encoding=True)
        for name, value in {"Accept": "application/json", **(headers or {})}.items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body or b"")))
        connection.endheaders(body or b"")
        answer = connection.getresponse()
        return answer.status, answer.read().decode("utf-8", "replace")
    finally:
        connection.close()


def assert_plain_refusal(rt, status: int, text: str, *allowed: int) -> None:
    assert status in (allowed or (400, 403, 404, 409, 410)), (status, text)
    assert not any(word in text for word in INTERNALS), text
    key = rt._signing_key.decode("utf-8")
    assert key not in text


def still_pending(rt, approval_id: str) -> bool:
    return (rt.store.get_approval(approval_id) or {}).get("status") == "pending"


# --- malformed queries ------------------------------------------------------------------------

MALFORMED_QUERIES = ["exp=%C2%B2&sig=x", "exp=%FF&sig=%FF", "exp=1&exp=2&sig=abc", "exp=&sig=", "sig=only",
                     "exp=99999999999999999999&sig=abc", "exp=1e5&sig=abc", "exp=%00&sig=%00", "%zz", "exp=%E2%80%AE1&sig=a",
                     "exp=-1&sig=abc", "exp=%D9%A3&sig=abc"]


@pytest.mark.parametrize("query", MALFORMED_QUERIES)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_malformed_query_is_refused_with_a_plain_message_and_decides_nothing(rt, target, method, query):
    approval_id, path, _ = target
    status, text = send(rt, method, f"{path}?{query}", b'{"decision": "approve", "choice": "apply"}',
                        {"Content-Type": "application/json"})
    assert_plain_refusal(rt, status, text, 400, 403)
    assert still_pending(rt, approval_id)


def test_a_superscript_digit_as_expiry_is_a_400_not_a_server_error(rt, target):
    _, path, _ = target
    status, text = send(rt, "GET", f"{path}?exp=%C2%B2&sig=x")
    assert status == 400 and "damaged" in json.loads(text)["error"]["message"]


@given(query=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FFF), max_size=80))
@ATTACK_SETTINGS
def test_any_query_string_gets_a_plain_answer(rt, target, query):
    approval_id, path, _ = target
    status, text = send(rt, "GET", f"{path}?{quote(query, safe='=&%')}")
    assert_plain_refusal(rt, status, text, 400, 403)
    assert still_pending(rt, approval_id)


# --- malformed bodies and encodings -----------------------------------------------------------

MALFORMED_BODIES = [
    (b"\xff", "application/x-www-form-urlencoded"), (b"\xff", "application/json"), (b"\xff\xfe{}", None),
    (b"decision=approve&choice=\xff", "application/x-www-form-urlencoded"), (b"[" * 5000, "application/json"),
    (b"1" * 6000, "application/json"), (b"[1]", "application/json"), (b'{"decision": ["approve"]}', "application/json"),
    (b'{"decision": "approve", "choice": {"$ne": 1}}', "application/json"), (b"a=1&&=&b", "application/x-www-form-urlencoded"),
    (b'{"decision": "approve", "choice": "apply", "changes": "all"}', "application/json"),
    (b"x" * (70 * 1024), "application/x-www-form-urlencoded"), (b"\x00\x01\x02", "application/octet-stream"),
    (b'{"decision": "approve"', "application/json; charset=utf-8"), (b"<xml/>", "text/xml"),
    ('{"decision": "approve", "choice": "\ud800"}'.encode("utf-8", "surrogatepass"), "application/json"),
]


@pytest.mark.parametrize("body, content_type", MALFORMED_BODIES)
def test_a_malformed_body_is_refused_with_400_and_a_plain_message(rt, target, body, content_type):
    approval_id, path, query = target
    headers = {"Content-Type": content_type} if content_type else {}
    status, text = send(rt, "POST", f"{path}?{query}", body, headers)
    assert_plain_refusal(rt, status, text, 400)
    assert still_pending(rt, approval_id)


@given(body=st.binary(max_size=300), content_type=st.sampled_from(
    ["application/json", "application/x-www-form-urlencoded", "text/plain", "", "multipart/form-data; boundary=x"]))
@ATTACK_SETTINGS
def test_any_body_gets_a_plain_answer_and_decides_nothing(rt, target, body, content_type):
    approval_id, path, query = target
    status, text = send(rt, "POST", f"{path}?{query}", body, {"Content-Type": content_type} if content_type else {})
    assert_plain_refusal(rt, status, text, 400)
    assert still_pending(rt, approval_id)


# --- cross-site posts -------------------------------------------------------------------------

@pytest.mark.parametrize("header, value", [("Origin", "https://evil.example"), ("Origin", "null"),
                                           ("Referer", "https://evil.example/page"),
                                           ("Origin", "http://127.0.0.1.evil.example"), ("Origin", "%%%")])
def test_a_post_whose_origin_or_referer_names_another_site_is_refused(rt, target, header, value):
    approval_id, path, query = target
    status, text = send(rt, "POST", f"{path}?{query}", b'{"decision": "approve", "choice": "apply"}',
                        {"Content-Type": "application/json", header: value})
    assert_plain_refusal(rt, status, text, 403)
    assert "another web site" in json.loads(text)["error"]["message"]
    assert still_pending(rt, approval_id)


def test_a_post_from_the_page_itself_passes_the_site_check(rt, target):
    approval_id, path, query = target
    own = rt.url
    # Its own origin, but no decision in the body: refused for that (400), not as cross-site (403).
    status, text = send(rt, "POST", f"{path}?{query}", b"{}", {"Content-Type": "application/json", "Origin": own,
                                                              "Referer": f"{own}{path}?{query}"})
    assert status == 400 and "approve or reject" in json.loads(text)["error"]["message"]
    assert still_pending(rt, approval_id)


# --- forgery, tampering, traversal ------------------------------------------------------------

@given(sig=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", min_size=43,
                   max_size=43))
@ATTACK_SETTINGS
def test_a_forged_signature_is_refused_with_403(rt, target, sig):
    approval_id, path, query = target
    exp = dict(part.split("=", 1) for part in query.split("&"))["exp"]
    status, text = send(rt, "POST", f"{path}?{urlencode({'exp': exp, 'sig': sig})}",
                        b'{"decision": "approve", "choice": "apply"}', {"Content-Type": "application/json"})
    assert_plain_refusal(rt, status, text, 403)
    assert still_pending(rt, approval_id)


def tampered(query: str, how: str) -> str:
    values = dict(part.split("=", 1) for part in query.split("&"))
    if how == "exp":
        values["exp"] = str(int(values["exp"]) + 1)
    elif how == "sig":
        values["sig"] = ("A" if values["sig"][0] != "A" else "B") + values["sig"][1:]
    elif how == "drop-sig":
        values.pop("sig")
    return urlencode(values)


@pytest.mark.parametrize("how", ["exp", "sig", "drop-sig", "other-id"])
def test_a_tampered_link_is_refused_with_403(rt, target, how):
    approval_id, path, query = target
    if how == "other-id":
        path, changed = path[:-1] + ("A" if path[-1] != "A" else "B"), query
    else:
        changed = tampered(query, how)
    for method in ("GET", "POST"):
        status, text = send(rt, method, f"{path}?{changed}", b'{"decision": "approve", "choice": "apply"}',
                            {"Content-Type": "application/json"})
        assert_plain_refusal(rt, status, text, 403)
    assert still_pending(rt, approval_id)


@pytest.mark.parametrize("path", ["/approvals/..%2F..%2Fetc%2Fpasswd", "/approvals/%2e%2e", "/approvals/../../etc/passwd",
                                  "/approvals/%00", "/approvals/" + "a" * 5000, "/approvals/x/../../_local/tasks",
                                  "/_local/tasks", "/approvals//", "/approvals/%F0%9F%92%A5"])
def test_traversal_and_odd_paths_reach_nothing(rt, target, path):
    _, _, query = target
    status, text = send(rt, "GET", f"{path}?{query}")
    assert_plain_refusal(rt, status, text, 400, 403, 404)
    assert "root:" not in text and '"tasks"' not in text


# --- replay and races (last: they decide) -----------------------------------------------------

def test_zz_a_decision_counts_once_and_a_replay_is_refused_with_409(rt, target):
    approval_id, path, query = target
    decision = b'{"decision": "approve", "choice": "apply"}'
    status, text = send(rt, "POST", f"{path}?{query}", decision, {"Content-Type": "application/json"})
    assert status == 200, text
    again, text = send(rt, "POST", f"{path}?{query}", decision, {"Content-Type": "application/json"})
    assert_plain_refusal(rt, again, text, 409, 410)
    wait_for_status(rt, "5000112", timeout=120)


def test_zz_of_racing_decisions_exactly_one_is_taken(rt):
    approval_id, link = notification_link(rt, "5000116", "confirm", timeout=120)
    parts = urlsplit(link)
    answers: list[int] = []

    def post():
        answers.append(send(rt, "POST", f"{parts.path}?{parts.query}", b'{"decision": "approve", "choice": "apply"}',
                            {"Content-Type": "application/json"})[0])

    racers = [threading.Thread(target=post) for _ in range(8)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(timeout=180)
    assert sorted(answers) == [200] + [409] * 7
    assert wait_for_status(rt, "5000116", timeout=120)["status"] == "synced"


def test_zz_no_answer_or_file_holds_a_task_token(rt):
    tokens = [a.get("token") for a in rt.approvals(None) if a.get("token")]
    assert tokens
    for name in ("outbox.jsonl", "functions.log"):
        text = (Path(rt.data_dir) / name).read_text(encoding="utf-8")
        assert not any(token in text for token in tokens)
