"""Portal pages of the regulator reports: key figures and charts, downloads. Read-only."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from aggregator.platform.csv_export import csv_response
from aggregator.platform.errors import InvalidInput
from aggregator.platform.portal import portal_view
from market import calendar
from settlement.reports.builder import build_market_report
from settlement.reports.pdf import key_figures
from settlement.reports.periods import Period, default_day, period_from
from settlement.reports.services import (
    FORMATS,
    can_read_reports,
    check_format,
    render_report,
    report_read_audit,
)
from settlement.reports.web_charts import report_charts


def _period(request) -> tuple[Period, dict[str, str]]:
    """The requested day or month (default: the last day with data, JST); query values."""
    day, month = request.GET.get("day", "").strip(), request.GET.get("month", "").strip()
    if not day and not month:
        day = default_day(timezone.now())
    period = period_from(day=day or None, month=month or None)
    return period, ({"month": month} if month else {"day": day})


def _reader(request) -> None:
    if not can_read_reports(request.actor):
        raise PermissionDenied(_("Market reports are for regulators and the market operator."))


def _language(request) -> str:
    lang = request.GET.get("lang") or (get_language() or "ja")[:2]
    return lang if lang in ("ja", "en") else "ja"


@portal_view
def index(request):
    """Pick a day or month; see the key figures, the charts and per-area tables."""
    _reader(request)
    errors: list[str] = []
    try:
        period, query = _period(request)
    except InvalidInput as exc:
        errors = [m for ms in exc.errors.values() for m in ms]
        period, query = period_from(day=calendar.to_jst(timezone.now()).date().isoformat()), {}
    report = build_market_report(start=period.start, end=period.end, period=period.label)
    report_read_audit(actor=request.actor, period=period, fmt="html", channel="portal")
    lang = _language(request)
    context = {
        "report": report,
        "period": period,
        "query": query,
        "errors": errors,
        "figures": key_figures(report),
        # Interactive in the page; the PDF keeps matplotlib's images (charts.py).
        "charts": report_charts(report, lang),
        "areas": [
            {"name": report.area_name(a.area, lang), "summary": a}
            for a in report.areas
            if a.intervals or a.cu_offered or a.kwh_offered
        ],
        "formats": FORMATS,
        "lang": lang,
        "is_month": "month" in query,
    }
    return render(request, "reports/market.html", context)


@portal_view
def download(request):
    """The report file (PDF, CSV or JSON) of the chosen period; audited."""
    _reader(request)
    fmt, lang = request.GET.get("format", "pdf"), _language(request)
    try:
        period, _query = _period(request)
        check_format(fmt, lang)
    except InvalidInput as exc:
        message = "; ".join(m for ms in exc.errors.values() for m in ms)
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
    report_read_audit(actor=request.actor, period=period, fmt=fmt, channel="portal")
    report = build_market_report(start=period.start, end=period.end, period=period.label)
    file = render_report(report, fmt=fmt, language=lang)
    response = HttpResponse(file.content, content_type=file.content_type)
    response["Content-Disposition"] = f'attachment; filename="{file.filename}"'
    return response


def _csv_period(request, fmt: str) -> tuple[Period, dict[str, str]] | HttpResponse:
    """The page's period for an export (a bad one is a 400, as for the downloads); audited."""
    _reader(request)
    try:
        period, query = _period(request)
    except InvalidInput as exc:
        message = "; ".join(m for ms in exc.errors.values() for m in ms)
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
    report_read_audit(actor=request.actor, period=period, fmt=fmt, channel="portal")
    return period, query


@portal_view
def areas_csv(request):
    """The page's per-area table of the period, every column of AreaSummary."""
    found = _csv_period(request, "csv:areas")
    if isinstance(found, HttpResponse):
        return found
    period, _query = found
    report = build_market_report(start=period.start, end=period.end, period=period.label)
    lang = _language(request)
    header = [
        _("Grid area"),
        _("Area name"),
        _("Intervals cleared"),
        _("Energy price, mean (JPY/kWh)"),
        _("Energy price, min (JPY/kWh)"),
        _("Energy price, max (JPY/kWh)"),
        _("Compute price (JPY/CU-h)"),
        _("CU offered"),
        _("CU cleared"),
        _("CU-hours cleared"),
        _("kWh offered"),
        _("kWh from energy offers"),
        _("kWh from the grid"),
        _("Curtailment relief (kWh)"),
        _("Bid/clear"),
        _("Bid/clear, energy"),
        _("HHI capacity offered"),
        _("HHI capacity cleared"),
        _("HHI energy offered"),
        _("HHI energy cleared"),
        _("CO2 (t)"),
        _("CO2 under stay (t)"),
    ]
    rows = (
        [
            a.area,
            report.area_name(a.area, lang),
            a.intervals,
            a.energy_price_mean,
            a.energy_price_min,
            a.energy_price_max,
            a.compute_price_mean,
            a.cu_offered,
            a.cu_cleared,
            a.cu_h_cleared,
            a.kwh_offered,
            a.kwh_from_offers,
            a.kwh_from_grid,
            a.curtailment_relief_kwh,
            a.capacity_bid_to_clear,
            a.energy_bid_to_clear,
            a.hhi_capacity_offered,
            a.hhi_capacity_cleared,
            a.hhi_energy_offered,
            a.hhi_energy_cleared,
            a.co2_t,
            a.co2_stay_t,
        ]
        for a in report.areas
        # The page's rule: an area with nothing offered and nothing cleared is left out.
        if a.intervals or a.cu_offered or a.kwh_offered
    )
    return csv_response(
        filename=f"wattbit-report-{period.label}-areas.csv", header=header, rows=rows
    )


@portal_view
def interventions_csv(request):
    """The page's re-dispatches and other interventions of the period (all of them)."""
    found = _csv_period(request, "csv:interventions")
    if isinstance(found, HttpResponse):
        return found
    period, _query = found
    report = build_market_report(start=period.start, end=period.end, period=period.label)
    header = [_("Interval start (JST)"), _("Kind"), _("What"), _("By"), _("At (JST)")]
    rows = ([i.interval_start, i.kind, i.summary, i.actor, i.at] for i in report.interventions)
    return csv_response(
        filename=f"wattbit-report-{period.label}-interventions.csv", header=header, rows=rows
    )
