"""The report page's interactive charts (the PDF keeps its matplotlib images, charts.py).

The same three figures as the PDF, from the same MarketReport: the cleared energy price per
area over the period, the volume cleared per area, and the cumulative welfare gain over the
stay and greedy baselines. Built with aggregator.platform.charts; drawn in the browser by
templates/includes/chart.html, so the page no longer renders PNGs on every view.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from aggregator.platform.charts import chart_data, chart_series
from market import calendar
from settlement.reports.types import MarketReport


def prices_chart(report: MarketReport, lang: str) -> dict[str, Any]:
    """Every interval of the period on the x axis; one line per area that cleared."""
    count = int((report.end - report.start) / calendar.INTERVAL)
    xs = calendar.interval_starts(report.start, count)
    by_area: dict[str, dict] = defaultdict(dict)
    for r in report.area_intervals:
        if r.energy_jpy_per_kwh is not None:
            by_area[r.area][r.interval_start] = r.energy_jpy_per_kwh
    # Areas in the report's order (north to south), as the table lists them.
    order = {a.area: i for i, a in enumerate(report.areas)}
    series = [
        chart_series(report.area_name(area, lang), "JPY/kWh", [values.get(at) for at in xs])
        for area, values in sorted(by_area.items(), key=lambda kv: (order.get(kv[0], 99), kv[0]))
    ]
    return chart_data(
        chart_id="report-prices",
        title=_("Cleared energy price per area (JPY/kWh)"),
        x=xs,
        series=series,
    )


def volumes_chart(report: MarketReport, lang: str) -> dict[str, Any]:
    """Per area: CU-hours cleared (left axis) and the kWh it took from offers and the grid."""
    areas = [a for a in report.areas if a.cu_cleared or a.kwh_from_offers or a.kwh_from_grid]
    return chart_data(
        chart_id="report-volumes",
        title=_("Cleared volume by area"),
        x=[report.area_name(a.area, lang) for a in areas],
        kind="bar",
        series=[
            chart_series(
                _("CU-hours cleared"), "CU-h", [a.cu_h_cleared for a in areas], decimals=1
            ),
            chart_series(
                _("kWh from energy offers"), "kWh", [a.kwh_from_offers for a in areas], decimals=1
            ),
            chart_series(
                _("kWh from the grid"), "kWh", [a.kwh_from_grid for a in areas], decimals=1
            ),
        ],
    )


def savings_chart(report: MarketReport) -> dict[str, Any]:
    """Running totals over the runs with baselines, as the PDF's chart draws them."""
    runs = [r for r in report.runs if r.saving_vs_stay_jpy is not None]
    stay, greedy = [], []
    total_stay = total_greedy = Decimal(0)
    for r in runs:
        total_stay += r.saving_vs_stay_jpy
        total_greedy += r.saving_vs_greedy_jpy or 0
        stay.append(total_stay)
        greedy.append(total_greedy)
    return chart_data(
        chart_id="report-savings",
        title=_("Cumulative welfare gain over the baselines (JPY)"),
        x=[r.interval_start for r in runs],
        series=[
            chart_series(_("vs stay"), "JPY", stay, decimals=0),
            chart_series(_("vs greedy"), "JPY", greedy, decimals=0),
        ],
    )


def report_charts(report: MarketReport, lang: str) -> dict[str, dict[str, Any]]:
    return {
        "prices": prices_chart(report, lang),
        "volumes": volumes_chart(report, lang),
        "savings": savings_chart(report),
    }
