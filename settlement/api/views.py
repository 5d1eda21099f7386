"""Settlement API: meter readings (single, bulk, CSV), statements and invoices to download."""

from __future__ import annotations

import django_filters
from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.parsers import BaseParser, FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from aggregator.platform.access import request_actor
from aggregator.platform.api.mixins import ActorMixin
from aggregator.platform.errors import InvalidInput, NotFound
from aggregator.platform.instants import InstantFilter
from market.idempotency import idempotent
from settlement import selectors
from settlement.api import serializers as s
from settlement.documents.csv import render_statement_csv
from settlement.documents.pdf import render_invoice_pdf, render_statement_pdf
from settlement.models import MeterReading
from settlement.services.meter import meter_report, meter_report_bulk, meter_report_csv
from settlement.statements import monthly_documents, statement_for, statement_summaries


class MeterReadingFilter(django_filters.FilterSet):
    interval = InstantFilter(field_name="interval_start")
    interval_from = InstantFilter(field_name="interval_start", lookup_expr="gte")
    interval_to = InstantFilter(field_name="interval_start", lookup_expr="lt")

    class Meta:
        model = MeterReading
        fields = ["kind"]


class MeterReadingViewSet(
    ActorMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Your meter readings, every revision (regulators: everyone's). POST one reading."""

    serializer_class = s.MeterReadingSerializer
    filterset_class = MeterReadingFilter
    model = MeterReading
    selector = staticmethod(selectors.meter_reading_list)

    @extend_schema(request=s.MeterReadingInSerializer, responses={201: s.MeterReadingSerializer})
    @idempotent
    def create(self, request):
        if not isinstance(request.data, dict):
            raise InvalidInput.from_errors(
                {"non_field_errors": [_("Give one reading as a JSON object.")]}
            )
        reading = meter_report(actor=self.actor, item=dict(request.data))
        return Response(s.MeterReadingSerializer(reading).data, status=status.HTTP_201_CREATED)


class MeterBulkView(APIView):
    """Up to 10,000 readings: all written or none; errors per item index."""

    @extend_schema(
        request=s.MeterReadingInSerializer(many=True), responses={201: s.MeterBulkResultSerializer}
    )
    @idempotent
    def post(self, request):
        body = request.data
        items = body.get("readings") if isinstance(body, dict) else body
        readings = meter_report_bulk(actor=request_actor(request), items=items)
        return Response(
            {"count": len(readings), "readings": [r.pk for r in readings]},
            status=status.HTTP_201_CREATED,
        )


class CsvTextParser(BaseParser):
    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        return stream.read()


class MeterCsvView(APIView):
    """CSV upload (multipart `file`, or the CSV as the body with Content-Type text/csv).

    Errors name the CSV row (the header is row 1). Not idempotency-keyed: a file upload's
    body has no stable JSON fingerprint; a repeated upload is a new revision of each reading.
    """

    parser_classes = [MultiPartParser, FormParser, CsvTextParser]

    @extend_schema(request=OpenApiTypes.BINARY, responses={201: s.MeterBulkResultSerializer})
    def post(self, request):
        upload = request.FILES.get("file") if request.content_type.startswith("multipart") else None
        if upload is not None:
            content = upload.read()
        elif request.content_type.startswith("text/csv"):
            # An empty body never reaches the parser: DRF gives an empty QueryDict instead.
            content = request.data if isinstance(request.data, bytes | str) else b""
        else:
            raise InvalidInput.from_errors({"file": [_("Upload a CSV file as 'file'.")]})
        readings = meter_report_csv(actor=request_actor(request), content=content)
        return Response(
            {"count": len(readings), "readings": [r.pk for r in readings]},
            status=status.HTTP_201_CREATED,
        )


ORG_PARAM = OpenApiParameter(
    "organisation", str, description="regulators: the organisation's slug (default: all/yours)"
)
LANG_PARAM = OpenApiParameter("language", str, enum=["ja", "en"], description="default ja")


def _summary(summary: dict, month: str) -> dict:
    def tax(totals) -> dict | None:
        if totals is None:
            return None
        return {
            "subtotal_jpy": totals.subtotal_jpy,
            "tax_jpy": totals.tax_jpy,
            "total_jpy": totals.total_jpy,
            "per_rate": [
                {"rate": str(r.rate), "taxable_jpy": r.taxable_jpy, "tax_jpy": r.tax_jpy}
                for r in totals.per_rate
            ],
        }

    org = summary["organisation"].slug
    base = f"/api/v1/statements/{month}"
    return {
        "organisation": org,
        "month": month,
        "lines": summary["lines"],
        "credits_jpy": summary["credits_jpy"],
        "charges_jpy": summary["charges_jpy"],
        "net_jpy": summary["net_jpy"],
        "provisional_jpy": summary["provisional_jpy"],
        "reversals_jpy": summary["reversals_jpy"],
        "by_kind": summary["by_kind"],
        "invoice": tax(summary["invoice"]),
        "purchase_statement": tax(summary["purchase"]),
        "links": {
            "csv": f"{base}/csv?organisation={org}",
            "pdf": f"{base}/pdf?organisation={org}",
            "invoice_pdf": f"/api/v1/invoices/{month}/pdf?organisation={org}",
            "purchase_statement_pdf": f"/api/v1/invoices/{month}/pdf?organisation={org}&kind=purchase",
        },
    }


class StatementListView(APIView):
    """Monthly statements (JST month) with invoice totals: yours, or all for regulators.

    Organisations with nothing settled in the month are not listed."""

    @extend_schema(
        parameters=[OpenApiParameter("month", str, required=True), ORG_PARAM],
        responses=s.StatementSummarySerializer(many=True),
    )
    def get(self, request):
        month = request.query_params.get("month")
        selectors.parse_month(month)
        orgs = selectors.statement_organisations(
            actor=request_actor(request), slug=request.query_params.get("organisation")
        )
        summaries = statement_summaries(organisations=orgs, month=month)
        return Response([_summary(summary, month) for summary in summaries])


def _one_org(request):
    actor = request_actor(request)
    slug = request.query_params.get("organisation")
    if actor.is_regulator and not slug:
        raise InvalidInput.from_errors(
            {"organisation": [_("Name the organisation whose document you want.")]}
        )
    return selectors.statement_organisations(actor=actor, slug=slug)[0]


def _language(request) -> str:
    language = request.query_params.get("language", "ja")
    if language not in ("ja", "en"):
        raise InvalidInput.from_errors({"language": [_("Choose ja or en.")]})
    return language


def _download(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class StatementCsvView(APIView):
    @extend_schema(parameters=[ORG_PARAM], responses={(200, "text/csv"): OpenApiTypes.BINARY})
    def get(self, request, month: str):
        selectors.parse_month(month)
        org = _one_org(request)
        body = render_statement_csv(statement_for(organisation=org, month=month))
        return _download(body, "text/csv; charset=utf-8", f"statement-{month}-{org.slug}.csv")


class StatementPdfView(APIView):
    @extend_schema(
        parameters=[ORG_PARAM, LANG_PARAM],
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
    )
    def get(self, request, month: str):
        selectors.parse_month(month)
        org = _one_org(request)
        language = _language(request)
        body = render_statement_pdf(statement_for(organisation=org, month=month), language)
        return _download(body, "application/pdf", f"statement-{month}-{org.slug}.pdf")


class InvoicePdfView(APIView):
    """The qualified invoice (適格請求書) for what you owe in the month; `kind=purchase` for
    the purchase statement (仕入明細書) of what the exchange owes you."""

    @extend_schema(
        parameters=[
            ORG_PARAM,
            LANG_PARAM,
            OpenApiParameter("kind", str, enum=["invoice", "purchase"]),
        ],
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
    )
    def get(self, request, month: str):
        selectors.parse_month(month)
        org = _one_org(request)
        language = _language(request)
        docs = monthly_documents(organisation=org, month=month)
        purchase = request.query_params.get("kind") == "purchase"
        doc = docs.purchase if purchase else docs.invoice
        if doc is None:
            raise NotFound(_("Nothing to invoice for that month."))
        prefix = "purchase-statement" if purchase else "invoice"
        return _download(
            render_invoice_pdf(doc, language), "application/pdf", f"{prefix}-{month}-{org.slug}.pdf"
        )
