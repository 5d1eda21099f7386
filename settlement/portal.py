"""Portal pages of settlement: monthly statements and invoices to download, meter CSV upload."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from aggregator.platform.errors import DomainError, InvalidInput
from aggregator.platform.portal import portal_view
from market.calendar import to_jst
from settlement import selectors
from settlement.documents.csv import render_statement_csv
from settlement.documents.pdf import render_invoice_pdf, render_statement_pdf
from settlement.services.meter import CSV_COLUMNS, meter_report_csv
from settlement.statements import monthly_documents, statement_for, statement_summaries


def _month(request) -> str:
    month = request.GET.get("month") or f"{to_jst(timezone.now()):%Y-%m}"
    selectors.parse_month(month)
    return month


@portal_view
def statements(request):
    """Your statement for a month (regulators: every organisation's), with downloads."""
    try:
        month = _month(request)
    except InvalidInput:
        month = f"{to_jst(timezone.now()):%Y-%m}"
        messages.error(request, _("Give the month as YYYY-MM."))
    rows = statement_summaries(
        organisations=selectors.statement_organisations(actor=request.actor), month=month
    )
    return render(request, "settlement/statements.html", {"month": month, "rows": rows})


def _org(request):
    slug = request.GET.get("organisation") or None
    return selectors.statement_organisations(actor=request.actor, slug=slug)[0]


def _download(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _language(request) -> str:
    language = request.GET.get("language") or getattr(request, "LANGUAGE_CODE", "ja")
    return "en" if language.startswith("en") else "ja"


@portal_view
def statement_csv(request, month: str):
    selectors.parse_month(month)
    org = _org(request)
    body = render_statement_csv(statement_for(organisation=org, month=month))
    return _download(body, "text/csv; charset=utf-8", f"statement-{month}-{org.slug}.csv")


@portal_view
def statement_pdf(request, month: str):
    selectors.parse_month(month)
    org = _org(request)
    body = render_statement_pdf(statement_for(organisation=org, month=month), _language(request))
    return _download(body, "application/pdf", f"statement-{month}-{org.slug}.pdf")


@portal_view
def invoice_pdf(request, month: str):
    from django.http import Http404

    selectors.parse_month(month)
    org = _org(request)
    docs = monthly_documents(organisation=org, month=month)
    purchase = request.GET.get("kind") == "purchase"
    doc = docs.purchase if purchase else docs.invoice
    if doc is None:
        raise Http404(_("Nothing to invoice for that month."))
    prefix = "purchase-statement" if purchase else "invoice"
    return _download(
        render_invoice_pdf(doc, _language(request)),
        "application/pdf",
        f"{prefix}-{month}-{org.slug}.pdf",
    )


@portal_view
def meter_upload(request):
    """Upload meter readings as CSV: all rows are written, or none if any row has an error."""
    context = {"columns": ",".join(CSV_COLUMNS), "errors": [], "file_error": ""}
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            context["file_error"] = _("Choose a CSV file.")
        else:
            try:
                readings = meter_report_csv(actor=request.actor, content=upload.read())
            except InvalidInput as exc:
                for item in exc.errors.get("readings", []):
                    for field, problems in item["errors"].items():
                        context["errors"] += [(item["row"], field, p) for p in problems]
                if "file" in exc.errors:
                    context["file_error"] = " ".join(exc.errors["file"])
            except DomainError as exc:
                context["file_error"] = exc.detail
            else:
                messages.success(
                    request, _("%(n)d meter readings recorded.") % {"n": len(readings)}
                )
                return redirect("settlement:meter-upload")
    return render(request, "settlement/meter_upload.html", context)
