"""axe-core on every portal page, for every role, in both languages: no serious or critical
violation. The market is cleared and settled first, so tables, charts and forms have rows.

axe-core is vendored from the npm registry into tests/browser/vendor/ (SOURCE.md there);
the portal itself never serves it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from market import calendar
from tests.conftest import PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
BLOCKING = {"serious", "critical"}

COMMON = ["/", "/organisation/", "/market/results/?day={day}", "/market/orders/",
          "/market/runs/", "/impact/?month={month}"]  # fmt: skip
PAGES = {
    # username: the pages its role works with, besides the common ones
    "charlie": ["/market/bids/", "/market/bids/new/capacity/", "/market/bids/upload/",
                "/settlement/meter/", "/settlement/?month={month}", "/sites/", "/sites/new/",
                "/api-keys/", "/webhooks/"],
    "dave": ["/market/bids/", "/market/bids/new/workload/", "/settlement/?month={month}"],
    "sue": ["/market/awards/", "/market/bids/new/energy/", "/market/bids/?day={day}"],
    "rita": ["/market/awards/?day={day}", "/reports/?day={day}", "/operator/participants/",
             "/operator/parameters/", "/operator/audit/", "/settlement/parameters/"],
    "oscar": ["/operator/participants/", "/operator/parameters/", "/reports/?day={day}"],
}  # fmt: skip


def _axe(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => await axe.run(document, {resultTypes: ["violations"]})""")
    return [
        {
            "rule": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"][:5]],
        }
        for v in result["violations"]
        if v["impact"] in BLOCKING
    ]


@pytest.mark.parametrize("locale", ["ja-JP", "en-US"])
def test_every_page_of_every_role_passes_axe(settled_market, page_for, live_server, locale):
    k = settled_market.k(0)
    values = {
        "day": calendar.to_jst(k).date().isoformat(),
        "month": calendar.to_jst(k).strftime("%Y-%m"),
    }
    failures = {}
    checked = 0
    for username, pages in PAGES.items():
        page = page_for(username, PASSWORD, locale=locale)
        for path in COMMON + pages:
            url = path.format(**values)
            response = page.goto(f"{live_server.url}{url}")
            assert response.status == 200, (username, url, response.status)
            page.wait_for_load_state("load")  # deferred scripts (charts) have run
            violations = _axe(page)
            checked += 1
            if violations:
                failures[f"{username} {url}"] = violations
    assert checked == sum(len(COMMON) + len(p) for p in PAGES.values())
    assert failures == {}


def test_login_and_error_pages_pass_axe(browser, live_server, db):
    context = browser.new_context(locale="ja-JP")
    page = context.new_page()
    failures = {}
    for url in ("/login/", "/no-such-page/"):
        page.goto(f"{live_server.url}{url}")
        if violations := _axe(page):
            failures[url] = violations
    context.close()
    assert failures == {}
