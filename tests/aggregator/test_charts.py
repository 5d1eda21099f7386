"""The chart data helper and the include that carries it into the page."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.template.loader import render_to_string

from aggregator.platform.charts import chart_data, chart_series

START = datetime(2026, 12, 6, 15, 0, tzinfo=UTC)  # 2026-12-07 00:00 JST


def _price_chart():
    xs = [START + timedelta(minutes=30 * i) for i in range(3)]
    return chart_data(
        chart_id="price",
        title="Price <by> area",
        x=xs,
        series=[
            chart_series("Tokyo", "JPY/kWh", [Decimal("12.345"), None, Decimal("9")]),
            chart_series("Volume", "CU-h", [1, 2, 3], kind="bar", decimals=0),
        ],
    )


def test_instants_become_jst_and_decimals_numbers():
    chart = _price_chart()
    assert chart["x_kind"] == "time"
    assert chart["x"][0] == "2026-12-07T00:00:00+09:00"
    assert chart["x"][2] == "2026-12-07T01:00:00+09:00"
    assert chart["units"] == ["JPY/kWh", "CU-h"]
    tokyo, volume = chart["series"]
    assert tokyo["data"] == [12.35, None, 9.0]  # rounded to the series' decimals
    assert volume["kind"] == "bar" and volume["data"] == [1, 2, 3]
    assert chart["empty"] is False


def test_shape_errors_are_refused():
    with pytest.raises(ValueError, match="values for"):
        chart_data(chart_id="a", title="t", x=["x", "y"], series=[chart_series("s", "u", [1])])
    with pytest.raises(ValueError, match="naive"):
        chart_data(chart_id="a", title="t", x=[datetime(2026, 1, 1)], series=[])
    with pytest.raises(ValueError, match="two units"):
        chart_data(
            chart_id="a",
            title="t",
            x=["x"],
            series=[chart_series(str(u), str(u), [1]) for u in range(3)],
        )
    with pytest.raises(ValueError, match="chart_id"):
        chart_data(chart_id="Bad id", title="t", x=[], series=[])


def test_all_none_is_empty_and_categories_stay_text():
    chart = chart_data(
        chart_id="areas",
        title="t",
        x=["Tokyo", "Kansai"],
        series=[chart_series("s", "u", [None, None])],
    )
    assert chart["x_kind"] == "category" and chart["x"] == ["Tokyo", "Kansai"]
    assert chart["empty"] is True


def test_include_writes_an_accessible_container_and_safe_json():
    html = render_to_string("includes/chart.html", {"chart": _price_chart()})
    container = re.search(r'<div class="chart-canvas"[^>]*>', html).group(0)
    assert 'role="img"' in container
    # The title is escaped in the label, and the label points to the table.
    assert 'aria-label="Price &lt;by&gt; area: a chart of 2 series' in container
    assert 'data-chart="chart-price-data"' in container
    assert "/static/vendor/echarts/echarts.common.min.js" in container
    payload = re.search(
        r'<script id="chart-price-data" type="application/json">(.*?)</script>', html, re.S
    ).group(1)
    assert "<by>" not in payload  # json_script escapes markup inside the data
    assert json.loads(payload)["series"][0]["data"] == [12.35, None, 9.0]
    assert "/static/js/charts.js" in html


def test_empty_chart_says_so_and_loads_no_script():
    chart = chart_data(
        chart_id="e", title="Nothing", x=["a"], series=[chart_series("s", "u", [None])]
    )
    html = render_to_string("includes/chart.html", {"chart": chart})
    assert "No data to chart yet." in html
    assert "charts.js" not in html and 'role="img"' not in html
