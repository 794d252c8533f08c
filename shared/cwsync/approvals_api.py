"""The approvals API (HTTP API v2 → Powertools `APIGatewayHttpResolver`).

GET  /approvals/{id}?exp=…&sig=…  shows the approval (HTML, or JSON with `format=json`
                                 or `Accept: application/json`); never changes anything.
POST /approvals/{id}              decides once: form fields or JSON
                                 `{"sig", "exp", "decision", "choice", "changes", "reason"}`.
Statuses: 400 bad request or wrong method, 403 forged/tampered link, 404 unknown approval,
409 already decided, 410 expired. The task token is read from DynamoDB only to resume the
execution; it never reaches a page, a URL, a log line or an exception.
"""
from __future__ import annotations

import json
import secrets
from typing import Any, Callable, Mapping
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from cwsync.approvals import (AlreadyDecided, ApprovalError, ApprovalNotFound, BadRequest, InvalidEdits, LinkExpired,
                              approval_url, effective_status, expires_epoch, form_to_body, parse_decision,
                              pass_on_decision, public_view, render_approval_page, render_message_page,
                              unexpected_failure, verify_link)
from cwsync.config import plausibility_limits
from cwsync.observability import logger
from cwsync.errors import TaskNotWaiting, TransientError
from cwsync.vocabulary import FINAL_STATUSES, ApprovalKind, ApprovalStatus, Decision
from cwsync.wizard_forms import chosen_label, search_view

MAX_BODY_BYTES = 64 * 1024
WRONG_METHODS = ["PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": ("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                                "frame-ancestors 'none'; base-uri 'none'"),
    # same-origin, not no-referrer: under no-referrer a browser sends `Origin: null` with the page's own
    # form, and the cross-site check below could not tell it from a sandboxed page of another site.
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


def create_app(get_deps: Callable[[], Any]) -> APIGatewayHttpResolver:
    """The resolver, wired to `get_deps()` (called per request; cheap after the first)."""
    app = APIGatewayHttpResolver()

    @app.get("/approvals/<approval_id>")
    def show(approval_id: str) -> Response:
        deps = get_deps()
        query = app.current_event.query_string_parameters or {}
        verify_link(deps.signing_key, approval_id, query.get("sig"), query.get("exp"), now=deps.now())
        approval = _load(deps, approval_id)
        status = effective_status(approval, deps.now())
        search = None
        if approval.get("kind") == ApprovalKind.CUSTOMER and query.get("q") and status == ApprovalStatus.PENDING:
            search = search_view(deps.connectwise, query.get("q"))  # every company whose name or identifier has it
        if _wants_json(app):
            return _json(200, {**public_view(approval, deps.now()), **({"search": search} if search else {})})
        if query.get("next") == "1" and status == ApprovalStatus.DECIDED:
            return _next_step(deps, approval, query)
        if status == ApprovalStatus.EXPIRED:
            raise LinkExpired("This approval has expired; nothing can be decided here any more.")
        nonce = secrets.token_urlsafe(16)
        return _html(200, render_approval_page(approval, action=f"./{quote(approval_id, safe='')}",
                                               sig=query["sig"], exp=query["exp"], now=deps.now(), nonce=nonce,
                                               search=search), nonce=nonce)

    @app.post("/approvals/<approval_id>")
    def decide(approval_id: str) -> Response:
        deps = get_deps()
        _refuse_other_sites(app.current_event, deps)
        body = _body(app)
        query = app.current_event.query_string_parameters or {}
        sig, exp = body.get("sig") or query.get("sig"), body.get("exp") or query.get("exp")
        verify_link(deps.signing_key, approval_id, sig, str(exp) if exp is not None else None, now=deps.now())
        approval = _load(deps, approval_id)
        _ensure_pending(approval, deps)
        try:
            decision = parse_decision(approval, body, plausibility_limits(deps.settings),
                                      connectwise=lambda: deps.connectwise)
        except InvalidEdits as refused:
            if _wants_json(app):
                raise
            nonce = secrets.token_urlsafe(16)  # the page again, every edit kept, every problem at its field
            return _html(400, render_approval_page(approval, action=f"./{quote(approval_id, safe='')}",
                                                   sig=str(sig), exp=str(exp), now=deps.now(), nonce=nonce,
                                                   edits=refused.changes, problems=refused.problems,
                                                   chosen=str(body.get("choice") or "")),
                         nonce=nonce)
        decision["decidedAt"] = deps.now().isoformat().replace("+00:00", "Z")
        if not deps.store.decide_approval(approval_id, decision):
            _ensure_pending(_load(deps, approval_id), deps)  # raises 409 or 410
            raise AlreadyDecided("This approval was decided by someone else a moment ago.")
        _resume(deps, approval, decision)
        logger.info("Approval decided", extra={"approvalId": approval_id, "kind": approval.get("kind"),
                                               "decision": decision["decision"], "taskId": approval.get("taskId")})
        decided = {**approval, "status": ApprovalStatus.DECIDED, "decision": decision}
        if _wants_json(app):
            return _json(200, public_view(decided, deps.now()))
        if decision["decision"] == Decision.APPROVE:
            label = chosen_label(approval, decision)
            title, message = "Approved", (f"You chose: {label}. The sync continues; the next step opens here by "
                                          "itself when it needs you.")
            follow = _next_url(approval_id, sig, exp)
        else:
            title, message = "Rejected", f"The task was rejected ({decision['reason']}); nothing changes in ConnectWise."
            follow = None
        nonce = secrets.token_urlsafe(16) if follow else None  # the script that follows the task
        return _html(200, render_message_page(title, message, approval=decided, now=deps.now(), follow=follow,
                                              nonce=nonce), nonce=nonce, fetches=bool(follow))

    @app.route("/approvals/<approval_id>", method=WRONG_METHODS)
    def wrong_method(approval_id: str) -> Response:
        raise BadRequest(f"{app.current_event.http_method} is not supported here: open the link (GET) to see "
                         "the approval and use its buttons (POST) to decide.", title="Method not supported")

    @app.not_found
    def not_found(_exception: Exception) -> Response:
        return _error(app, ApprovalNotFound("There is no page at this address."))

    @app.exception_handler(ApprovalError)
    def approval_error(error: ApprovalError) -> Response:
        return _error(app, error)

    @app.exception_handler(Exception)
    def unexpected(error: Exception) -> Response:
        return _error(app, unexpected_failure("Approvals API", error, "nothing was decided"))

    return app


# --- after a decision: the same task's next step ---------------------------------------------

def _next_url(approval_id: str, sig: Any, exp: Any) -> str:
    return f"./{quote(approval_id, safe='')}?" + urlencode({"exp": str(exp), "sig": str(sig), "next": "1"})


def _next_step(deps, approval: Mapping[str, Any], query: Mapping[str, str]) -> Response:
    """The task's next pending approval (its own signed page), its outcome, or "working on it"."""
    task_id = str(approval.get("taskId"))
    pending = [a for a in deps.store.list_approvals(task_id=task_id, status=ApprovalStatus.PENDING)
               if a.get("approvalId") != approval.get("approvalId") and expires_epoch(a)]
    decision = approval.get("decision") or {}
    label = chosen_label(approval, decision)
    if pending:
        following = pending[0]
        link = approval_url("", str(following["approvalId"]), expires_epoch(following), deps.signing_key)
        return Response(303, "text/plain; charset=utf-8", "", headers={**SECURITY_HEADERS, "Location": "." + link[len("/approvals"):]})
    task = deps.store.get_task(task_id) or {}
    status = str(task.get("status") or "")
    if status in FINAL_STATUSES:
        from cwsync.services.operator import status_label

        return _html(200, render_message_page(status_label(status), str(task.get("reason") or ""),
                                              approval=approval, now=deps.now()))
    nonce = secrets.token_urlsafe(16)
    return _html(200, render_message_page(
        "Approved", f"You chose: {label}. cwsync is working on the next step; this page follows it by itself.",
        approval=approval, now=deps.now(), follow=_next_url(str(approval.get("approvalId")), query.get("sig"),
                                                            query.get("exp")), nonce=nonce),
                 nonce=nonce, fetches=True)


# --- helpers ---------------------------------------------------------------------------------

def _load(deps, approval_id: str) -> dict:
    approval = deps.store.get_approval(approval_id)
    if approval is None:
        raise ApprovalNotFound("There is no such approval. It may have been removed after it expired.")
    approval.setdefault("id", approval.get("approvalId"))
    return approval


def _ensure_pending(approval: Mapping[str, Any], deps) -> None:
    status = effective_status(approval, deps.now())
    if status == ApprovalStatus.DECIDED:
        raise AlreadyDecided("This approval has already been decided; the first decision counts.")
    if status == ApprovalStatus.EXPIRED:
        raise LinkExpired("This approval has expired; nothing can be decided here any more.")
    if status != ApprovalStatus.PENDING:
        raise AlreadyDecided(f"This approval is {status}; nothing more can be decided.")
    exp = expires_epoch(approval)
    if exp is not None and int(deps.now().timestamp()) >= exp:
        raise LinkExpired("This approval has expired; nothing can be decided here any more.")


def _resume(deps, approval: Mapping[str, Any], decision: Mapping[str, Any]) -> None:
    """SendTaskSuccess / SendTaskFailure; a token Step Functions no longer waits for → 410."""
    from cwsync.adapters.stepfunctions import TaskResumer

    token = approval.get("token")
    resumer = TaskResumer(deps.stepfunctions)
    try:
        pass_on_decision(resumer, token, approval, decision)
    except (TaskNotWaiting, TransientError) as error:
        code = getattr(error, "code", "")
        logger.warning("Could not resume the task", extra={"approvalId": approval.get("approvalId"), "code": code})
        approval_id = str(approval.get("approvalId"))
        if isinstance(error, TaskNotWaiting):
            deps.store.settle_decided_approval(approval_id, ApprovalStatus.EXPIRED)  # later clicks: 410, not 409
            raise LinkExpired("The task stopped waiting for this approval (it timed out or was stopped), so "
                              "the decision was not used. The task is or will be marked expired.") from None
        deps.store.settle_decided_approval(approval_id, ApprovalStatus.PENDING)  # nothing was delivered: decide again
        failure = ApprovalError("Your decision could not be passed on to the sync, so nothing was decided; "
                                "try again in a minute, or tell the cwsync operator if it keeps failing.",
                                title="The sync could not be resumed")
        failure.status = 503
        raise failure from None


class OtherSite(ApprovalError):
    status = 403
    title = "Sent from another site"


def _refuse_other_sites(event, deps) -> None:
    """A decision must come from the approval page itself (or from a tool that sends no Origin or
    Referer): a browser POST whose Origin or Referer names another site is refused."""
    claimed = event.headers.get("origin") or event.headers.get("referer")
    if not claimed:
        return
    own = {(event.headers.get("host") or "").strip().lower()}
    base_url = getattr(deps.settings, "approvals_base_url", None)
    if base_url:
        own.add(urlsplit(base_url).netloc.lower())
    try:
        named = urlsplit(claimed.strip()).netloc.lower() if claimed.strip() != "null" else ""
    except ValueError:
        named = ""
    if not named or named not in own:
        raise OtherSite("This decision was sent from another web site, so nothing was decided. Open the link "
                        "from the notification and decide on its page.")


def _body(app: APIGatewayHttpResolver) -> dict:
    event = app.current_event
    try:
        raw = event.decoded_body or ""  # Powertools undoes API Gateway's base64
        size = len(raw.encode("utf-8"))
    except (ValueError, UnicodeError):
        raise BadRequest("The request body could not be read: send it as UTF-8 text (a form or JSON).") from None
    if size > MAX_BODY_BYTES:
        raise BadRequest("The request body is too large.")
    content_type = (event.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type == "application/json" or (not content_type and raw.lstrip().startswith("{")):
        try:
            body = json.loads(raw or "{}")
        except (ValueError, RecursionError):
            raise BadRequest("The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise BadRequest("The request body should be a JSON object.")
        return body
    if content_type in ("application/x-www-form-urlencoded", "") :
        try:
            return form_to_body(parse_qs(raw, keep_blank_values=True, strict_parsing=bool(raw)))
        except ValueError:
            raise BadRequest("The form data could not be read.") from None
    raise BadRequest(f"Send the decision as a form or as JSON, not {content_type}.")


def _wants_json(app: APIGatewayHttpResolver) -> bool:
    event = app.current_event
    query = event.query_string_parameters or {}
    if query.get("format") == "json":
        return True
    accept = (event.headers.get("accept") or "").lower()  # Powertools' headers ignore case
    return "application/json" in accept and "text/html" not in accept


def _json(status: int, body: Any) -> Response:
    return Response(status, "application/json", json.dumps(body, default=str), headers=dict(SECURITY_HEADERS))


def _html(status: int, body: str, *, nonce: str | None = None, fetches: bool = False) -> Response:
    headers = dict(SECURITY_HEADERS)
    if nonce:  # the confirm page's totals preview, the decided page's follower; nothing else may run
        headers["Content-Security-Policy"] += f"; script-src 'nonce-{nonce}'"
    if fetches:  # the follower asks this site (only) for the next step
        headers["Content-Security-Policy"] += "; connect-src 'self'"
    return Response(status, "text/html; charset=utf-8", body, headers=headers)


def _error(app: APIGatewayHttpResolver, error: ApprovalError) -> Response:
    try:
        wants_json = _wants_json(app)
    except Exception:
        wants_json = False
    if wants_json:
        return _json(error.status, {"error": {"status": error.status, "title": error.title, "message": str(error)}})
    return _html(error.status, render_message_page(error.title, str(error), status=error.status))


def _shared_deps():
    from cwsync.services.deps import Dependencies

    return Dependencies.shared()


app = create_app(_shared_deps)
