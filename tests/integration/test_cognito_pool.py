"""The operators' pool adapter over real HTTP: a local stand-in for the pool's JWKS and the hosted
UI's token endpoint (loopback only) answers as Cognito does, and the adapter's own session,
timeouts and form encoding carry the requests."""
from __future__ import annotations

import json
import logging
import threading

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from cwsync.adapters.cognito import CodeRefused, CognitoOperatorPool, SignInSettings, SignInUnavailable
from fakes.cognito import CLIENT_ID, KEY, NOW, OPERATOR, POOL_ID, REGION, jwk, token

logging.getLogger("werkzeug").setLevel(logging.ERROR)
REDIRECT = "https://abc123.execute-api.eu-west-1.amazonaws.com/auth/callback"


class StandIn:
    """Cognito's two public endpoints the dashboard calls, from memory."""

    def __init__(self):
        self.seen: list[tuple[str, str, str, dict]] = []
        self.broken = False

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.seen.append((request.method, request.path, request.content_type or "", dict(request.form)))
        if self.broken:
            return Response("<html>upstream error with details</html>", 500)(environ, start_response)
        if request.method == "GET" and request.path == "/jwks.json":
            answer = Response(json.dumps({"keys": [jwk(KEY, "key-1")]}), 200, content_type="application/json")
        elif request.method == "POST" and request.path == "/oauth2/token":
            if request.form.get("code") != "good-code":
                answer = Response(json.dumps({"error": "invalid_grant"}), 400, content_type="application/json")
            else:
                answer = Response(json.dumps({"id_token": token(), "access_token": "a", "expires_in": 3600,
                                              "token_type": "Bearer"}), 200, content_type="application/json")
        else:
            answer = Response("not here", 404)
        return answer(environ, start_response)


@pytest.fixture
def stand_in():
    app = StandIn()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=30)


class AppClients:
    def list_user_pool_clients(self, UserPoolId, MaxResults, NextToken=None):
        return {"UserPoolClients": [{"ClientId": CLIENT_ID, "ClientName": "cwsync-dashboard"}]}


def pool_at(base: str) -> CognitoOperatorPool:
    settings = SignInSettings(region=REGION, pool_id=POOL_ID, client_name="cwsync-dashboard",
                              domain="cwsync-ops.auth.eu-west-1.amazoncognito.com")
    return CognitoOperatorPool(settings, cognito=AppClients(), jwks_url=f"{base}/jwks.json",
                               token_url=f"{base}/oauth2/token")


def test_the_pool_reads_its_keys_over_http_and_verifies_an_operator_token_with_them(stand_in):
    app, base = stand_in
    assert pool_at(base).verify(token(), NOW)["email"] == OPERATOR
    assert [(m, p) for m, p, _, _ in app.seen] == [("GET", "/jwks.json")]


def test_the_code_is_traded_in_a_form_post_with_its_pkce_verifier(stand_in):
    app, base = stand_in
    tokens = pool_at(base).exchange_code("good-code", "v" * 64, REDIRECT)
    assert tokens["id_token"].count(".") == 2
    [(method, path, content_type, form)] = [s for s in app.seen if s[0] == "POST"]
    assert (method, path, content_type) == ("POST", "/oauth2/token", "application/x-www-form-urlencoded")
    assert form == {"grant_type": "authorization_code", "client_id": CLIENT_ID, "code": "good-code",
                    "redirect_uri": REDIRECT, "code_verifier": "v" * 64}


def test_a_refused_code_and_a_broken_endpoint_are_told_apart_in_words_without_the_answers_text(stand_in):
    app, base = stand_in
    with pytest.raises(CodeRefused):
        pool_at(base).exchange_code("used-code", "v" * 64, REDIRECT)
    app.broken = True
    with pytest.raises(SignInUnavailable) as broken:
        pool_at(base).exchange_code("good-code", "v" * 64, REDIRECT)
    assert "500" in str(broken.value) and "details" not in str(broken.value)
    with pytest.raises(SignInUnavailable):
        pool_at(base).keys()


def test_nothing_listening_is_sign_in_unavailable_not_an_exception_from_requests():
    closed = pool_at("http://127.0.0.1:9")  # the discard port: nothing listens there
    with pytest.raises(SignInUnavailable, match="could not be reached"):
        closed.keys()
