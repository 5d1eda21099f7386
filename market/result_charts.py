"""The results page's interactive charts, from the same public rows as its table.

Two charts of one JST day: the cleared energy price per area (lines, JPY/kWh) and the
CU-hours cleared per area (stacked bars, so the bar's height is the whole market's).
Only areas with a cleared interval that day get a price series, and only areas where CU
cleared get a volume series: a legend of empty areas helps nobody. Built with aggregator.platform.charts; drawn by templates/includes/chart.html.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from aggregator.platform.charts import chart_data, chart_series
from market import calendar
from operators.models import GridArea

INTERVAL_HOURS = Decimal(calendar.INTERVAL_MINUTES) / 60


def area_label(area: GridArea) -> str:
    return area.name_ja if (get_language() or "").startswith("ja") else area.name_en


def results_charts(
    *, start: datetime, rows: Sequence[dict[str, Any]], areas: Sequence[GridArea]
) -> dict[str, dict[str, Any]]:
    """`price` and `volume` charts of the 48 intervals from `start` (rows: public_results)."""
    xs = calendar.interval_starts(start, calendar.SLOTS_PER_DAY)
    by_key = {(r["interval_start"], r["area"]): r for r in rows}
    cleared_areas = [a for a in areas if any((at, a.code) in by_key for at in xs)]
    prices, volumes = [], []
    for area in cleared_areas:
        cells = [by_key.get((at, area.code)) for at in xs]
        prices.append(
            chart_series(
                area_label(area),
                "JPY/kWh",
                [c["energy_jpy_per_kwh"] if c else None for c in cells],
            )
        )
        if not any(c and c["cu_cleared"] for c in cells):
            continue  # no CU cleared in this area all day: no bar to stack
        volumes.append(
            chart_series(
                area_label(area),
                "CU-h",
                [c["cu_cleared"] * INTERVAL_HOURS if c else None for c in cells],
                kind="bar",
                decimals=1,
                stack="cu-h",
            )
        )
    return {
        "price": chart_data(
            chart_id="results-price",
            title=_("Cleared energy price by area (JPY/kWh)"),
            x=xs,
            series=prices,
        ),
        "volume": chart_data(
            chart_id="results-volume",
            title=_("CU-hours cleared by area"),
            x=xs,
            series=volumes,
            kind="bar",
        ),
    }
