"""What every browser test shares: the system's headless Chromium (Debian package), driven through
Playwright with its executable path (no browser download), launched once for the whole session;
the browser mark and skip (on a machine without /usr/bin/chromium or Playwright); and pages with
the generous step deadline a busy machine needs.

- `page`: a fresh context and page for the test (1280 × 900), deadline `LONG`; any JavaScript
  dialog is dismissed and its message kept in `page.dialogs` (an alert would mean markup ran).
  A module changes the context's options by overriding `page_options` (e.g. `bypass_csp`).
- `open_page(**options)`: the same as a context manager, for module-scoped fixtures.
"""
from __future__ import annotations

import importlib.util
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
LONG = 180_000  # ms: a step of the workflow on a busy machine
VIEWPORT = {"width": 1280, "height": 900}
HERE = Path(__file__).resolve().parent
_MISSING = ("needs /usr/bin/chromium (scripts/bootstrap)" if not Path(CHROMIUM).exists() else
            "needs the playwright package (dev extra)" if importlib.util.find_spec("playwright") is None else None)


def pytest_collection_modifyitems(items):
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)
            if _MISSING:
                item.add_marker(pytest.mark.skip(reason=_MISSING))


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def open_page(chromium):
    @contextmanager
    def opened(**options):
        context = chromium.new_context(**{"viewport": dict(VIEWPORT), **options})
        page = context.new_page()
        page.set_default_timeout(LONG)
        page.dialogs = []
        page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
        try:
            yield page
        finally:
            context.close()

    return opened


@pytest.fixture
def page_options() -> dict:
    """Extra options for the `page` fixture's browser context (a module overrides this)."""
    return {}


@pytest.fixture
def page(open_page, page_options):
    with open_page(**page_options) as page:
        yield page
