"""Playwright driving Debian's chromium against a live server of the portal.

No `playwright install`: the browser is the system's /usr/bin/chromium (installed by
.ci/run). With WATTBIT_SCREENSHOTS=1 the main pages are saved to docs/screenshots/.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("WATTBIT_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(config, items):
    """WATTBIT_BROWSER_TESTS=0 skips these, saying why: CI's second (PostgreSQL + Redis)
    pass, where the pages' database paths already run in the portal's client tests
    (tests/*/test_portal*.py) and a browser adds minutes, not coverage of the database."""
    if os.environ.get("WATTBIT_BROWSER_TESTS", "1") != "0":
        return
    skip = pytest.mark.skip(reason="browser tests run in CI's first (SQLite) pass")
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (.ci/run installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # around it are still synchronous and safe. Only while the browser runs: the flag must
    # not leak into other tests (`check --deploy` rightly refuses it).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(autouse=True)
def _reference_data(reference_data):
    """Every browser test needs the grid areas and demand zones."""


@pytest.fixture
def page_for(browser, live_server):
    """A fresh browser context per user and language, logged in."""
    contexts = []

    def open_page(username: str, password: str, locale: str = "ja-JP"):
        context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("main button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        return page

    yield open_page
    for context in contexts:
        context.close()


def shot(page, name: str) -> None:
    """Refresh the README's screenshots only when asked: WATTBIT_SCREENSHOTS=1 make test."""
    if not os.environ.get("WATTBIT_SCREENSHOTS"):
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)


from tests.cycle.conftest import market  # noqa: E402, F401 — shared fixture


@pytest.fixture
def settled_market(market):  # noqa: F811 — the fixture imported above
    """The cycle's small market with its first interval cleared, metered and settled."""
    from datetime import timedelta

    from aggregator.exchange.cycle import run_clear_interval
    from settlement.services.settle import interval_settle
    from tests.cycle.conftest import gate
    from tests.settlement.test_settle import report_all

    k = market.k(0)
    run = run_clear_interval(interval_start=k, now=gate(k)).run
    report_all(market, k)
    interval_settle(run=run, now=k + timedelta(hours=3))
    return market
