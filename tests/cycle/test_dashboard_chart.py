"""The dashboard's cleared-price heat map as a line chart: the same values, JST instants,
only the areas with a value, and on the page only when there is something to draw."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from aggregator.exchange.dashboard import _heat_map
from aggregator.exchange.templatetags.exchange_charts import heat_map_chart
from market import calendar
from operators.models import GridArea

pytestmark = pytest.mark.django_db
START = datetime(2030, 3, 31, 15, 0, tzinfo=UTC)  # 2030-04-01 00:00 JST


def _map(values):
    areas = list(GridArea.objects.filter(code__in=("tokyo", "kyushu")).order_by("code"))
    columns = calendar.interval_starts(START, 4)
    return _heat_map("cleared", "JPY/kWh", areas, columns, values)


def test_the_chart_holds_the_heat_maps_values():
    heat = _map(
        {
            ("kyushu", START): Decimal("0.01"),
            ("kyushu", START + calendar.INTERVAL): Decimal("9.5"),
        }
    )
    with translation.override("ja"):
        chart = heat_map_chart(heat, "dashboard-cleared", "約定電力価格")
    assert chart["x"][0] == "2030-04-01T00:00:00+09:00" and len(chart["x"]) == 4
    [kyushu] = chart["series"]  # tokyo has no value: no line
    assert kyushu["name"] == GridArea.objects.get(code="kyushu").name_ja
    assert kyushu["unit"] == "JPY/kWh" and kyushu["data"] == [0.01, 9.5, None, None]


def test_an_empty_map_makes_an_empty_chart_and_the_page_draws_none():
    heat = _map({})
    assert heat_map_chart(heat, "dashboard-cleared", "t")["empty"] is True
    html = Template(
        '{% load exchange_charts %}{% heat_map_chart m "dashboard-cleared" "t" as c %}'
        '{% include "includes/chart.html" with chart=c %}'
    ).render(Context({"m": heat}))
    assert 'role="img"' not in html and "charts.js" not in html
