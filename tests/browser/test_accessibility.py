"""Accessibility of every page, for keyboard and screen-reader users, in headless Chromium.

axe-core (the npm package, pinned and installed by scripts/bootstrap under .venv/tools/) runs
on each page of the embedded runtime at 1280 and 390 px: the dashboard (plain, filtered, after
an action), task pages, the links and reconciliation pages, an approval page of each kind (customer,
product, agreement, confirm), the confirm page refusing a value, the pages after a decision
and the error pages. Any violation fails the test, whatever its impact (colour contrast,
labels, button and link names, landmarks, heading order, …). A keyboard user tabs through the
confirm page: every input and the submit button are reached in the order they are seen, and
the focused element always shows its focus ring.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow"))
from acceptance import start_runtime, wait_for  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
AXE = REPO / ".venv" / "tools" / "axe-core" / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = (1280, 390)
KINDS = ("customer", "product", "agreement", "confirm")


@pytest.fixture(scope="module")
def axe_source() -> str:
    assert AXE.exists(), f"{AXE.relative_to(REPO)} is missing: run scripts/bootstrap (it installs axe-core with npm)"
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def rt(tmp_path_factory):
    runtime = start_runtime(tmp_path_factory.mktemp("accessibility"))
    try:
        yield runtime
    finally:
        runtime.stop()


@pytest.fixture
def page_options() -> dict:
    """The pages' Content-Security-Policy refuses scripts they did not bring; axe is brought by the test."""
    return {"bypass_csp": True}


def violations(page, axe_source: str) -> list[dict]:
    """axe-core's violations on the page as it is now: [{id, impact, help, nodes: [selector…]}]."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_source)
    return page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ["violations"]});
        return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                             nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 5)}));
    }""")


def audit(page, axe_source: str, name: str, found: dict) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for violation in violations(page, axe_source):
            found.setdefault(f"{name} at {width}px", []).append(violation)
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.fixture(scope="module")
def checked(rt, open_page):
    """Check Changes and Reconcile now pressed on the dashboard, and everything settled."""
    with open_page() as page:
        page.goto(rt.url + "/")
        page.click("#check-changes")
        page.wait_for_selector("#notice")
        rt.wait_until_settled(timeout=240)
        page.goto(rt.url + "/reconciliation")
        page.click("#reconcile-now")

        def reported():
            page.goto(rt.url + "/reconciliation")
            return page.query_selector("#last-run") is not None

        wait_for(reported, timeout=240, what="the reconciliation report on its page", poll=1)
    return rt


def pending(rt, kind: str) -> dict:
    """A pending approval of `kind`; for `confirm`, the one adding the most to ConnectWise."""
    approvals = [a for a in rt.approvals("pending") if a["kind"] == kind]
    assert approvals, f"no pending {kind} approval in the demo data"

    def additions(approval: dict) -> int:
        operations = ((approval.get("plan") or {}).get("operations") or [])
        return sum(op.get("action") == "create_addition" for op in operations)

    return max(approvals, key=lambda a: (additions(a), a["approvalId"]))


def test_the_audit_finds_what_is_wrong_on_a_page_made_badly(page, axe_source):
    page.set_content('<div><img src="x.png"><button></button><input type="text"><a href="/x"></a>'
                     '<p style="color:#bbb;background:#fff">faint</p><h3>Deep</h3></div>')
    found = {v["id"] for v in violations(page, axe_source)}
    assert {"image-alt", "button-name", "label", "link-name", "color-contrast", "html-has-lang",
            "document-title"} <= found


def test_every_operator_page_passes_the_audit_at_desktop_and_phone_width(checked, page, axe_source):
    rt = checked
    waiting = pending(rt, "confirm")["taskId"]
    pages = {"dashboard": "/", "dashboard-waiting": "/?status=waiting_approval",
             "dashboard-search-without-results": "/?q=no+such+customer", "dashboard-after-check": "/?done=check",
             "task-waiting": f"/tasks/{waiting}", "task-after-action": f"/tasks/{waiting}?done=sync",
             "reconciliation": "/reconciliation", "reconciliation-filtered": "/reconciliation?kind=not_billed",
             "links": "/links", "unknown-task": "/tasks/nope"}
    found: dict = {}
    for name, path in pages.items():
        page.goto(rt.url + path)
        audit(page, axe_source, name, found)
    assert found == {}


def test_every_approval_page_and_what_follows_a_decision_passes_the_audit(checked, page, axe_source):
    rt = checked
    found: dict = {}
    for kind in KINDS:
        page.goto(rt.approval_link(pending(rt, kind)["approvalId"]))
        page.wait_for_selector("#approve")
        audit(page, axe_source, f"approval-{kind}", found)

    # The confirm page refusing a value: the problems listed, the field marked.
    page.goto(rt.approval_link(pending(rt, "confirm")["approvalId"]))
    page.locator('[data-field="quantity"]').first.fill("three")
    page.click("#approve")
    page.wait_for_selector("#problems")
    audit(page, axe_source, "approval-confirm-refused", found)

    # A decision, the page that follows it, and the decided approval's own link.
    customer = pending(rt, "customer")
    page.goto(rt.approval_link(customer["approvalId"]))
    page.locator('input[name="choice"]:not([disabled])').first.check()
    page.click("#approve")
    page.wait_for_selector("#message, #approve-form")
    audit(page, axe_source, "after-a-decision", found)
    page.goto(rt.approval_link(customer["approvalId"]))
    page.wait_for_selector("#status")
    audit(page, axe_source, "decided-approval", found)
    assert found == {}


def tab_stops(page, limit: int = 400) -> list[dict]:
    """Tab from the top of the page to the submit button: each stop's tag, place and focus ring."""
    page.evaluate("""() => {
        document.querySelectorAll('input, select, textarea, button, a[href]').forEach((el, i) => el.dataset.stop = i);
        if (document.activeElement) document.activeElement.blur();
        window.scrollTo(0, 0);
    }""")
    stops = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        stop = page.evaluate("""() => {
            const el = document.activeElement;
            if (!el || el === document.body) return null;
            const box = (el.closest('.field, fieldset.field, .option, .actions') || el).getBoundingClientRect();
            const style = getComputedStyle(el);
            return {stop: el.dataset.stop, id: el.id, name: el.name || "", inForm: !!el.closest('#approve-form'),
                    top: box.top + window.scrollY, left: box.left,
                    ring: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2,
                    focusVisible: el.matches(':focus-visible')};
        }""")
        if stop is None or (stops and stops[-1]["stop"] == stop["stop"]):
            continue  # not yet in the page, or a date input's next part (month, day, year, calendar)
        stops.append(stop)
        if stop["id"] == "approve":
            return stops
    raise AssertionError(f"the submit button was not reached in {limit} presses of Tab: {stops[-5:]}")


@pytest.mark.parametrize("width", WIDTHS)
def test_tab_reaches_every_input_of_the_confirm_page_and_its_button_in_visual_order_with_focus_shown(
        checked, page, width):
    rt = checked
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(rt.approval_link(pending(rt, "confirm")["approvalId"]))
    page.wait_for_selector("fieldset.op")
    # What a keyboard user must reach: every control of the form (a radio group is one stop: the
    # checked radio, or the first), then the submit button.
    expected = page.evaluate("""() => {
        const seen = new Set(), stops = [];
        document.querySelectorAll('input, select, textarea, button, a[href]').forEach((el, i) => el.dataset.stop = i);
        document.querySelectorAll('#approve-form input, #approve-form select, #approve-form textarea, #approve-form button')
            .forEach(el => {
                if (el.type === 'hidden' || el.disabled) return;
                if (el.type === 'radio') {
                    if (seen.has(el.name)) return;
                    seen.add(el.name);
                    const group = [...document.querySelectorAll(`input[type=radio][name="${el.name}"]:not([disabled])`)];
                    stops.push((group.find(r => r.checked) || group[0]).dataset.stop);
                    return;
                }
                stops.push(el.dataset.stop);
            });
        return stops;
    }""")
    assert len(expected) > 10 and page.locator("#approve-form [data-field]").count() > 5
    stops = tab_stops(page)
    in_form = [s for s in stops if s["inForm"]]
    assert [s["stop"] for s in in_form] == expected
    for before, after in zip(in_form, in_form[1:]):
        same_row = abs(after["top"] - before["top"]) <= 2
        assert after["top"] > before["top"] + 2 or (same_row and after["left"] > before["left"]), (before, after)
    assert all(s["ring"] and s["focusVisible"] for s in stops), [s for s in stops if not s["ring"]]


def test_a_screen_reader_hears_each_text_fields_limit_and_the_problem_with_the_field(checked, page):
    rt = checked
    page.goto(rt.approval_link(pending(rt, "confirm")["approvalId"]))
    page.wait_for_selector("fieldset.op")
    described = page.evaluate("""() => [...document.querySelectorAll('#approve-form textarea, #approve-form input[maxlength]')]
        .map(el => (el.getAttribute('aria-describedby') || '').split(' ').filter(Boolean)
                   .map(id => (document.getElementById(id) || {}).textContent || '(missing)').join(' | '))""")
    assert described and all(text.startswith("at most ") for text in described), described
    quantity = page.locator('[data-field="quantity"]').first
    quantity.fill("three")
    page.click("#approve")
    page.wait_for_selector("#problems")
    field = page.locator('[data-field="quantity"][aria-invalid="true"]').first
    problem = page.evaluate("id => document.getElementById(id).textContent", field.get_attribute("aria-describedby"))
    assert "three" in problem or "number" in problem.lower(), problem
    assert page.evaluate("document.activeElement.id") == "problems"  # the list of problems is read first


def test_the_sign_in_pages_of_the_aws_dashboard_pass_the_audit(page, axe_source):
    from cwsync.approvals import render_page

    found: dict = {}
    for name, title, message, status in (
            ("signed-out", "Signed out", "You are signed out of the cwsync dashboard.", 200),
            ("sign-in-failed", "Sign-in did not finish", "This sign-in was not started here. Sign in again.", 400),
            ("sign-in-down", "Signing in is not possible right now", "Cognito did not answer.", 503)):
        page.set_content(render_page("message.html", title=title, message=message, status=status, approval=None,
                                     home=None, sign_in="/sign-in"))
        assert page.locator("#sign-in").inner_text() == "Sign in"
        audit(page, axe_source, name, found)
    assert found == {}
