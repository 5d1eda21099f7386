"""The dashboard's price heat map as an interactive line chart (same numbers, same areas).

A template tag rather than more dashboard context: the heat map already holds every value,
so the chart costs no query; only the areas with a value get a line.

    {% load exchange_charts %}
    {% heat_map_chart cleared_map "dashboard-cleared" caption as chart %}
    {% include "includes/chart.html" with chart=chart %}
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import get_language

from aggregator.platform.charts import chart_data, chart_series

register = template.Library()


@register.simple_tag
def heat_map_chart(heat_map: Any, chart_id: str, title: str) -> dict[str, Any]:
    """`heat_map`: aggregator.exchange.dashboard.HeatMap (columns, rows of area and cells)."""
    ja = (get_language() or "").startswith("ja")
    series = [
        chart_series(
            row["area"].name_ja if ja else row["area"].name_en,
            heat_map.unit,
            [cell["value"] for cell in row["cells"]],
        )
        for row in heat_map.rows
        if any(cell["value"] is not None for cell in row["cells"])
    ]
    return chart_data(chart_id=chart_id, title=title, x=heat_map.columns, series=series)
