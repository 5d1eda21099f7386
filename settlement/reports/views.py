"""Portal pages of the regulator reports: key figures and charts, downloads. Read-only."""

from __future__ import annotations

import base64
from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from aggregator.platform.errors import InvalidInput
from aggregator.platform.portal import portal_view
from market import calendar
from settlement.reports import charts
from settlement.reports.builder import build_market_report
from settlement.reports.pdf import key_figures
from settlement.reports.periods import Period, period_from
from settlement.reports.services import (
    FORMATS,
    can_read_reports,
    check_format,
    render_report,
    report_read_audit,
)


def _period(request) -> tuple[Period, dict[str, str]]:
    """The requested day or month (default: yesterday, JST); query values for links."""
    day, month = request.GET.get("day", "").strip(), request.GET.get("month", "").strip()
    if not day and not month:
        day = (calendar.to_jst(timezone.now()).date() - timedelta(days=1)).isoformat()
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
    images = {
        name: "data:image/png;base64," + base64.b64encode(chart(report)).decode("ascii")
        for name, chart in charts.CHARTS.items()
    }
    lang = _language(request)
    context = {
        "report": report,
        "period": period,
        "query": query,
        "errors": errors,
        "figures": key_figures(report),
        "images": images,
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
