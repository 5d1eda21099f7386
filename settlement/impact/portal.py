"""The portal's "Market impact" page: what the market did for you in a JST month."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from aggregator.platform.charts import chart_data, chart_series
from aggregator.platform.csv_export import csv_response
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


def _month(request) -> str:
    month = request.GET.get("month") or f"{to_jst(timezone.now()):%Y-%m}"
    parse_month(month)
    return month


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


def _csv_rows(impact: Impact, daily: DailyImpact, areas: dict[str, str]) -> list[list]:
    """Every figure of the page, one per row: table, subject, figure, value, unit."""
    rows: list[list] = []
    if impact.welfare:
        w = impact.welfare
        for name, value in (
            ("welfare_jpy", w.welfare_jpy),
            ("stay_welfare_jpy", w.stay_welfare_jpy),
            ("greedy_welfare_jpy", w.greedy_welfare_jpy),
            ("gain_vs_stay_jpy", w.vs_stay_jpy),
            ("gain_vs_greedy_jpy", w.vs_greedy_jpy),
        ):
            rows.append(["welfare", "", name, value, "JPY"])
    if impact.owner:
        o = impact.owner
        for name, value, unit in (
            ("cu_h", o.cu_h, "CU-h"),
            ("away_cu_h", o.away_cu_h, "CU-h"),
            ("saved_vs_stay_jpy", o.saved_vs_stay_jpy, "JPY"),
            ("saved_vs_greedy_jpy", o.saved_vs_greedy_jpy, "JPY"),
            ("greedy_compared_cu_h", o.greedy_cu_h, "CU-h"),
            ("stay_energy_jpy", o.stay_energy_jpy, "JPY"),
            ("energy_jpy", o.energy_jpy, "JPY"),
            ("co2_avoided_kg", o.co2_avoided_kg, "kg"),
            ("co2_kg", o.co2_kg, "kg"),
            ("stay_co2_kg", o.stay_co2_kg, "kg"),
            ("relief_kwh", o.relief_kwh, "kWh"),
            ("paid_as_cleared_jpy", o.paid_jpy, "JPY"),
            ("paid_as_settled_jpy", o.paid_ledger_jpy, "JPY"),
        ):
            rows.append(["owner", "", name, value, unit])
        for r in o.away_by_area:
            rows.append(["owner_away", areas.get(r.area, r.area), "away_cu_h", r.cu_h, "CU-h"])
    if impact.provider:
        for s in impact.provider.sites:
            for name, value, unit in (
                ("offered_cu_h", s.offered_cu_h, "CU-h"),
                ("sold_cu_h", s.sold_cu_h, "CU-h"),
                ("utilisation", s.utilisation, "ratio"),
                ("revenue_as_cleared_jpy", s.revenue_jpy, "JPY"),
                ("revenue_as_settled_jpy", s.revenue_ledger_jpy, "JPY"),
            ):
                rows.append(["sites", s.site, name, value, unit])
    if impact.supplier:
        for a in impact.supplier.areas:
            subject = areas.get(a.area, a.area)
            for name, value, unit in (
                ("sold_kwh", a.kwh, "kWh"),
                ("relief_kwh", a.relief_kwh, "kWh"),
                ("revenue_as_cleared_jpy", a.revenue_jpy, "JPY"),
                ("revenue_as_settled_jpy", a.revenue_ledger_jpy, "JPY"),
            ):
                rows.append(["energy", subject, name, value, unit])
    for day, stay, greedy, utilisation, kwh in zip(
        daily.days,
        daily.saved_vs_stay_jpy,
        daily.saved_vs_greedy_jpy,
        daily.utilisation_pct,
        daily.kwh_sold,
        strict=True,
    ):
        label = f"{day:%Y-%m-%d}"
        if impact.owner:
            rows.append(["daily", label, "saved_vs_stay_jpy", stay, "JPY"])
            rows.append(["daily", label, "saved_vs_greedy_jpy", greedy, "JPY"])
        if impact.provider:
            rows.append(["daily", label, "utilisation_pct", utilisation, "%"])
        if impact.supplier:
            rows.append(["daily", label, "sold_kwh", kwh, "kWh"])
    return rows


@portal_view
def impact_csv(request):
    """The page's figures for the same month and the same organisation, as CSV."""
    month = _month(request)  # a bad month is a 400 page (portal_view), nothing else
    figures = month_impact(actor=request.actor, month=month)
    daily = daily_impact(actor=request.actor, start=figures.start, end=figures.end)
    scope = "market" if figures.market_wide else request.actor.organisation.slug
    return csv_response(
        filename=f"wattbit-impact-{month}-{scope}.csv",
        header=[_("Table"), _("Subject"), _("Figure"), _("Value"), _("Unit")],
        rows=_csv_rows(figures, daily, _area_names(request)),
    )
