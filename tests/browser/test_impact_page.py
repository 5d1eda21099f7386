"""The market-impact page in a real browser: an owner's known savings, the chart, the regulator."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.conftest import PASSWORD
from tests.settlement.test_impact import MONTH, seeded  # noqa: F401 (the fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_owner_sees_the_hand_computed_savings_and_the_regulator_the_market(
    page_for,
    seeded,  # noqa: F811
    live_server,
):
    owner = page_for("dave", PASSWORD, locale="en-US")
    owner.get_by_role("link", name="Market impact").first.click()
    owner.goto(f"{live_server.url}/impact/?month={MONTH}")
    # Two intervals: 32 CU in kyushu instead of tokyo, 20 CU-h at home at 1.3 kWh × 12 JPY
    # vs the relief energy at 0.01 JPY: 2 × (312 − 62.608) = 498.784 JPY saved.
    expect(owner.locator("#owner-away")).to_have_text("32.0")
    expect(owner.locator("#owner-saved-stay")).to_have_text("¥499")
    expect(owner.locator("#owner-saved-greedy")).to_have_text("¥0")
    expect(owner.locator("#owner-relief")).to_have_text("41.6")
    expect(owner.locator("#owner-co2-avoided")).to_have_text("20.0")
    expect(owner.locator("#impact-away")).to_contain_text("Kyushu")
    # The chart draws with the vendored ECharts (an SVG appears), the table stays.
    expect(owner.locator("#chart-impact-away svg").first).to_be_attached()
    expect(owner.locator("#chart-impact-savings svg").first).to_be_attached()
    expect(owner.locator("#impact-daily")).to_contain_text("¥499")
    expect(owner.locator("main")).not_to_contain_text("beta-kyu-1")
    shot(owner, "impact-owner")
    japanese = page_for("dave", PASSWORD, locale="ja-JP")
    japanese.goto(f"{live_server.url}/impact/?month={MONTH}")
    expect(japanese.locator("h1")).to_have_text("市場の効果")
    expect(japanese.locator("#owner-saved-stay")).to_have_text("¥499")
    regulator = page_for("rita", PASSWORD, locale="en-US")
    regulator.goto(f"{live_server.url}/impact/?month={MONTH}")
    expect(regulator.locator("#impact-sites")).to_contain_text("beta-kyu-1")
    expect(regulator.locator("#impact-sites")).to_contain_text("alpha-tky-1")
    expect(regulator.locator("#owner-saved-stay")).to_have_text("¥499")
