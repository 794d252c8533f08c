"""Approval links and pages: signing, verification, decisions, escaping (no AWS)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest

from cwsync import approvals
from cwsync.approvals import (BadRequest, LinkExpired, LinkForged, approval_url, new_approval_id,
                              parse_decision, render_approval_page, render_message_page, sign, verify_link)

KEY = b"k" * 32
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
LATER = int((NOW + timedelta(days=7)).timestamp())
EVIL = "<script>alert(1)</script> & \"O'Brien\""


def approval(**overrides):
    record = {
        "approvalId": "abc123", "id": "abc123", "kind": "customer", "status": "pending",
        "title": f"Choose the ConnectWise company for {EVIL} (order SO000012)",
        "explanation": "No company has that name",
        "task": {"taskId": "T1", "orderNumber": "SO000012", "customerName": EVIL, "customerId": "1000048531",
                 "taskTypeLabel": "Sales Order (new subscription)", "products": [f"{EVIL} (MPN-1) × 10"]},
        "options": [
            {"id": "17", "label": EVIL, "eligible": True, "reason": "Name is 90% similar"},
            {"id": "18", "label": "Old Green Lane", "eligible": False, "reason": "Company is inactive"},
        ],
        "recommended": "17", "plan": None, "expiresAt": "2026-03-08T12:00:00.000Z", "token": "SECRET-TOKEN",
    }
    record.update(overrides)
    return record


def confirm_approval():
    plan = {"currency": "USD", "agreementId": 12, "summary": "10 → 12 licences", "total": "12.00",
            "operations": [
                {"key": "create-addition:MP-SUB-1-CH1", "action": "create_addition", "agreementId": 12,
                 "fields": {"quantity": "12", "unitPrice": "6.00", "unitCost": "4.80", "description": "M365 <b>",
                            "effectiveDate": "2026-02-15T00:00:00Z"}, "explanation": "New quantity"},
                {"key": "cancel-addition:5", "action": "cancel_addition", "agreementId": 12,
                 "fields": {"cancelledDate": "2026-02-15T00:00:00Z"}, "explanation": "Old addition ends"},
            ]}
    return approval(kind="confirm", plan=plan, recommended="apply",
                    options=[{"id": "apply", "label": "Apply these changes", "eligible": True, "reason": ""}])


# --- signing -------------------------------------------------------------------------------

def test_a_signed_link_verifies_and_returns_its_expiry():
    assert verify_link(KEY, "abc123", sign(KEY, "abc123", LATER), str(LATER), now=NOW) == LATER


def test_a_link_carries_id_expiry_and_signature_but_no_token():
    url = approval_url("https://api.example.com/", "abc123", LATER, KEY)
    parts = urlsplit(url)
    assert parts.path == "/approvals/abc123"
    query = parse_qs(parts.query)
    assert query["exp"] == [str(LATER)]
    assert query["sig"] == [sign(KEY, "abc123", LATER)]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", query["sig"][0])  # base64url, no padding


def test_a_forged_signature_is_refused_with_403():
    with pytest.raises(LinkForged) as caught:
        verify_link(KEY, "abc123", sign(b"x" * 32, "abc123", LATER), str(LATER), now=NOW)
    assert caught.value.status == 403


@pytest.mark.parametrize("approval_id, exp", [("abc124", LATER), ("abc123", LATER + 3600)])
def test_a_link_whose_id_or_expiry_was_changed_is_refused_with_403(approval_id, exp):
    with pytest.raises(LinkForged):
        verify_link(KEY, approval_id, sign(KEY, "abc123", LATER), str(exp), now=NOW)


@pytest.mark.parametrize("sig, exp", [(None, str(LATER)), ("", str(LATER)), ("abc", None), ("abc", "")])
def test_an_incomplete_link_is_refused_with_403(sig, exp):
    with pytest.raises(LinkForged):
        verify_link(KEY, "abc123", sig, exp, now=NOW)


@pytest.mark.parametrize("sig, exp", [("abc", "-5"), ("abc", "1e9"), ("abc", "9" * 40), ("abc", "\u00b2"),
                                      ("abc", "\u0663"), ("abc", " 12"), ("a b", str(LATER)), ("\u00e9", str(LATER)),
                                      ("x" * 200, str(LATER)), ("abc\x00", str(LATER))])
def test_a_damaged_link_is_refused_with_400_and_a_plain_message(sig, exp):
    with pytest.raises(BadRequest) as caught:
        verify_link(KEY, "abc123", sig, exp, now=NOW)
    assert caught.value.status == 400 and "Open the link from the notification again" in str(caught.value)


def test_an_expired_link_is_refused_with_410_only_when_its_signature_holds():
    past = int((NOW - timedelta(seconds=1)).timestamp())
    with pytest.raises(LinkExpired) as caught:
        verify_link(KEY, "abc123", sign(KEY, "abc123", past), str(past), now=NOW)
    assert caught.value.status == 410
    with pytest.raises(LinkForged):
        verify_link(KEY, "abc123", "forged", str(past), now=NOW)


def test_approval_ids_are_random_and_url_safe():
    ids = {new_approval_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{20,}", i) for i in ids)


# --- decisions -----------------------------------------------------------------------------

def test_approving_an_eligible_option_is_accepted():
    assert parse_decision(approval(), {"decision": "approve", "choice": "17"}) == \
        {"decision": "approve", "choice": "17", "changes": {}}


def test_choosing_an_ineligible_option_is_refused_and_says_why():
    with pytest.raises(BadRequest, match="Company is inactive"):
        parse_decision(approval(), {"decision": "approve", "choice": "18"})


@pytest.mark.parametrize("body, message", [
    ({"decision": "approve", "choice": "99"}, "not one of"),
    ({"decision": "approve"}, "Choose one"),
    ({"decision": "maybe"}, "approve' or 'reject"),
    ({}, "approve' or 'reject"),
])
def test_unknown_or_missing_choices_are_refused(body, message):
    with pytest.raises(BadRequest, match=message):
        parse_decision(approval(), body)


def test_a_rejection_carries_the_approvers_reason():
    assert parse_decision(approval(), {"decision": "reject", "reason": " wrong customer "}) == \
        {"decision": "reject", "reason": "wrong customer"}
    assert parse_decision(approval(), {"decision": "reject"})["reason"] == "Rejected by the approver"


def test_confirm_edits_keep_only_changed_editable_fields():
    body = {"decision": "approve", "choice": "apply",
            "changes": {"create-addition:MP-SUB-1-CH1": {"quantity": "11", "unitPrice": "6.00"}}}
    assert parse_decision(confirm_approval(), body)["changes"] == {"create-addition:MP-SUB-1-CH1": {"quantity": "11"}}


@pytest.mark.parametrize("row, product", [
    ({"mpn": "M365-BUSBASIC-P1M"}, "the marketplace product the plan keeps with the row"),
    ({"mpn": "M365-BUSBASIC-P1M", "fields": {"product": {"id": 701, "identifier": "M365-BB"}}},
     "a row whose ConnectWise identifier differs from the MPN"),
    ({"fields": {"product": {"id": 701, "identifier": "M365-BUSBASIC-P1M"}}}, "an older plan naming only the identifier"),
])
def test_the_per_product_quantity_maximum_applies_to_every_addition_row_on_the_confirm_form(row, product):
    from cwsync.domain.plausibility import Limits

    approval_record = confirm_approval()
    operation = approval_record["plan"]["operations"][0]
    operation["fields"] = {**operation["fields"], **row.get("fields", {})}
    operation.update({k: v for k, v in row.items() if k != "fields"})
    limits = Limits(max_quantity=10000, max_quantity_by_product={"M365-BUSBASIC-P1M": 20})
    too_many = {"decision": "approve", "choice": "apply", "changes": {operation["key"]: {"quantity": "21"}}}
    with pytest.raises(BadRequest) as refused:
        parse_decision(approval_record, too_many, limits)
    assert "20" in str(refused.value), product
    allowed = {"decision": "approve", "choice": "apply", "changes": {operation["key"]: {"quantity": "20"}}}
    assert parse_decision(approval_record, allowed, limits)["changes"] == {operation["key"]: {"quantity": "20"}}


@pytest.mark.parametrize("changes, message", [
    ({"create-addition:MP-SUB-1-CH1": {"quantity": "eleven"}}, "is not a plain finite number"),
    ({"create-addition:MP-SUB-1-CH1": {"quantity": "-1"}}, "is negative"),
    ({"create-addition:MP-SUB-1-CH1": {"quantity": "2.5"}}, "is not a whole number"),
    ({"create-addition:MP-SUB-1-CH1": {"unitPrice": "1e309"}}, "more than 9 digits"),
    ({"create-addition:MP-SUB-1-CH1": {"unitPrice": "1e999999"}}, "more than 9 digits"),
    ({"create-addition:MP-SUB-1-CH1": {"unitPrice": "-0"}}, "is negative"),
    ({"create-addition:MP-SUB-1-CH1": {"serialNumber": "X"}}, "cannot be changed"),
    ({"cancel-addition:5": {"cancelledDate": "2026-01-01"}}, "cannot be changed"),
    ({"nope": {"quantity": "1"}}, "not in the plan"),
])
def test_invalid_confirm_edits_are_refused(changes, message):
    with pytest.raises(BadRequest, match=message):
        parse_decision(confirm_approval(), {"decision": "approve", "choice": "apply", "changes": changes})


def test_every_wrong_field_is_listed_in_plain_names_in_one_answer():
    changes = {"create-addition:MP-SUB-1-CH1": {"quantity": "1.5", "unitPrice": "1e999999", "unitCost": "abc"}}
    with pytest.raises(BadRequest) as refused:
        parse_decision(confirm_approval(), {"decision": "approve", "choice": "apply", "changes": changes})
    message = str(refused.value)
    assert message.startswith("Nothing was decided")
    for words in ("Quantity of row 1", "Unit price of row 1", "Unit cost of row 1"):
        assert words in message
    assert "Decimal" not in message and "InvalidOperation" not in message and "unitPrice" not in message


def test_form_fields_become_the_json_decision_shape():
    form = {"sig": ["s"], "exp": ["1"], "decision": ["approve"], "choice": ["apply"],
            "changes.create-addition:MP.SUB.1.quantity": ["11"]}
    assert approvals.form_to_body(form) == {"sig": "s", "exp": "1", "decision": "approve", "choice": "apply",
                                            "changes": {"create-addition:MP.SUB.1": {"quantity": "11"}}}


# --- pages ---------------------------------------------------------------------------------

class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.text, self.tags, self.inputs = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "input":
            self.inputs.append(dict(attrs))

    def handle_data(self, data):
        self.text.append(data)


def parse(html):
    parser = _Text()
    parser.feed(html)
    return parser


def test_the_page_shows_every_value_escaped():
    html = render_approval_page(approval(), action="./abc123", sig="SIG", exp=str(LATER), now=NOW)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;O&#39;Brien&#34;" in html
    page = parse(html)
    assert "script" not in page.tags
    assert EVIL in "".join(page.text)  # what the approver reads is the name as typed


def test_the_page_offers_options_with_reasons_and_disables_ineligible_ones():
    page = parse(render_approval_page(approval(), action="./abc123", sig="SIG", exp=str(LATER), now=NOW))
    radios = {i["value"]: i for i in page.inputs if i.get("type") == "radio"}
    assert set(radios) == {"17", "18"}
    assert "disabled" in radios["18"] and "disabled" not in radios["17"]
    assert "checked" in radios["17"]
    text = " ".join("".join(page.text).split())
    assert "Not possible: Company is inactive" in text
    assert "Name is 90% similar" in text and "recommended" in text


def test_the_page_forms_carry_signature_and_expiry_and_never_the_token():
    html = render_approval_page(approval(), action="./abc123", sig="SIG", exp=str(LATER), now=NOW)
    hidden = [i for i in parse(html).inputs if i.get("type") == "hidden"]
    assert {("sig", "SIG"), ("exp", str(LATER))} <= {(i["name"], i["value"]) for i in hidden}
    assert html.count('method="post"') == 2  # approve and reject
    assert "SECRET-TOKEN" not in html and "token" not in html.lower()


def test_the_page_works_without_javascript():
    html = render_approval_page(confirm_approval(), action="./abc123", sig="SIG", exp=str(LATER), now=NOW)
    assert "<script" not in html.lower() and "onclick" not in html.lower() and "javascript:" not in html.lower()


def test_the_confirm_page_shows_the_plan_with_every_field_of_an_addition_editable_and_labelled():
    html = render_approval_page(confirm_approval(), action="./abc123", sig="SIG", exp=str(LATER), now=NOW)
    page = parse(html)
    text = " ".join("".join(page.text).split())
    assert "Row 1: Add addition" in text and "Row 2: Cancel addition" in text and "Old addition ends" in text
    fields = {i["name"]: i.get("value") for i in page.inputs if i.get("name", "").startswith("changes.")}
    assert fields == {"changes.create-addition:MP-SUB-1-CH1.quantity": "12",
                      "changes.create-addition:MP-SUB-1-CH1.unitPrice": "6.00",
                      "changes.create-addition:MP-SUB-1-CH1.unitCost": "4.80",
                      "changes.create-addition:MP-SUB-1-CH1.effectiveDate": "2026-02-15",
                      "changes.create-addition:MP-SUB-1-CH1.cancelledDate": ""}
    assert 'name="changes.create-addition:MP-SUB-1-CH1.description" maxlength="6000"' in html
    assert ">M365 &lt;b&gt;</textarea>" in html
    for field_id in [i["id"] for i in page.inputs if i.get("name", "").startswith("changes.")]:
        assert f'<label for="{field_id}">' in html  # every input has its label
    assert "Write these changes to ConnectWise" in text


def test_a_decided_approval_page_offers_no_forms():
    html = render_approval_page(approval(status="decided"), action="./abc123", sig="SIG", exp=str(LATER), now=NOW)
    assert "<form" not in html and "nothing more can be decided" in html


def test_message_pages_escape_too():
    html = render_message_page("Already decided", EVIL, status=409, approval=approval(status="decided"), now=NOW)
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_the_json_view_never_contains_the_token():
    view = approvals.public_view(approval(), NOW)
    assert "token" not in view and "SECRET-TOKEN" not in repr(view)
    assert view["options"][1] == {"id": "18", "label": "Old Green Lane", "eligible": False,
                                  "reason": "Company is inactive"}


# --- the API's request bodies (API Gateway may hand them over base64-encoded) ----------------

def api_post(body: str, *, content_type: str, accept: str, base64_encoded: bool = True):
    """(status, text, the approval afterwards) of one POST to the approvals API on the fakes."""
    from types import SimpleNamespace

    from cwsync.approvals_api import create_app
    from fakes import FakeStore

    store = FakeStore(clock=lambda: NOW)
    store.put_approval(approval())
    deps = SimpleNamespace(store=store, signing_key=KEY, now=lambda: NOW,
                           settings=SimpleNamespace(approvals_base_url=None))
    query = {"exp": str(LATER), "sig": sign(KEY, "abc123", LATER)}
    event = {"version": "2.0", "routeKey": "POST /approvals/{id}", "rawPath": "/approvals/abc123",
             "rawQueryString": f"exp={query['exp']}&sig={query['sig']}", "queryStringParameters": query,
             "headers": {"host": "approvals.example", "content-type": content_type, "accept": accept},
             "pathParameters": {"id": "abc123"},
             "requestContext": {"http": {"method": "POST", "path": "/approvals/abc123", "protocol": "HTTP/1.1",
                                         "sourceIp": "127.0.0.1", "userAgent": "pytest"},
                                "requestId": "r", "routeKey": "POST /approvals/{id}", "stage": "$default"},
             "body": body, "isBase64Encoded": base64_encoded}
    answer = create_app(lambda: deps).resolve(event, None)
    return answer["statusCode"], answer["body"], store.get_approval("abc123")


UNREADABLE = "The request body could not be read: send it as UTF-8 text (a form or JSON)."
INTERNALS = re.compile(r"Traceback|codec|binascii|Incorrect padding|Error\b|Exception|decode|0xff|line \d+")


def shows_internals(text: str) -> bool:
    """Python's own words in what the approver is shown (a page's style sheet aside)."""
    return bool(INTERNALS.search(re.sub(r"<style.*?</style>", "", text, flags=re.S)))


@pytest.mark.parametrize("body", ["abc", "Y", "YWJjZA", "ZGVjaXNpb249YXBwcm92ZQ"], ids=["3 chars", "1 char",
                                                                                        "6 chars", "cut short"])
@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "application/json"])
@pytest.mark.parametrize("accept", ["application/json", "text/html"])
def test_a_base64_body_with_bad_padding_is_refused_with_400_and_a_plain_message(body, content_type, accept):
    status, text, stored = api_post(body, content_type=content_type, accept=accept)
    assert status == 400 and UNREADABLE in text
    assert not shows_internals(text), text
    assert stored["status"] == "pending" and "decision" not in stored


@pytest.mark.parametrize("body", ["/w==", "////", "gICA"], ids=["0xff", "0xff 0xff 0xff", "0x80 0x80 0x80"])
def test_a_base64_body_that_is_not_utf8_text_is_refused_with_400_and_a_plain_message(body):
    status, text, stored = api_post(body, content_type="application/x-www-form-urlencoded", accept="application/json")
    assert status == 400 and UNREADABLE in text
    assert not shows_internals(text), text
    assert stored["status"] == "pending"


@pytest.mark.parametrize("body", ["!!!!", "====", "YWJj!", "%%%", "ZGVjaXNpb249YXBwcm92ZQ==\x00"])
@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "application/json"])
def test_a_body_that_is_not_base64_at_all_is_refused_with_400_and_decides_nothing(body, content_type):
    status, text, stored = api_post(body, content_type=content_type, accept="application/json")
    assert status == 400, text
    assert not shows_internals(text), text
    assert stored["status"] == "pending" and "decision" not in stored


def test_a_well_encoded_body_reaches_the_decision_rules():
    import base64

    encoded = base64.b64encode(b"decision=approve&choice=18").decode("ascii")  # an ineligible choice
    status, text, stored = api_post(encoded, content_type="application/x-www-form-urlencoded",
                                    accept="application/json")
    assert status == 400 and "Company is inactive" in text and UNREADABLE not in text
    assert stored["status"] == "pending"
