"""Approval links and pages: signing, verification, and what the approver sees.

A link names an approval by its random id and carries its expiry; both are signed with
HMAC-SHA256 under the key from the link-signing secret. The Step Functions task token
stays in DynamoDB and never appears in a link, a page, a log line or an exception.
Pages are Jinja2 templates with autoescaping on for every value, and work without
JavaScript: a form per decision, POSTing to the page's own URL.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Mapping
from urllib.parse import quote, urlencode

from cwsync.dates import parse_datetime
from cwsync.errors import ApprovalRejected, CwsyncError
from cwsync.observability import logger
from cwsync.vocabulary import (ACTION_LABELS, APPROVAL_KIND_LABELS as KIND_LABELS, EDITABLE_FIELDS, NUMERIC_FIELDS,
                               ApprovalKind, ApprovalStatus, DecidedBy, Decision, OptionId)

KINDS = tuple(ApprovalKind)
SIGNATURE_CONTEXT = b"cwsync-approval-link:v1"
DECIDED_BY = tuple(DecidedBy)


class ApprovalError(CwsyncError):
    """A request about an approval that cannot be served; `status` is the HTTP status."""

    status = 400
    title = "This request cannot be handled"

    def __init__(self, message: str, *, title: str | None = None):
        super().__init__(message)
        if title:
            self.title = title


class ServerFailure(ApprovalError):
    status = 500
    title = "Something went wrong"


def unexpected_failure(where: str, error: Exception, consequence: str) -> ServerFailure:
    """The answer to an error no handler expected: logged by its type only (its text may hold
    anything, even a secret), and shown as a plain sentence saying `consequence`."""
    logger.error(f"{where} failed", extra={"error": type(error).__name__})
    return ServerFailure(f"Something went wrong on our side; {consequence}. Try again in a minute.")


class BadRequest(ApprovalError):
    status = 400
    title = "This request is not valid"


class InvalidEdits(BadRequest):
    """Edits that cannot be used: `problems` (FieldProblem: key, field, message) and the
    submitted `changes`, so the page can be shown again with every edit kept."""

    title = "Some values cannot be used"

    def __init__(self, problems: list, changes: Mapping[str, Any]):
        super().__init__("Nothing was decided; correct these and approve again: "
                         + "; ".join(p.message for p in problems) + ".")
        self.problems = list(problems)
        self.changes = {k: dict(v) for k, v in changes.items() if isinstance(v, Mapping)}


class LinkForged(ApprovalError):
    status = 403
    title = "This link is not valid"


class ApprovalNotFound(ApprovalError):
    status = 404
    title = "No such approval"


class AlreadyDecided(ApprovalError):
    status = 409
    title = "Already decided"


class LinkExpired(ApprovalError):
    status = 410
    title = "This approval has expired"


# --- ids, signatures, links ----------------------------------------------------------------

def new_approval_id() -> str:
    """A random, URL-safe approval id (128 bits)."""
    return secrets.token_urlsafe(16)


def sign(key: bytes, approval_id: str, expires: int) -> str:
    """base64url(HMAC-SHA256(key, context ‖ id ‖ expiry)) without padding."""
    message = b"\n".join([SIGNATURE_CONTEXT, approval_id.encode("utf-8"), str(int(expires)).encode()])
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def approval_url(base_url: str, approval_id: str, expires: int, key: bytes) -> str:
    query = urlencode({"exp": str(int(expires)), "sig": sign(key, approval_id, expires)})
    return f"{base_url.rstrip('/')}/approvals/{quote(approval_id, safe='')}?{query}"


def verify_link(key: bytes, approval_id: str, sig: Any, exp: Any, *, now: datetime | None = None) -> int:
    """The link's expiry (epoch seconds) if the signature holds; LinkForged / LinkExpired if not.

    A link whose id or expiry was changed fails the signature (403) before its expiry is
    looked at, so a forged link never learns whether it would have been expired.
    """
    if not isinstance(sig, str) or not sig or not isinstance(exp, str) or not exp:
        raise LinkForged("The link is incomplete or has been changed. Open the link from the "
                         "notification again, without editing it.")
    if not _LINK_EXP.fullmatch(exp) or not _LINK_SIG.fullmatch(sig):
        raise BadRequest("The link is damaged (its exp or sig is not what cwsync writes). Open the link "
                         "from the notification again, without editing it.", title="This link cannot be read")
    expected = sign(key, approval_id, int(exp))
    if not hmac.compare_digest(expected.encode("ascii"), sig.encode("ascii")):
        raise LinkForged("The link's signature does not match. It may have been changed or "
                         "copied incompletely; open the link from the notification again.")
    expires = int(exp)
    if _epoch(now) >= expires:
        raise LinkExpired(f"The link expired on {format_time(expires)}. The task has been or will "
                          "be marked expired; it can be synced again with Sync again on its page in the cwsync dashboard.")
    return expires


_LINK_EXP = re.compile(r"[0-9]{1,12}")  # ASCII digits only: "²" is a digit to str.isdigit, not to int()
_LINK_SIG = re.compile(r"[A-Za-z0-9_-]{1,128}")  # base64url, as `sign` writes it


def _epoch(now: datetime | None) -> int:
    return int((now or datetime.now(timezone.utc)).timestamp())


def format_time(value: Any) -> str:
    """'2026-03-01 14:05 UTC' from epoch seconds or an ISO string."""
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.isdigit()):
        when = datetime.fromtimestamp(int(value), timezone.utc)
    elif isinstance(value, str) and value:
        try:
            when = parse_datetime(value)
        except ValueError:
            return value
    elif isinstance(value, datetime):
        when = value.astimezone(timezone.utc)
    else:
        return "" if value is None else str(value)
    return when.strftime("%Y-%m-%d %H:%M UTC")


def format_date(value: Any) -> str:
    if isinstance(value, str) and len(value) >= 10 and value[4:5] == "-":
        return value[:10]
    return "" if value is None else str(value)


# --- decisions -----------------------------------------------------------------------------

def parse_decision(approval: Mapping[str, Any], body: Mapping[str, Any], limits: Any = None,
                   connectwise: Any = None) -> dict:
    """Validate a POSTed decision against the approval; BadRequest says what is wrong.

    Returns `{"decision": "approve", "choice", "changes"}` or `{"decision": "reject", "reason"}`.
    A company found by search, a new company and a new catalog item are checked with `connectwise`
    (the port, or a function returning it; cwsync.wizard_forms); InvalidEdits lists every field that
    cannot be used.
    """
    from cwsync.wizard_forms import found_choice, new_record_changes

    body = found_choice(approval, dict(body))
    decision = body.get("decision")
    if decision not in tuple(Decision):
        raise BadRequest("Say whether you approve or reject: decision must be 'approve' or 'reject'.")
    if decision == Decision.REJECT:
        reason = body.get("reason") or "Rejected by the approver"
        if not isinstance(reason, str):
            raise BadRequest("The reason for rejecting should be text.")
        return {"decision": Decision.REJECT, "reason": reason.strip()[:500] or "Rejected by the approver"}

    options = approval.get("options") or []
    choice = body.get("choice")
    if not choice and len([o for o in options if o.get("eligible")]) == 1 and approval.get("kind") == ApprovalKind.CONFIRM:
        choice = next(o["id"] for o in options if o.get("eligible"))
    if not isinstance(choice, str) or not choice:
        raise BadRequest("Choose one of the options before approving.")
    option = next((o for o in options if str(o.get("id")) == choice), None)
    if option is None:
        raise BadRequest(f"The option {choice!r} is not one of this approval's options.")
    if not option.get("eligible", True):
        raise BadRequest(f"{option.get('label') or choice} cannot be chosen: "
                         f"{option.get('reason') or 'it is not eligible'}.")
    changes = body.get("changes") or {}
    if not isinstance(changes, Mapping):
        raise BadRequest("changes should be an object of {operation key: {field: value}}.")
    if approval.get("kind") in (ApprovalKind.CUSTOMER, ApprovalKind.PRODUCT):
        accepted = new_record_changes(approval, choice, changes, connectwise, limits)
    else:
        accepted = validate_changes(approval, changes, limits)
    decision = {"decision": Decision.APPROVE, "choice": choice, "changes": accepted}
    if body.get("decidedBy") in DECIDED_BY:  # an automatic approver says so; links it makes are marked so
        decision["decidedBy"] = body["decidedBy"]
    return decision


def validate_changes(approval: Mapping[str, Any], changes: Mapping[str, Any], limits: Any = None) -> dict:
    """Keep only edits that differ from the plan, on fields an approver may change.

    Every value follows the plausibility rules (cwsync.domain.plausibility) and the form's
    own checks (cwsync.confirm_form); one InvalidEdits lists every field that breaks one, so
    nothing is decided until all are right, and the page can show each next to its field.
    """
    from cwsync.confirm_form import validate

    if not changes:
        return {}
    try:
        result, problems = validate(approval.get("plan") or {}, changes, limits)
    except ValueError as error:
        raise BadRequest(str(error)) from None
    if problems:
        raise InvalidEdits(problems, changes)
    return result


def form_to_body(form: Mapping[str, list[str]]) -> dict:
    """An HTML form (`changes.<op key>.<field>` names) as the JSON body shape."""
    body: dict[str, Any] = {}
    changes: dict[str, dict[str, str]] = {}
    for name, values in form.items():
        value = values[-1] if values else ""
        if name.startswith("changes."):
            key, _, field = name[len("changes."):].rpartition(".")
            if key and field:
                changes.setdefault(key, {})[field] = value
        else:
            body[name] = value
    if changes:
        body["changes"] = changes
    return body


# --- views and pages -----------------------------------------------------------------------

def public_view(approval: Mapping[str, Any], now: datetime | None = None) -> dict:
    """The JSON form of an approval (`?format=json`): never the token."""
    return {
        "id": approval.get("id") or approval.get("approvalId"),
        "kind": approval.get("kind"),
        "status": effective_status(approval, now),
        "title": approval.get("title"),
        "explanation": approval.get("explanation"),
        "task": approval.get("task") or {},
        "options": [
            {"id": str(o.get("id")), "label": o.get("label"), "eligible": bool(o.get("eligible", True)),
             "reason": o.get("reason") or ""}
            for o in approval.get("options") or []
        ],
        "recommended": approval.get("recommended"),
        "plan": approval.get("plan"),
        "proposal": approval.get("proposal"),
        "expiresAt": approval.get("expiresAt"),
        "decision": _public_decision(approval.get("decision")),
    }


def _public_decision(decision: Any) -> dict | None:
    if not isinstance(decision, Mapping):
        return None
    return {k: decision.get(k) for k in ("decision", "choice", "changes", "reason", "decidedAt") if k in decision}


def effective_status(approval: Mapping[str, Any], now: datetime | None = None) -> str:
    status = approval.get("status") or ApprovalStatus.PENDING
    if status == ApprovalStatus.PENDING and expires_epoch(approval) is not None and _epoch(now) >= expires_epoch(approval):
        return ApprovalStatus.EXPIRED
    return status


def expires_epoch(approval: Mapping[str, Any]) -> int | None:
    value = approval.get("expires")
    if value is not None:
        return int(value)
    at = approval.get("expiresAt")
    if isinstance(at, str) and at:
        return int(parse_datetime(at).timestamp())
    return None


@lru_cache(maxsize=1)
def _environment():
    from jinja2 import ChainableUndefined, Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("cwsync", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=ChainableUndefined,  # optional summary fields may be absent
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = format_time
    env.filters["money"] = _money
    env.filters["day"] = format_date
    return env


def _money(amount: Any, currency: str | None = None, sign: bool = False) -> str:
    """An amount rounded to the currency ('12.50'); with `sign`, '+12.50' for an increase."""
    from cwsync.domain.money import format_money, to_decimal

    value = to_decimal(amount if amount is not None else 0)
    text = format_money(value, currency or None)
    return f"+{text}" if sign and value > 0 else text


def render_page(template: str, **values: Any) -> str:
    """Any cwsync page template (autoescaped), e.g. the dashboard's."""
    return _environment().get_template(template).render(**values)


def render_approval_page(approval: Mapping[str, Any], *, action: str, sig: str, exp: str,
                         now: datetime | None = None, edits: Mapping[str, Any] | None = None,
                         problems: list | None = None, nonce: str | None = None, search: Mapping | None = None,
                         chosen: str | None = None) -> str:
    """The approval page: task, options (with reasons), the editable plan for `confirm`,
    approve/reject forms. `edits`/`problems`: a refused submission shown again, every edit kept."""
    from cwsync.confirm_form import amounts, operation_rows
    from cwsync.wizard_forms import form_view

    view = public_view(approval, now)
    plan = view.get("plan") or {}
    rows = operation_rows(plan, edits, problems, ACTION_LABELS) if plan else []
    anchors = {(op["key"], f["name"]): f["id"] for op in rows for f in op["inputs"]}
    new_record = form_view(approval, edits, problems)
    anchors.update({(new_record["form"], f["name"]): f["id"] for f in (new_record or {}).get("fields", [])})
    anchors[("search", "query")] = "search-query"
    problem_links = [{"message": p.message, "anchor": anchors.get((p.key, p.field), "plan")} for p in problems or []]
    options = view.get("options") or []
    eligible = [o for o in options if o.get("eligible")]
    only_check_again = len(eligible) == 1 and eligible[0]["id"] == OptionId.CHECK_AGAIN
    return _environment().get_template("approval.html").render(
        approval=view, operations=rows, action=action, sig=sig, exp=exp, nonce=nonce, new_record=new_record,
        search=search, chosen=chosen, special=(OptionId.CREATE_COMPANY, OptionId.FOUND_COMPANY),
        pending=view["status"] == ApprovalStatus.PENDING, kind_label=KIND_LABELS.get(view["kind"], view["kind"]),
        totals=amounts(plan, edits) if plan else None, problems=problem_links,
        approve_label="Check again" if only_check_again else APPROVE_LABELS.get(view["kind"], "Approve"),
        period=PERIOD_WORDS.get(str((view.get("task") or {}).get("billingCycle")), "billing period"),
    )


def render_message_page(title: str, message: str, *, status: int = 200,
                        approval: Mapping[str, Any] | None = None, now: datetime | None = None,
                        follow: str | None = None, nonce: str | None = None) -> str:
    """A short page: an outcome ('Approved') or an error ('This link is not valid'); `follow`:
    the address of the task's next step, linked, and (with a script `nonce`) asked for every
    2 s and opened when ready, until the reader chooses to stay (no timed reload)."""
    return _environment().get_template("message.html").render(
        title=title, message=message, status=status, follow=follow, nonce=nonce,
        approval=public_view(approval, now) if approval else None,
    )


def _operation_dates(fields: Mapping[str, Any]) -> str:
    parts = []
    if fields.get("effectiveDate"):
        parts.append(f"from {format_date(fields['effectiveDate'])}")
    if fields.get("cancelledDate"):
        parts.append(f"cancelled {format_date(fields['cancelledDate'])}")
    return ", ".join(parts)


PERIOD_WORDS = {"Monthly": "month", "Quarterly": "quarter", "SemiAnnual": "half-year", "Yearly": "year"}
APPROVE_LABELS = {
    ApprovalKind.CUSTOMER: "Link the chosen company",
    ApprovalKind.PRODUCT: "Use the chosen product",
    ApprovalKind.AGREEMENT: "Use the chosen agreement",
    ApprovalKind.CONFIRM: "Write these changes to ConnectWise",
}


def pass_on_decision(resumer: Any, token: str, approval: Mapping[str, Any], decision: Mapping[str, Any]) -> None:
    """Hand a recorded decision to the execution waiting on `token` (SendTaskSuccess, or
    SendTaskFailure with `ApprovalRejected` for a rejection). Raises what the resumer raises."""
    if decision.get("decision") == Decision.APPROVE:
        resumer.succeed(token, {"decision": Decision.APPROVE, "choice": decision.get("choice"),
                                "changes": decision.get("changes") or {}, "approvalId": approval.get("approvalId"),
                                "decidedBy": decision.get("decidedBy") or DecidedBy.PERSON})
    else:
        resumer.fail(token, ApprovalRejected.__name__, decision.get("reason") or "Rejected by the approver")
