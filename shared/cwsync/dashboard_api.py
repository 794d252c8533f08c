"""The operator's dashboard (HTTP API v2 → Powertools `APIGatewayHttpResolver`).

GET  /                 tasks by status, filters and search, Check Changes with the last/next check
GET  /tasks/{id}       one task: the order, each step's decision, attempts, ConnectWise changes
GET  /reconciliation   the last reconciliation report, filtered; `format=csv|json` exports it
POST /reconcile        queue a Reconcile run
POST /check            queue a CheckChanges run
POST /tasks/{id}       `action` = sync | sync_again | ignore (with `reason`) | unignore
GET  /links            every remembered link, who or what made it; filters (kind, automatic only) and search
POST /links            `action` = confirm | undo (with `reason`) of one link (`kind`, `key`, `linkedAt`)

Who may open these pages: in AWS the HTTP API's Lambda authorizer names the operator of a
verified Cognito session cookie (`cwsync.sign_in`: /sign-in, /auth/callback, /sign-out); a page
opened without one (never signed in, or the hour is over) is sent to /sign-in and back to that
page, and any other request without one is refused; on the local runtime
(`OPERATOR_ACCESS=loopback`) only requests from this machine, without signing in.
Every POST must come from these pages: its Origin (or Referer) must be this site, and it
must carry the form token the page was rendered with (HMAC over the operator and expiry).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any, Callable
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from cwsync.approvals import (ApprovalError, BadRequest, LinkForged, approval_url, expires_epoch, render_page,
                              unexpected_failure)
from cwsync.observability import logger
from cwsync.operator_session import EXPORT_PARAMETER
from cwsync.services import operator
from cwsync.vocabulary import ApprovalStatus, LinkAction

MAX_BODY_BYTES = 16 * 1024
FORM_TOKEN_CONTEXT = b"cwsync-dashboard-form:v1"
FORM_TOKEN_SECONDS = 12 * 3600
LOOPBACK = ("127.0.0.1", "::1")
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": ("default-src 'none'; style-src 'unsafe-inline'; script-src 'self' 'unsafe-inline'; "
                                "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
ACTIONS = ("sync", "sync_again", "ignore", "unignore")
DONE_MESSAGES = {
    "check": "Check Changes started: new orders appear here as tasks when it has read the marketplace.",
    "sync": "The sync of this task started.",
    "sync_again": "A new attempt of this task started.",
    "ignore": "The task is ignored; its reason is in the history.",
    "unignore": "The task is no longer ignored.",
    "reconciliation": "Reconciliation started: reload this page in a minute to see its result.",
    f"link-{LinkAction.CONFIRM}": "The link is confirmed; your review is in the audit trail below.",
    f"link-{LinkAction.UNDO}": ("The link is undone and recorded in the audit trail below. The next order asks a "
                               "person; nothing was changed in ConnectWise or in any task."),
}


class NotAllowed(ApprovalError):
    status = 403
    title = "Not allowed"


class NoSuchTask(ApprovalError):
    status = 404
    title = "No such task"


class SignInNeeded(Exception):
    """A page was opened without a signed-in operator: the browser goes to sign in, then back."""

    def __init__(self, back: str):
        super().__init__("sign in first")
        self.back = back


class Refused(ApprovalError):
    status = 409
    title = "This cannot be done now"


def create_app(get_deps: Callable[[], Any], get_pool: Callable[[], Any] | None = None) -> APIGatewayHttpResolver:
    """The dashboard's resolver; `get_pool` gives the operators' Cognito pool (sign-in in AWS)."""
    from cwsync import sign_in

    app = APIGatewayHttpResolver()
    sign_in.register(app, get_deps, get_pool or _shared_pool, _error)

    @app.get("/")
    def dashboard() -> Response:
        deps = get_deps()
        who = _operator(app, deps, page=True)
        query = app.current_event.query_string_parameters or {}
        status = query.get("status") or None
        if status and status not in operator.STATUS_LABELS:
            status = None
        view = operator.dashboard_view(deps, status=status, search=(query.get("q") or "").strip()[:100] or None)
        for row in view["rows"]:
            row["approvalLink"] = _approval_link(deps, row.get("approvalId"))
        return _page("dashboard.html", deps, who, query, view=view)

    @app.get("/tasks/<task_id>")
    def task_page(task_id: str) -> Response:
        from cwsync.services.task_history import task_view

        deps = get_deps()
        who = _operator(app, deps, page=True)
        view = task_view(deps, task_id)
        if view is None:
            raise NoSuchTask(f"There is no task {task_id}. Open the dashboard to see every task.")
        for approval in view["approvals"]:
            approval["link"] = _approval_link(deps, approval.get("approvalId")) \
                if approval.get("status") == ApprovalStatus.PENDING else None
        from cwsync.services.links import task_links

        view["links"] = task_links(deps, view["task"])
        return _page("task.html", deps, who, app.current_event.query_string_parameters or {}, view=view)

    @app.post("/check")
    def check() -> Response:
        from cwsync.services.check_runs import request_check

        deps, who, _ = _posted(app, get_deps)
        request_check(deps, who)
        return _redirect("/?" + urlencode({"done": "check"}))

    @app.get("/reconciliation")
    def reconciliation() -> Response:
        from cwsync.adapters.reports import load_report
        from cwsync.services.reconcile_view import page_view, to_csv

        deps = get_deps()
        query = app.current_event.query_string_parameters or {}
        who = _operator(app, deps, page=EXPORT_PARAMETER not in query)
        view = page_view(load_report(deps.store), kind=query.get("kind") or None,
                         currency=(query.get("currency") or "")[:3].upper() or None,
                         search=(query.get("q") or "").strip()[:100] or None)
        if query.get("format") == "csv":
            return Response(200, "text/csv; charset=utf-8", to_csv(_all_rows(view)), headers={
                **SECURITY_HEADERS, "Content-Disposition": 'attachment; filename="cwsync-reconciliation.csv"'})
        if query.get("format") == "json":
            import json

            report = view["report"] or {}
            body = {"differences": _all_rows(view), "totals": report.get("totals") or {},
                    "at": report.get("at"), "problems": report.get("problems") or []}
            return Response(200, "application/json", json.dumps(body, default=str), headers={
                **SECURITY_HEADERS, "Content-Disposition": 'attachment; filename="cwsync-reconciliation.json"'})
        return _page("reconciliation.html", deps, who, query, view=view)

    @app.post("/reconcile")
    def reconcile_now() -> Response:
        deps, who, _ = _posted(app, get_deps)
        deps.reconcile_trigger.invoke_async({"source": "cwsync.dashboard", "requestedBy": who})
        return _redirect("/reconciliation?" + urlencode({"done": "reconciliation"}))

    @app.get("/links")
    def links_page() -> Response:
        from cwsync.services.links import links_view

        deps = get_deps()
        who = _operator(app, deps, page=True)
        query = app.current_event.query_string_parameters or {}
        view = links_view(deps, kind=query.get("kind") or None, automatic_only=query.get("automatic") == "1",
                          search=(query.get("q") or "").strip()[:100] or None)
        return _page("links.html", deps, who, query, view=view)

    @app.post("/links")
    def link_action() -> Response:
        from cwsync.services import links

        deps, who, form = _posted(app, get_deps)
        action, kind, key = form.get("action"), form.get("kind") or "", form.get("key") or ""
        try:
            if action == LinkAction.CONFIRM:
                links.confirm(deps, kind, key, who, form.get("linkedAt"))
            elif action == LinkAction.UNDO:
                links.undo(deps, kind, key, who, form.get("reason") or "", form.get("linkedAt"))
            else:
                raise BadRequest("Choose Confirm or Undo on the Links page.", title="Unknown action")
        except links.LinkRefused as error:
            raise Refused(str(error)) from None
        logger.info("Operator link action", extra={"linkKind": kind, "action": action})
        back = {name: form[f"filter-{name}"] for name in ("kind", "automatic", "q") if form.get(f"filter-{name}")}
        return _redirect("/links?" + urlencode({**back, "done": f"link-{action}"}))

    @app.post("/tasks/<task_id>")
    def act(task_id: str) -> Response:
        deps, who, form = _posted(app, get_deps)
        action = form.get("action")
        if action not in ACTIONS:
            raise BadRequest("Choose one of the task's buttons.", title="Unknown action")
        try:
            if action == "sync":
                operator.start_sync(deps, task_id, who)
            elif action == "sync_again":
                operator.sync_again(deps, task_id, who)
            elif action == "ignore":
                operator.ignore(deps, task_id, form.get("reason") or "", who)
            else:
                operator.unignore(deps, task_id, who)
        except operator.ActionRefused as error:
            raise Refused(str(error)) from None
        logger.info("Operator action", extra={"taskId": task_id, "action": action})
        target = "/" if form.get("back") == "dashboard" else f"/tasks/{quote(task_id, safe='')}"
        return _redirect(f"{target}?{urlencode({'done': action})}")

    @app.route("/<path>", method=["PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"])
    def wrong_method(path: str) -> Response:
        raise BadRequest("Use the page's links and buttons.", title="Method not supported")

    @app.not_found
    def not_found(_exception: Exception) -> Response:
        return _error(NoSuchTask("There is no page at this address. Open the dashboard at /."))

    @app.exception_handler(SignInNeeded)
    def sign_in_first(needed: SignInNeeded) -> Response:
        return _redirect("/sign-in?" + urlencode({"next": needed.back}))

    @app.exception_handler(ApprovalError)
    def known_error(error: ApprovalError) -> Response:
        return _error(error)

    @app.exception_handler(Exception)
    def unexpected(error: Exception) -> Response:
        return _error(unexpected_failure("Dashboard", error, "nothing was changed"))

    return app


def _all_rows(view: dict) -> list:
    """Every difference matching the page's filters (the page itself shows the first ones)."""
    from cwsync.services.reconcile_view import filtered

    report = view["report"] or {}
    return filtered(list(report.get("differences") or []), kind=view["kind"], currency=view["currency"] or None,
                    search=view["search"] or None)


# --- access ----------------------------------------------------------------------------------

def _operator(app: APIGatewayHttpResolver, deps, *, page: bool = False) -> str:
    """Who is asking: the signed-in operator's e-mail (JWT claims), or the local operator. A
    `page` opened without one sends the browser to sign in and back; anything else is refused."""
    event = app.current_event
    context = event.raw_event.get("requestContext") or {}
    if deps.settings.operator_access == "loopback":
        source = ((context.get("http") or {}).get("sourceIp") or "")
        if source not in LOOPBACK:
            raise NotAllowed("The local dashboard answers only on this machine (127.0.0.1).")
        return "the local operator"
    who = ((context.get("authorizer") or {}).get("lambda") or {}).get("operator")
    if not who and page:
        query = event.raw_event.get("rawQueryString") or ""
        raise SignInNeeded(event.path + (f"?{query}" if query else ""))
    if not who:
        raise NotAllowed("Sign in as a cwsync operator to open the dashboard: open /sign-in.")
    return str(who)


def _form_token(deps, who: str, *, expires: int | None = None) -> str:
    expires = expires if expires is not None else int(deps.now().timestamp()) + FORM_TOKEN_SECONDS
    message = b"\n".join([FORM_TOKEN_CONTEXT, who.encode("utf-8"), str(expires).encode()])
    digest = hmac.new(deps.signing_key, message, hashlib.sha256).digest()
    return f"{expires}.{base64.urlsafe_b64encode(digest).rstrip(b'=').decode('ascii')}"


def _posted(app: APIGatewayHttpResolver, get_deps: Callable[[], Any]) -> tuple[Any, str, dict]:
    """(deps, operator, form) of a POST from the dashboard's own pages by a signed-in operator."""
    deps = get_deps()
    who = _operator(app, deps)
    return deps, who, _check_form(app, deps, who)


def _check_form(app: APIGatewayHttpResolver, deps, who: str) -> dict:
    """The POSTed form, once it is shown to come from this site's own pages."""
    event = app.current_event
    host = (event.headers.get("host") or "").lower()
    for header in ("origin", "referer"):
        value = event.headers.get(header)
        if value:
            if urlsplit(value).netloc.lower() != host:
                raise NotAllowed("This form was sent from another site, so nothing was changed.")
            break
    form = _form(event)
    token = form.get("csrf") or ""
    expires, _, _ = token.partition(".")
    if not expires.isdigit() or int(expires) < int(deps.now().timestamp()) or not hmac.compare_digest(
            token.encode("utf-8"), _form_token(deps, who, expires=int(expires)).encode("ascii")):
        raise LinkForged("The page was open too long or did not come from cwsync; reload it and try again.",
                         title="Please reload the page")
    return form


def _form(event) -> dict:
    raw = event.decoded_body or ""
    if len(raw.encode("utf-8")) > MAX_BODY_BYTES:
        raise BadRequest("The form is too large.")
    try:
        parsed = parse_qs(raw, keep_blank_values=True)
    except ValueError:
        raise BadRequest("The form data could not be read.") from None
    return {name: values[-1] for name, values in parsed.items()}


def _approval_link(deps, approval_id: Any) -> str | None:
    """The pending approval's own signed page (relative: same site)."""
    if not approval_id:
        return None
    approval = deps.store.get_approval(str(approval_id))
    if not approval or approval.get("status") != ApprovalStatus.PENDING or expires_epoch(approval) is None:
        return None
    return approval_url("", str(approval_id), expires_epoch(approval), deps.signing_key)


# --- responses -------------------------------------------------------------------------------

def _render(template: str, **values: Any) -> str:
    return render_page(template, **values)


def _page(template: str, deps, who: str, query: dict, **values: Any) -> Response:
    """A dashboard page for `who`: its forms carry their token, and `?done=` shows what was just done."""
    return _html(200, _render(template, who=who, sign_out=deps.settings.operator_access != "loopback",
                              form_token=_form_token(deps, who), notice=DONE_MESSAGES.get(query.get("done") or ""),
                              **values))


def _html(status: int, body: str) -> Response:
    return Response(status, "text/html; charset=utf-8", body, headers=dict(SECURITY_HEADERS))


def _redirect(location: str) -> Response:
    return Response(303, "text/plain; charset=utf-8", "", headers={**SECURITY_HEADERS, "Location": location})


def _error(error: ApprovalError) -> Response:
    from cwsync.sign_in import SignInFailed

    signing_in = isinstance(error, SignInFailed)
    return _html(error.status, _render("message.html", title=error.title, message=str(error), status=error.status,
                                       approval=None, home=None if signing_in else "/",
                                       sign_in="/sign-in" if signing_in else None))


def _shared_pool():
    from cwsync.adapters.cognito import shared_pool

    return shared_pool()


def _shared_deps():
    from cwsync.services.deps import Dependencies

    return Dependencies.shared()


app = create_app(_shared_deps)
