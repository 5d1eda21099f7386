"""Each organisation's monthly documents written as files: statement (CSV, PDF), qualified
invoice and purchase statement (PDF). `manage.py make_statements` writes them on demand; the
`reports` queue's monthly task writes the previous month's into STATEMENTS_DIR."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from market.calendar import to_jst
from operators.models import Organisation
from settlement.documents.csv import render_statement_csv
from settlement.documents.pdf import render_invoice_pdf, render_statement_pdf
from settlement.models.ledger import Posting
from settlement.selectors import month_bounds
from settlement.statements import monthly_documents


@dataclass(frozen=True)
class WrittenDocuments:
    organisation: str
    lines: int
    net_jpy: int
    invoiced_jpy: int
    purchased_jpy: int
    files: int


def previous_month(now: datetime) -> str:
    """The JST month before the one `now` falls in, as YYYY-MM."""
    local = to_jst(now)
    year, month = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def statements_write(
    *, month: str, output: Path, language: str = "ja", pdf: bool = True
) -> list[WrittenDocuments]:
    """Write the month's documents of every organisation with postings in it, under
    output/month/; a month that is malformed or out of range raises DomainError first."""
    start, end = month_bounds(month)
    folder = Path(output) / month
    folder.mkdir(parents=True, exist_ok=True)
    org_ids = set(
        Posting.objects.filter(
            interval_start__gte=start, interval_start__lt=end, organisation__isnull=False
        )
        .values_list("organisation_id", flat=True)
        .distinct()
    )
    written = []
    for org in Organisation.objects.filter(pk__in=org_ids).order_by("slug"):
        docs = monthly_documents(organisation=org, month=month)
        (folder / f"{org.slug}.csv").write_bytes(render_statement_csv(docs.statement))
        files = 1
        if pdf:
            (folder / f"{org.slug}-statement.pdf").write_bytes(
                render_statement_pdf(docs.statement, language)
            )
            files += 1
            if docs.invoice:
                (folder / f"{org.slug}-invoice.pdf").write_bytes(
                    render_invoice_pdf(docs.invoice, language)
                )
                files += 1
            if docs.purchase:
                (folder / f"{org.slug}-purchase-statement.pdf").write_bytes(
                    render_invoice_pdf(docs.purchase, language)
                )
                files += 1
        written.append(
            WrittenDocuments(
                organisation=org.slug,
                lines=len(docs.statement.lines),
                net_jpy=docs.statement.totals.net_jpy,
                invoiced_jpy=docs.invoice_tax.total_jpy if docs.invoice_tax else 0,
                purchased_jpy=docs.purchase_tax.total_jpy if docs.purchase_tax else 0,
                files=files,
            )
        )
    return written
