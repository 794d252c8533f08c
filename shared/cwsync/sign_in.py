"""Signing in to the dashboard in AWS: Cognito's managed login, the authorization-code flow
with PKCE, and a session cookie the HTTP API's Lambda authorizer reads.

GET /sign-in        (no authorizer) → Cognito's sign-in page; a valid session goes straight on
GET /auth/callback  (no authorizer) → the code is exchanged for tokens; the ID token is verified
                    and set as the HttpOnly session cookie; the browser goes on to the page it
                    asked for (a path on this site, never another site); nothing secret in a URL
GET /sign-out       (no authorizer) → the cookie is cleared and Cognito's session ended
GET /signed-out     (no authorizer) → "you are signed out"
The Lambda authorizer itself is `cwsync.operator_session.authorize` (no page code to import).
On the local runtime (`OPERATOR_ACCESS=loopback`) there is no sign-in: these pages lead to `/`.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from typing import Any, Callable
from urllib.parse import urlencode

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.shared.cookies import Cookie, SameSite

from cwsync.adapters.cognito import CodeRefused, SignInUnavailable
from cwsync.approvals import ApprovalError
from cwsync.observability import logger
from cwsync.operator_session import (SESSION_COOKIE, SIGN_IN_COOKIE, SessionRefused, cookie_value, event_cookies,
                                     operator_name)

SIGN_IN_SECONDS = 600  # how long a started sign-in may take
SCOPES = "openid email"
CALLBACK_PATH = "/auth/callback"
SIGNED_OUT_PATH = "/signed-out"
_LOCAL_PATH = re.compile(r"^/(?![/\\])[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*$")
_ERROR_CODE = re.compile(r"^[a-z_]{1,40}$")


class SignInFailed(ApprovalError):
    """A sign-in that cannot go on; its page offers to sign in again."""

    status = 400
    title = "Sign-in did not finish"


class SignInDown(SignInFailed):
    status = 503
    title = "Signing in is not possible right now"


class SignedOut(SignInFailed):
    status = 200
    title = "Signed out"


def local_path(value: str | None) -> str:
    """`value` when it is a path on this site (not `//host`, not a URL), else `/`."""
    value = (value or "").strip()
    return value if len(value) <= 2000 and _LOCAL_PATH.match(value) else "/"


def pkce_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def register(app: APIGatewayHttpResolver, get_deps: Callable[[], Any], get_pool: Callable[[], Any],
             page: Callable[[ApprovalError], Response]) -> None:
    """Adds the sign-in routes to the dashboard's resolver; `page` renders a message page."""

    def local(deps) -> bool:
        return deps.settings.operator_access == "loopback"

    def site(path: str) -> str:
        context = app.current_event.raw_event.get("requestContext") or {}
        host = context.get("domainName") or app.current_event.headers.get("host") or ""
        return f"https://{host}{path}"

    @app.get("/sign-in")
    def sign_in() -> Response:
        deps = get_deps()
        query = app.current_event.query_string_parameters or {}
        target = local_path(query.get("next"))
        if local(deps):
            return _redirect(target)
        pool = get_pool()
        token = cookie_value(event_cookies(app.current_event.raw_event), SESSION_COOKIE)
        if token:
            try:
                pool.verify(token, deps.now())
                return _redirect(target)
            except SessionRefused:
                pass  # ended or damaged: sign in again
        state, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(64)
        started = ".".join([state, verifier, base64.urlsafe_b64encode(target.encode()).decode().rstrip("=")])
        address = f"{pool.base_url}/oauth2/authorize?" + urlencode({
            "response_type": "code", "client_id": pool.client_id(), "redirect_uri": site(CALLBACK_PATH),
            "scope": SCOPES, "state": state, "code_challenge": pkce_challenge(verifier),
            "code_challenge_method": "S256"})
        return _redirect(address, cookies=[_cookie(SIGN_IN_COOKIE, started, SIGN_IN_SECONDS)])

    @app.get(CALLBACK_PATH)
    def callback() -> Response:
        deps = get_deps()
        if local(deps):
            return _redirect("/")
        query = app.current_event.query_string_parameters or {}
        error = query.get("error") or ""
        if error:
            said = f" (Cognito said {error})" if _ERROR_CODE.match(error) else ""
            raise SignInFailed(f"The sign-in was not completed{said}. Sign in again.")
        started = cookie_value(event_cookies(app.current_event.raw_event), SIGN_IN_COOKIE) or ""
        state, verifier, target = (started.split(".") + ["", "", ""])[:3]
        given = query.get("state") or ""
        if not state or not verifier or not given or not hmac.compare_digest(state.encode(), given.encode()):
            raise SignInFailed("This sign-in was not started here, or took too long. Sign in again.")
        code = query.get("code") or ""
        if not code or len(code) > 2000:
            raise SignInFailed("Cognito sent no sign-in code. Sign in again.")
        pool = get_pool()
        try:
            tokens = pool.exchange_code(code, verifier, site(CALLBACK_PATH))
            claims = pool.verify(tokens["id_token"], deps.now())
        except (CodeRefused, SessionRefused) as refused:
            logger.info("Sign-in refused", extra={"reason": str(refused)})
            raise SignInFailed("Cognito's answer could not be used. Sign in again.") from None
        lasts = int(claims["exp"] - deps.now().timestamp())
        logger.info("Operator signed in", extra={"operator": operator_name(claims)})
        try:
            back = base64.urlsafe_b64decode(target + "=" * (-len(target) % 4)).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            back = "/"
        return _redirect(local_path(back), cookies=[_cookie(SESSION_COOKIE, tokens["id_token"], lasts),
                                                    _cookie(SIGN_IN_COOKIE, "", 0)])

    @app.get("/sign-out")
    def sign_out() -> Response:
        deps = get_deps()
        if local(deps):
            return _redirect("/")
        pool = get_pool()
        address = f"{pool.base_url}/logout?" + urlencode({"client_id": pool.client_id(),
                                                          "logout_uri": site(SIGNED_OUT_PATH)})
        return _redirect(address, cookies=[_cookie(SESSION_COOKIE, "", 0), _cookie(SIGN_IN_COOKIE, "", 0)])

    @app.get(SIGNED_OUT_PATH)
    def signed_out() -> Response:
        return page(SignedOut("You are signed out of the cwsync dashboard."))

    @app.exception_handler(SignInUnavailable)
    def unavailable(error: SignInUnavailable) -> Response:
        logger.error("Cognito could not be asked", extra={"reason": str(error)})
        return page(SignInDown("Cognito, which signs operators in, did not answer; nothing was changed. "
                               "Try again in a minute."))


def _cookie(name: str, value: str, max_age: int) -> Cookie:
    """HttpOnly, Secure, this site only (`__Host-`). SameSite=Lax: a link from an e-mail opens
    the dashboard signed in, while a form another site posts arrives without the cookie."""
    return Cookie(name, value, path="/", secure=True, http_only=True, max_age=max(0, max_age),
                  same_site=SameSite.LAX_MODE)


def _redirect(location: str, *, cookies: list[Cookie] | None = None) -> Response:
    return Response(303, "text/plain; charset=utf-8", "", cookies=cookies,
                    headers={"Location": location, "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
