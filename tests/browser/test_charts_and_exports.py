"""Interactive charts and CSV exports in a real browser: hover a point and read its value in
the tooltip, hide a series from the legend, download a table as CSV and read its rows."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import expect

from market.models.clearing import EnergyPrice
from tests.conftest import PASSWORD
from tests.settlement.reports.conftest import cleared_market  # noqa: F401 (the fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
DAY = "2030-04-01"


def _chart(page, chart_id: str, script: str):
    """Evaluate `script` with `chart`, the ECharts instance drawn in #chart-<chart_id>."""
    return page.evaluate(
        f"""() => {{
            const chart = echarts.getInstanceByDom(document.getElementById("chart-{chart_id}"));
            {script}
        }}"""
    )


def test_results_chart_tooltip_legend_and_csv(page_for, cleared_market, live_server):  # noqa: F811
    page = page_for("alice", PASSWORD, locale="en-US")
    page.goto(f"{live_server.url}/market/results/?day={DAY}")
    container = page.locator("#chart-results-price")
    expect(container).to_have_attribute("data-chart-ready", "drawn")
    expect(container).to_have_attribute("role", "img")
    expect(page.locator("table.heat")).to_be_visible()  # the table stays

    kyushu = EnergyPrice.objects.get(area_id="kyushu", interval_start=cleared_market.k(0))
    series = _chart(page, "results-price", "return chart.getOption().series.map(s => s.name);")
    index = series.index("Kyushu")
    slot = 24  # 12:00 JST is the 25th slot of the day
    x, y = _chart(
        page,
        "results-price",
        f"return chart.convertToPixel({{seriesIndex: {index}}}, [{slot}, {float(kyushu.jpy_per_kwh)}]);",
    )
    box = container.bounding_box()
    page.mouse.move(box["x"] + x, box["y"] + y)
    tooltip = page.locator("#chart-results-price .chart-tooltip")
    expect(tooltip).to_be_visible()
    expect(tooltip).to_contain_text("2030-04-01 12:00 JST")
    expect(tooltip).to_contain_text(f"Kyushu: {float(kyushu.jpy_per_kwh):,.2f} JPY/kWh")

    # Click "Kyushu" in the legend: its line goes, and so does its row in the tooltip.
    page.locator("#chart-results-price svg text", has_text="Kyushu").first.click()
    selected = _chart(page, "results-price", "return chart.getOption().legend[0].selected;")
    assert selected["Kyushu"] is False
    next_x = _chart(
        page, "results-price", f"return chart.convertToPixel({{xAxisIndex: 0}}, {slot + 1});"
    )
    page.mouse.move(box["x"] + next_x, box["y"] + y)  # another interval, then back
    expect(tooltip).to_contain_text("2030-04-01 12:30 JST")
    page.mouse.move(box["x"] + x, box["y"] + y)
    expect(tooltip).to_contain_text("2030-04-01 12:00 JST")
    expect(tooltip).not_to_contain_text("Kyushu")

    # The CSV of the page's day, downloaded as a person would.
    with page.expect_download() as download:
        page.get_by_role("link", name="Download results (CSV)").click()
    assert download.value.suggested_filename == f"wattbit-results-{DAY}.csv"
    with open(download.value.path(), "rb") as file:
        body = file.read()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    row = next(
        r
        for r in rows
        if r["Grid area"] == "kyushu" and r["Interval start (JST)"] == "2030-04-01T12:00:00+09:00"
    )
    assert row["Energy price (JPY/kWh)"] == format(kyushu.jpy_per_kwh, "f")
    assert len(rows) == EnergyPrice.objects.count()


def test_report_page_draws_three_charts_for_the_regulator(page_for, cleared_market, live_server):  # noqa: F811
    page = page_for("rita", PASSWORD, locale="ja-JP")
    page.goto(f"{live_server.url}/reports/?day={DAY}")
    for chart_id in ("report-prices", "report-volumes", "report-savings"):
        expect(page.locator(f"#chart-{chart_id}")).to_have_attribute("data-chart-ready", "drawn")
    with page.expect_download() as download:
        page.get_by_role("link", name="エリア別の表をダウンロード（CSV）").click()
    with open(download.value.path(), encoding="utf-8-sig") as file:
        rows = list(csv.reader(file))
    assert rows[0][0] == "エリア" and any(r[0] == "kyushu" for r in rows[1:])
