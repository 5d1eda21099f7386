"""The portal's "Market impact" page: what the market did for you in a JST month."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from aggregator.platform.charts import chart_data, chart_series
from aggregator.platform.errors import InvalidInput
from aggregator.platform.portal import portal_view
from market.calendar import to_jst
from operators.models import GridArea
from settlement.impact.selectors import DailyImpact, Impact, daily_impact, month_impact
from settlement.selectors import parse_month


def _area_names(request) -> dict[str, str]:
    japanese = getattr(request, "LANGUAGE_CODE", "ja").startswith("ja")
    return {
        code: ja if japanese else en
        for code, ja, en in GridArea.objects.values_list("code", "name_ja", "name_en")
    }


def _charts(impact: Impact, daily: DailyImpact, areas: dict[str, str]) -> dict:
    charts = {}
    if impact.owner and daily.days:
        charts["savings"] = chart_data(
            chart_id="impact-savings",
            title=_("Energy cost saved per day (JST)"),
            x=daily.days,
            series=[
                chart_series(_("Against stay"), "JPY", daily.saved_vs_stay_jpy, decimals=0),
                chart_series(_("Against greedy"), "JPY", daily.saved_vs_greedy_jpy, decimals=0),
            ],
            kind="bar",
        )
    if impact.provider and daily.days:
        charts["utilisation"] = chart_data(
            chart_id="impact-utilisation",
            title=_("Utilisation per day (JST)"),
            x=daily.days,
            series=[chart_series(_("Utilisation"), "%", daily.utilisation_pct, decimals=1)],
        )
    if impact.supplier and daily.days:
        charts["energy_daily"] = chart_data(
            chart_id="impact-energy-daily",
            title=_("Energy sold per day (JST)"),
            x=daily.days,
            series=[chart_series(_("Sold"), "kWh", daily.kwh_sold, decimals=1)],
            kind="bar",
        )
    if impact.owner and impact.owner.away_by_area:
        rows = impact.owner.away_by_area
        charts["away"] = chart_data(
            chart_id="impact-away",
            title=_("CU-hours moved away from home sites, by destination area"),
            x=[areas.get(r.area, r.area) for r in rows],
            series=[chart_series(_("Moved"), "CU-h", [r.cu_h for r in rows], decimals=1)],
            kind="bar",
        )
    if impact.provider and impact.provider.sites:
        sites = impact.provider.sites
        charts["sites"] = chart_data(
            chart_id="impact-sites",
            title=_("Capacity offered and sold by site"),
            x=[s.site for s in sites],
            series=[
                chart_series(_("Offered"), "CU-h", [s.offered_cu_h for s in sites], decimals=1),
                chart_series(_("Sold"), "CU-h", [s.sold_cu_h for s in sites], decimals=1),
            ],
            kind="bar",
        )
    if impact.supplier and impact.supplier.areas:
        rows = impact.supplier.areas
        charts["energy"] = chart_data(
            chart_id="impact-energy",
            title=_("Energy sold by area"),
            x=[areas.get(r.area, r.area) for r in rows],
            series=[
                chart_series(_("Sold"), "kWh", [r.kwh for r in rows], decimals=1),
                chart_series(
                    _("Curtailment relief"), "kWh", [r.relief_kwh for r in rows], decimals=1
                ),
            ],
            kind="bar",
        )
    return charts


@portal_view
def impact(request):
    """Your firm intervals of a month against the stay and greedy baselines, and the ledger."""
    month = request.GET.get("month") or f"{to_jst(timezone.now()):%Y-%m}"
    try:
        parse_month(month)
    except InvalidInput:
        messages.error(request, _("Give the month as YYYY-MM."))
        month = f"{to_jst(timezone.now()):%Y-%m}"
    figures = month_impact(actor=request.actor, month=month)
    daily = daily_impact(actor=request.actor, start=figures.start, end=figures.end)
    areas = _area_names(request)
    context = {
        "month": month,
        "impact": figures,
        "start_jst": to_jst(figures.start),
        "end_jst": to_jst(figures.end),
        "charts": _charts(figures, daily, areas),
        # The daily charts' figures as a table (a chart never replaces its table).
        "daily": list(
            zip(
                daily.days,
                daily.saved_vs_stay_jpy,
                daily.saved_vs_greedy_jpy,
                daily.utilisation_pct,
                daily.kwh_sold,
                strict=True,
            )
        ),
        # (row, area name) pairs: the tables name areas in the reader's language.
        "away": [(r, areas.get(r.area, r.area)) for r in figures.owner.away_by_area]
        if figures.owner
        else [],
        "sites": [(s, areas.get(s.area, s.area)) for s in figures.provider.sites]
        if figures.provider
        else [],
        "energy": [(r, areas.get(r.area, r.area)) for r in figures.supplier.areas]
        if figures.supplier
        else [],
    }
    return render(request, "settlement/impact.html", context)
