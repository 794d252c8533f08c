"""The operator's dashboard over HTTP on the embedded runtime: Check Changes, Sync again,
Ignore and Un-ignore, the task page, and the guards on every form."""
from __future__ import annotations

import re
from html import unescape
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import HTTPRedirectHandler, Request, build_opener

import pytest

from acceptance import decide, notification_link, start_runtime, wait_for, wait_for_status


class _NoRedirect(HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = build_opener(_NoRedirect)


def fetch(url: str, form: dict | None = None, *, origin: str | None = "same", headers: dict | None = None):
    """(status, body, headers) of a GET, or of a form POST sent as the browser sends it."""
    extra = dict(headers or {})
    data = None
    if form is not None:
        data = urlencode(form).encode("utf-8")
        extra["Content-Type"] = "application/x-www-form-urlencoded"
        if origin == "same":
            extra["Origin"] = url.split("/", 3)[0] + "//" + url.split("/", 3)[2]
        elif origin:
            extra["Origin"] = origin
    request = Request(url, data=data, method="POST" if form is not None else "GET", headers=extra)
    try:
        with OPENER.open(request, timeout=60) as response:
            return response.status, response.read().decode("utf-8"), dict(response.headers)
    except HTTPError as error:
        return error.code, error.read().decode("utf-8"), dict(error.headers)


def form_token(html: str) -> str:
    return unescape(re.search(r'name="csrf" value="([^"]+)"', html).group(1))


@pytest.fixture(scope="module")
def rt(tmp_path_factory):
    runtime = start_runtime(tmp_path_factory.mktemp("dashboard"))
    try:
        yield runtime
    finally:
        runtime.stop()


@pytest.fixture(scope="module")
def checked(rt):
    """The dashboard after its Check Changes button was pressed once and the tasks settled."""
    status, page, _ = fetch(rt.url + "/")
    assert status == 200
    status, _, headers = fetch(rt.url + "/check", {"csrf": form_token(page)})
    assert status == 303 and headers["Location"].startswith("/?done=check")
    rt.wait_until_settled(timeout=180)
    return rt


def test_check_changes_on_the_dashboard_lists_every_new_order_with_its_status_and_the_check_time(checked):
    status, page, _ = fetch(checked.url + "/")
    assert status == 200
    tasks = checked.tasks()
    assert tasks
    for task in tasks:
        assert f'data-task="{task["taskId"]}"' in page
    assert "Last check:" in page and "(dashboard)" in page and "new tasks" in page
    waiting = [t for t in tasks if t["status"] == "waiting_approval"]
    assert waiting and page.count('class="approval-link"') == len(waiting)


def test_the_status_filter_and_the_search_narrow_the_list(checked):
    task = next(t for t in checked.tasks() if t["status"] == "waiting_approval")
    _, page, _ = fetch(checked.url + "/?" + urlencode({"q": task["orderNumber"]}))
    assert page.count("data-task=") == 1 and f'data-task="{task["taskId"]}"' in page
    _, page, _ = fetch(checked.url + "/?status=synced")
    assert page.count("data-task=") == len(checked.tasks("synced"))


def test_a_form_posted_from_another_site_changes_nothing(checked):
    task = next(t for t in checked.tasks() if t["status"] == "waiting_approval")
    _, page, _ = fetch(checked.url + "/")
    status, body, _ = fetch(f"{checked.url}/tasks/{task['taskId']}",
                            {"csrf": form_token(page), "action": "ignore", "reason": "x"}, origin="https://evil.example")
    assert status == 403 and "another site" in body
    status, body, _ = fetch(f"{checked.url}/tasks/{task['taskId']}", {"action": "ignore", "reason": "x"})
    assert status == 403 and "reload" in body
    assert checked.task(task["taskId"])["status"] == "waiting_approval"


def test_a_waiting_task_cannot_be_ignored_or_synced_again_from_the_dashboard(checked):
    task = next(t for t in checked.tasks() if t["status"] == "waiting_approval")
    _, page, _ = fetch(checked.url + "/")
    for action in ("sync_again", "ignore"):
        status, body, _ = fetch(f"{checked.url}/tasks/{task['taskId']}",
                                {"csrf": form_token(page), "action": action, "reason": "not now"})
        assert status == 409, body
    assert checked.task(task["taskId"])["status"] == "waiting_approval"


def test_sync_again_on_a_rejected_task_starts_attempt_two_and_keeps_the_first_in_the_history(checked):
    task = next(t for t in checked.tasks() if t["status"] == "waiting_approval")
    task_id = task["taskId"]
    kind = checked.approvals("pending", task_id=task_id)[0]["kind"]
    _, link = notification_link(checked, task_id, kind)
    assert decide(link, {"decision": "reject", "reason": "wrong customer"})[0] == 200
    wait_for_status(checked, task_id, {"rejected"})

    _, page, _ = fetch(f"{checked.url}/tasks/{task_id}")
    assert 'id="sync-again"' in page
    status, _, headers = fetch(f"{checked.url}/tasks/{task_id}", {"csrf": form_token(page), "action": "sync_again"})
    assert status == 303 and headers["Location"] == f"/tasks/{task_id}?done=sync_again"
    again = wait_for_status(checked, task_id, {"waiting_approval", "synced", "failed"}, timeout=120)
    assert again["attempt"] == 2
    assert [a["status"] for a in again["attempts"]] == ["rejected"]
    assert f"{task_id}-2" in {e["name"] for e in checked.executions()}
    _, page, _ = fetch(f"{checked.url}/tasks/{task_id}")
    attempts = page[page.index('id="attempts"'):page.index('id="history"')]
    assert "Rejected" in attempts and "2 (current)" in attempts
    assert "Sync again requested by the local operator (attempt 2)" in page
    assert "wrong customer" in page


def test_ignore_needs_a_reason_and_un_ignore_puts_the_task_back(checked):
    task = next(t for t in checked.tasks() if t["status"] == "waiting_approval")
    task_id = task["taskId"]
    _, link = notification_link(checked, task_id, checked.approvals("pending", task_id=task_id)[0]["kind"])
    assert decide(link, {"decision": "reject", "reason": "duplicate order"})[0] == 200
    wait_for_status(checked, task_id, {"rejected"})
    _, page, _ = fetch(f"{checked.url}/tasks/{task_id}")
    status, body, _ = fetch(f"{checked.url}/tasks/{task_id}", {"csrf": form_token(page), "action": "ignore",
                                                                 "reason": "   "})
    assert status == 409 and "Say why" in body
    status, _, _ = fetch(f"{checked.url}/tasks/{task_id}", {"csrf": form_token(page), "action": "ignore",
                                                              "reason": "Handled by hand in ConnectWise"})
    assert status == 303
    ignored = checked.task(task_id)
    assert ignored["status"] == "ignored"
    assert ignored["history"][-1]["reason"] == "Ignored by the local operator: Handled by hand in ConnectWise"
    status, _, _ = fetch(f"{checked.url}/tasks/{task_id}", {"csrf": form_token(page), "action": "unignore"})
    assert status == 303
    assert checked.task(task_id)["status"] == "rejected"


def test_the_dashboard_answers_only_this_machine_on_the_local_runtime(checked):
    event = {"version": "2.0", "routeKey": "GET /", "rawPath": "/", "rawQueryString": "", "headers": {"host": "x"},
             "requestContext": {"http": {"method": "GET", "path": "/", "sourceIp": "10.1.2.3"}, "stage": "$default"},
             "isBase64Encoded": False}
    answer = checked.invoke("DashboardFunction", event)
    assert answer["statusCode"] == 403
    assert "only on this machine" in answer["body"]


def test_the_local_dashboard_needs_no_sign_in_and_its_sign_in_pages_lead_to_it(checked):
    for path in ("/sign-in?next=/reconciliation", "/auth/callback?code=x&state=y", "/sign-out"):
        status, _, headers = fetch(checked.url + path)
        assert status == 303 and "Set-Cookie" not in headers, path
        assert headers["Location"] == ("/reconciliation" if "next" in path else "/"), path
    status, page, _ = fetch(checked.url + "/")
    assert status == 200 and "Signed in as the local operator" in page and 'href="/sign-out"' not in page


def test_an_unknown_task_page_says_so_and_links_back(checked):
    status, body, _ = fetch(f"{checked.url}/tasks/nope")
    assert status == 404 and 'href="/"' in body
