"""Operators sign in to the dashboard in AWS: the Cognito hosted UI with the code flow and PKCE,
an HttpOnly session cookie, and the HTTP API's Lambda authorizer verifying the ID token in it.

The user pool is faked at its edges only (its JWKS and token endpoint answer from memory, its
app clients from a fake cognito-idp client); the keys are RSA keys made here, the tokens are
signed with them by `cryptography`, and everything in between is the code that runs in AWS.
"""
from __future__ import annotations

import base64
import hashlib
import json
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from cwsync.adapters.cognito import CognitoOperatorPool, SignInSettings
from cwsync.config import Settings
from cwsync.dashboard_api import create_app
from cwsync.operator_session import SESSION_COOKIE, SIGN_IN_COOKIE, SessionRefused, authorize
from cwsync.services.deps import Dependencies
from cwsync.sign_in import local_path
from fakes import FakeStore
from fakes.cognito import CLIENT_ID, ISSUER, KEY, NOW, OPERATOR, OTHER_KEY, POOL_ID, REGION, b64, jwk, token

DOMAIN = "cwsync-ops.auth.eu-west-1.amazoncognito.com"
HOST = "abc123.execute-api.eu-west-1.amazonaws.com"


class Answer:
    def __init__(self, status: int, body):
        self.status_code, self._body = status, body

    def json(self):
        return self._body


class FakeCognitoWeb:
    """The pool's JWKS and the hosted UI's token endpoint, answering from memory."""

    def __init__(self, keys: list[dict]):
        self.keys, self.requests, self.issued = keys, [], None

    def get(self, url, headers=None, timeout=None):
        assert timeout is not None
        self.requests.append(("GET", url, None))
        assert url == f"{ISSUER}/.well-known/jwks.json"
        return Answer(200, {"keys": self.keys})

    def post(self, url, data=None, headers=None, timeout=None):
        assert timeout is not None
        self.requests.append(("POST", url, dict(data)))
        assert url == f"https://{DOMAIN}/oauth2/token"
        if data.get("code") != "the-code":
            return Answer(400, {"error": "invalid_grant"})
        self.issued = token()
        return Answer(200, {"id_token": self.issued, "access_token": token(token_use="access"),
                            "refresh_token": "opaque-refresh", "expires_in": 3600, "token_type": "Bearer"})


class FakeCognitoIdp:
    def __init__(self):
        self.calls = 0

    def list_user_pool_clients(self, UserPoolId, MaxResults, NextToken=None):
        assert UserPoolId == POOL_ID
        self.calls += 1
        if NextToken is None:
            return {"UserPoolClients": [{"ClientId": "other", "ClientName": "someone-else"}], "NextToken": "page-2"}
        return {"UserPoolClients": [{"ClientId": CLIENT_ID, "ClientName": "cwsync-dashboard"}]}


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def web():
    return FakeCognitoWeb([jwk(KEY, "key-1")])


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def pool(web, clock):
    settings = SignInSettings.from_environment({"AWS_REGION": REGION, "OPERATOR_POOL_ID": POOL_ID,
                                                "OPERATOR_POOL_CLIENT_NAME": "cwsync-dashboard",
                                                "OPERATOR_SIGN_IN_DOMAIN": DOMAIN})
    return CognitoOperatorPool(settings, session=web, cognito=FakeCognitoIdp(), clock=clock)


# --- the token ----------------------------------------------------------------------------------

def test_an_id_token_of_the_operator_pool_for_the_dashboard_client_is_accepted(pool):
    claims = pool.verify(token(), NOW)
    assert claims["email"] == OPERATOR


def _none_token():
    head, body, _ = token().split(".")
    return f"{b64(json.dumps({'alg': 'none', 'kid': 'key-1'}).encode())}.{body}.AAAA"


def _tampered():
    head, body, signature = token().split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    claims["email"] = "intruder@elsewhere.example"
    return f"{head}.{b64(json.dumps(claims).encode())}.{signature}"


def _hs256_with_the_public_key():
    import hmac

    head = b64(json.dumps({"alg": "HS256", "kid": "key-1"}).encode())
    body = token().split(".")[1]
    secret = json.dumps(jwk(KEY, "key-1")).encode()
    return f"{head}.{body}.{b64(hmac.new(secret, f'{head}.{body}'.encode(), hashlib.sha256).digest())}"


@pytest.mark.parametrize("bad, reason", [
    (lambda: token(exp=int(NOW.timestamp())), "ended"),
    (lambda: token(aud="another-app-client"), "another application"),
    (lambda: token(iss="https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other"), "another user pool"),
    (lambda: token(token_use="access"), "ID token"),
    (lambda: token(key=OTHER_KEY), "signature"),
    (lambda: token(kid="unknown-key"), "not signed by the operator pool"),
    (lambda: token(iat=int(NOW.timestamp()) + 3600), "future"),
    (_none_token, "not signed the way"),
    (_hs256_with_the_public_key, "not signed the way"),
    (_tampered, "signature"),
    (lambda: "not-a-token", "readable"),
    (lambda: "a.b.c", "readable"),
], ids=["expired", "other-client", "other-pool", "access-token", "other-key", "unknown-kid", "issued-in-future",
        "alg-none", "hs256-confusion", "tampered-claims", "garbage", "not-base64-json"])
def test_a_session_that_is_not_a_current_id_token_of_the_pool_is_refused_and_says_why(pool, bad, reason):
    with pytest.raises(SessionRefused, match=reason) as refused:
        pool.verify(bad(), NOW)
    assert "eyJ" not in str(refused.value)  # the reason never repeats the token


def test_the_dashboard_client_is_found_by_name_once_and_the_keys_are_kept(pool, web):
    for _ in range(3):
        pool.verify(token(), NOW)
    assert pool._cognito.calls == 2  # two pages of app clients, once
    assert [r for r in web.requests if r[0] == "GET"] == [("GET", f"{ISSUER}/.well-known/jwks.json", None)]


def test_a_rotated_key_is_fetched_again_but_an_unknown_key_does_not_make_every_request_fetch(pool, web, clock):
    pool.verify(token(), NOW)
    web.keys = [jwk(KEY, "key-1"), jwk(OTHER_KEY, "key-2")]
    with pytest.raises(SessionRefused):  # just fetched: not fetched again for an unknown key
        pool.verify(token(key=OTHER_KEY, kid="key-2"), NOW)
    clock.now += 301
    assert pool.verify(token(key=OTHER_KEY, kid="key-2"), NOW)["email"] == OPERATOR
    assert len([r for r in web.requests if r[0] == "GET"]) == 2


# --- the authorizer -------------------------------------------------------------------------------

def authorizer_event(cookies: list[str] | None, route: str = "GET /", path: str | None = None,
                     query: dict | None = None) -> dict:
    method, template = route.split(" ", 1)
    path = path or template
    return {"version": "2.0", "type": "REQUEST", "routeKey": route, "rawPath": path, "headers": {"host": HOST},
            **({"cookies": cookies} if cookies is not None else {}),
            **({"queryStringParameters": query} if query else {}),
            "requestContext": {"domainName": HOST, "http": {"method": method, "path": path, "sourceIp": "203.0.113.9"}}}


SIGNED_OUT_PAGE = {"isAuthorized": True, "context": {"signedIn": False}}


def test_the_authorizer_lets_a_signed_in_operator_through_and_names_them(pool, capsys):
    session = token()
    answer = authorize(authorizer_event(["theme=dark", f"{SESSION_COOKIE}={session}"]), pool, NOW)
    assert answer == {"isAuthorized": True, "context": {"operator": OPERATOR}}
    assert session not in capsys.readouterr().out


@pytest.mark.parametrize("cookies", [None, [], ["theme=dark"], [f"{SESSION_COOKIE}="],
                                     [f"{SESSION_COOKIE}=" + token(exp=int(NOW.timestamp()) - 1)],
                                     [f"{SESSION_COOKIE}=" + token(key=OTHER_KEY)]],
                         ids=["no-cookies", "empty", "other-cookie", "empty-session", "expired", "forged"])
def test_without_a_valid_session_the_authorizer_refuses_forms_and_exports_and_logs_no_token(pool, capsys, cookies):
    for route, path, query in (("POST /check", None, None), ("POST /tasks/{id}", "/tasks/T-1", None),
                               ("POST /links", None, None), ("GET /reconciliation", None, {"format": "csv"}),
                               ("GET /approvals/{id}", "/approvals/A-1", None)):
        assert authorize(authorizer_event(cookies, route, path, query), pool, NOW) == {"isAuthorized": False}, route
    assert "eyJ" not in capsys.readouterr().out


@pytest.mark.parametrize("cookies", [None, [f"{SESSION_COOKIE}=" + token(exp=int(NOW.timestamp()) - 1)],
                                     [f"{SESSION_COOKIE}=" + token(key=OTHER_KEY)],
                                     [f"{SESSION_COOKIE}=" + token(aud="another-client")]],
                         ids=["no-cookies", "expired", "forged", "other-client"])
def test_without_a_valid_session_a_page_is_let_through_only_as_signed_out_naming_no_operator(pool, cookies):
    for route, path in (("GET /", None), ("GET /tasks/{id}", "/tasks/T-1"), ("GET /reconciliation", None),
                        ("GET /links", None)):
        assert authorize(authorizer_event(cookies, route, path), pool, NOW) == SIGNED_OUT_PAGE, route
    # a page's route key with another method is not a page
    assert authorize(authorizer_event(cookies, "POST /", "/"), pool, NOW) == {"isAuthorized": False}


def test_the_authorizer_refuses_when_the_pool_cannot_be_read(pool, web):
    web.get = lambda *a, **k: (_ for _ in ()).throw(ConnectionError("down"))
    assert authorize(authorizer_event([f"{SESSION_COOKIE}={token()}"]), pool, NOW) == {"isAuthorized": False}


# --- the sign-in pages ------------------------------------------------------------------------------

def deps_for(access: str) -> Dependencies:
    settings = Settings.from_environment({"TABLE_NAME": "cwsync-test", "OPERATOR_ACCESS": access})
    return Dependencies(settings, store=FakeStore(clock=lambda: NOW), signing_key=b"k" * 32, clock=lambda: NOW)


def request(app, path: str, *, query: dict | None = None, cookies: list[str] | None = None, method: str = "GET",
            operator: str | None = None, body: str = "", headers: dict | None = None,
            authorizer: dict | None = None) -> dict:
    context = {"domainName": HOST, "http": {"method": method, "path": path, "sourceIp": "203.0.113.9"},
               "requestId": "r-1", "stage": "$default"}
    if operator:
        authorizer = {"operator": operator}
    if authorizer is not None:
        context["authorizer"] = {"lambda": authorizer}
    event = {"version": "2.0", "routeKey": f"{method} {path}", "rawPath": path,
             "rawQueryString": "&".join(f"{k}={v}" for k, v in (query or {}).items()),
             "queryStringParameters": query, "cookies": cookies or [], "body": body, "isBase64Encoded": False,
             "headers": {"host": HOST, **(headers or {})}, "requestContext": context}
    return app.resolve(event, None)


@pytest.fixture
def app(pool):
    deps = deps_for("cognito")
    return create_app(lambda: deps, lambda: pool)


def cookie_named(answer: dict, name: str) -> str:
    return next(c for c in answer["cookies"] if c.startswith(f"{name}="))


def test_sign_in_sends_the_browser_to_cognito_with_the_code_flow_and_a_pkce_challenge(app):
    answer = request(app, "/sign-in", query={"next": "/tasks/T-1"})
    assert answer["statusCode"] == 303
    location = urlsplit(answer["headers"]["Location"])
    assert (location.scheme, location.netloc, location.path) == ("https", DOMAIN, "/oauth2/authorize")
    asked = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert asked["response_type"] == "code" and asked["client_id"] == CLIENT_ID
    assert asked["redirect_uri"] == f"https://{HOST}/auth/callback"
    assert asked["scope"] == "openid email" and asked["code_challenge_method"] == "S256"
    started = cookie_named(answer, SIGN_IN_COOKIE)
    assert {"Secure", "HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=600"} <= {p.strip() for p in started.split(";")}
    state, verifier, _ = started.split(";")[0].split("=", 1)[1].split(".")
    assert asked["state"] == state and verifier not in answer["headers"]["Location"]
    assert asked["code_challenge"] == b64(hashlib.sha256(verifier.encode()).digest())


def test_the_callback_trades_the_code_sets_an_httponly_session_and_opens_the_page_asked_for(app, web):
    started = cookie_named(request(app, "/sign-in", query={"next": "/tasks/T-1"}), SIGN_IN_COOKIE).split(";")[0]
    state, verifier, _ = started.split("=", 1)[1].split(".")
    answer = request(app, "/auth/callback", query={"code": "the-code", "state": state}, cookies=[started])
    assert answer["statusCode"] == 303 and answer["headers"]["Location"] == "/tasks/T-1"
    (form,) = [form for method, url, form in web.requests if method == "POST"]
    assert form == {"grant_type": "authorization_code", "client_id": CLIENT_ID, "code": "the-code",
                    "redirect_uri": f"https://{HOST}/auth/callback", "code_verifier": verifier}
    session = cookie_named(answer, SESSION_COOKIE)
    assert session.split(";")[0] == f"{SESSION_COOKIE}={web.issued}"
    assert {"Secure", "HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=3600"} <= {p.strip() for p in session.split(";")}
    assert cookie_named(answer, SIGN_IN_COOKIE).startswith(f"{SIGN_IN_COOKIE}=;")  # cleared
    assert answer["headers"]["Referrer-Policy"] == "no-referrer"  # the code in this URL goes nowhere
    assert web.issued not in json.dumps(answer["headers"])


def test_with_the_session_cookie_the_authorizer_lets_the_dashboard_open_with_the_operator_named(app, web, pool):
    started = cookie_named(request(app, "/sign-in"), SIGN_IN_COOKIE).split(";")[0]
    state = started.split("=", 1)[1].split(".")[0]
    session = cookie_named(request(app, "/auth/callback", query={"code": "the-code", "state": state},
                                   cookies=[started]), SESSION_COOKIE).split(";")[0]
    allowed = authorize(authorizer_event([session]), pool, NOW)
    page = request(app, "/", operator=allowed["context"]["operator"])
    assert page["statusCode"] == 200
    assert f"Signed in as {OPERATOR}" in page["body"] and 'href="/sign-out"' in page["body"]


def test_a_callback_this_browser_did_not_start_is_refused_without_asking_cognito(app, web):
    started = cookie_named(request(app, "/sign-in"), SIGN_IN_COOKIE).split(";")[0]
    for cookies, state in (([started], "someone-elses-state"), ([], "any")):
        answer = request(app, "/auth/callback", query={"code": "the-code", "state": state}, cookies=cookies)
        assert answer["statusCode"] == 400 and "not started here" in answer["body"]
        assert 'href="/sign-in"' in answer["body"] and not answer.get("cookies")
    assert not [r for r in web.requests if r[0] == "POST"]


def test_a_refused_code_or_a_cognito_error_ends_on_a_page_that_offers_to_sign_in_again(app):
    started = cookie_named(request(app, "/sign-in"), SIGN_IN_COOKIE).split(";")[0]
    state = started.split("=", 1)[1].split(".")[0]
    used = request(app, "/auth/callback", query={"code": "used-code", "state": state}, cookies=[started])
    assert used["statusCode"] == 400 and "could not be used" in used["body"] and not used.get("cookies")
    denied = request(app, "/auth/callback", query={"error": "access_denied", "state": state}, cookies=[started])
    assert denied["statusCode"] == 400 and "Cognito said access_denied" in denied["body"]
    hostile = request(app, "/auth/callback", query={"error": "<script>x</script>"}, cookies=[started])
    assert "<script>" not in hostile["body"]


def test_sign_in_with_a_valid_session_goes_straight_to_the_page(app, web):
    answer = request(app, "/sign-in", query={"next": "/reconciliation"}, cookies=[f"{SESSION_COOKIE}={token()}"])
    assert answer["statusCode"] == 303 and answer["headers"]["Location"] == "/reconciliation"


@pytest.mark.parametrize("asked", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:x",
                                   "", "tasks/T-1"])
def test_after_signing_in_the_browser_never_leaves_for_another_site(asked):
    assert local_path(asked) == "/"


def test_sign_out_clears_the_session_and_ends_cognitos_session_too(app):
    answer = request(app, "/sign-out", cookies=[f"{SESSION_COOKIE}={token()}"])
    location = urlsplit(answer["headers"]["Location"])
    assert (location.netloc, location.path) == (DOMAIN, "/logout")
    assert parse_qs(location.query) == {"client_id": [CLIENT_ID], "logout_uri": [f"https://{HOST}/signed-out"]}
    assert cookie_named(answer, SESSION_COOKIE).startswith(f"{SESSION_COOKIE}=; ")
    page = request(app, "/signed-out")
    assert page["statusCode"] == 200 and "You are signed out" in page["body"] and 'href="/sign-in"' in page["body"]


@pytest.mark.parametrize("path", ["/", "/tasks/T-1", "/reconciliation", "/links"])
def test_a_page_opened_signed_out_sends_the_browser_to_sign_in_and_shows_nothing(app, path):
    for context in (None, {"signedIn": False}):
        answer = request(app, path, query={"kind": "customer"}, authorizer=context)
        assert answer["statusCode"] == 303 and answer["body"] == ""
        assert answer["headers"]["Location"] == "/sign-in?" + urlencode({"next": f"{path}?kind=customer"})


def test_after_the_hour_a_page_leads_through_sign_in_back_to_the_same_page(app, web, pool):
    expired = [f"{SESSION_COOKIE}=" + token(exp=int(NOW.timestamp()) - 1)]
    asked = authorizer_event(expired, "GET /links", "/links", {"kind": "customer", "q": "Green Lane"})
    allowed = authorize(asked, pool, NOW)
    page = request(app, "/links", query={"kind": "customer", "q": "Green%20Lane"}, cookies=expired,
                   authorizer=allowed["context"])
    location = urlsplit(page["headers"]["Location"])
    assert (page["statusCode"], location.path) == (303, "/sign-in")
    started = request(app, "/sign-in", query={k: v[0] for k, v in parse_qs(location.query).items()}, cookies=expired)
    assert urlsplit(started["headers"]["Location"]).netloc == DOMAIN  # the expired session is not taken
    cookie = cookie_named(started, SIGN_IN_COOKIE).split(";")[0]
    state = cookie.split("=", 1)[1].split(".")[0]
    back = request(app, "/auth/callback", query={"code": "the-code", "state": state}, cookies=[cookie])
    assert back["statusCode"] == 303 and back["headers"]["Location"] == "/links?kind=customer&q=Green%20Lane"


def test_a_form_or_an_export_without_a_signed_in_operator_is_refused_not_redirected(app):
    for path, method, query in (("/check", "POST", None), ("/links", "POST", None), ("/tasks/T-1", "POST", None),
                                ("/reconciliation", "GET", {"format": "csv"})):
        answer = request(app, path, method=method, query=query, authorizer={"signedIn": False},
                         body="csrf=1.x", headers={"content-type": "application/x-www-form-urlencoded"})
        assert answer["statusCode"] == 403 and "/sign-in" in answer["body"], path


def test_a_signed_in_operators_form_posted_from_another_site_is_still_refused(app):
    answer = request(app, "/check", method="POST", operator=OPERATOR, body="csrf=1.x",
                     headers={"origin": "https://evil.example", "content-type": "application/x-www-form-urlencoded"})
    assert answer["statusCode"] == 403 and "another site" in answer["body"]


def test_on_the_local_runtime_there_is_no_sign_in_and_the_pages_lead_to_the_dashboard(pool):
    local = create_app(lambda: deps_for("loopback"), lambda: pytest.fail("the local runtime asks no Cognito"))
    for path in ("/sign-in", "/auth/callback", "/sign-out"):
        answer = request(local, path)
        assert answer["statusCode"] == 303 and answer["headers"]["Location"] == "/" and not answer.get("cookies")
