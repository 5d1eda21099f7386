"""REST: GET /api/v1/reports/market?day=|month=&format=json|csv|pdf&lang=ja|en.

Regulators and the market operator only; every read is audited. The `format` query
parameter names the file format, so DRF's own `?format=` renderer override is switched
off for this view (errors are still problem-details JSON).
"""

from __future__ import annotations

from django.db import transaction
from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.views import APIView

from aggregator.platform.access import request_actor
from aggregator.platform.errors import Forbidden
from settlement.reports.periods import period_from
from settlement.reports.services import (
    FORMATS,
    LANGUAGES,
    can_read_reports,
    check_format,
    market_report_file,
    report_read_audit,
)


class FirstRenderer(BaseContentNegotiation):
    """Always the view's first renderer (JSON): `?format=` belongs to the report."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None


class MarketReportView(APIView):
    """The regulator's market report for one JST day or month, as JSON, CSV or PDF."""

    content_negotiation_class = FirstRenderer

    @extend_schema(
        parameters=[
            OpenApiParameter("day", str, description="JST day, YYYY-MM-DD"),
            OpenApiParameter("month", str, description="JST month, YYYY-MM"),
            OpenApiParameter("format", str, enum=list(FORMATS), default="json"),
            OpenApiParameter("lang", str, enum=list(LANGUAGES), default="ja"),
        ],
        responses={
            (200, "application/json"): OpenApiTypes.OBJECT,
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, "application/pdf"): OpenApiTypes.BINARY,
        },
    )
    def get(self, request):
        actor = request_actor(request)
        if not can_read_reports(actor):
            raise Forbidden(_("Market reports are for regulators and the market operator."))
        params = request.query_params
        fmt, language = params.get("format", "json"), params.get("lang", "ja")
        period = period_from(day=params.get("day"), month=params.get("month"))
        check_format(fmt, language)
        with transaction.atomic():
            report_read_audit(actor=actor, period=period, fmt=fmt, channel="api")
        report = market_report_file(period=period, fmt=fmt, language=language)
        response = HttpResponse(report.content, content_type=report.content_type)
        disposition = "inline" if fmt == "json" else "attachment"
        response["Content-Disposition"] = f'{disposition}; filename="{report.filename}"'
        return response
