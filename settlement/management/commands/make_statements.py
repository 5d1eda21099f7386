"""`manage.py make_statements --month YYYY-MM [-o DIR]`: statements and invoices as files."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from aggregator.platform.errors import DomainError
from operators.models import Organisation
from settlement.documents.csv import render_statement_csv
from settlement.documents.pdf import render_invoice_pdf, render_statement_pdf
from settlement.models.ledger import Posting
from settlement.selectors import month_bounds
from settlement.statements import monthly_documents


class Command(BaseCommand):
    help = (
        "Write each organisation's monthly statement (CSV, PDF), qualified invoice (PDF) and "
        "purchase statement (PDF) for a JST month."
    )

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="YYYY-MM (JST)")
        parser.add_argument("-o", "--output", default="var/statements", help="directory")
        parser.add_argument("--language", default="ja", choices=["ja", "en"])
        parser.add_argument("--no-pdf", action="store_true", help="CSV and totals only")

    def handle(self, *args, month: str, output: str, language: str, no_pdf: bool, **options):
        try:
            start, end = month_bounds(month)
        except DomainError as exc:
            raise CommandError(exc.detail) from exc
        out = Path(output) / month
        out.mkdir(parents=True, exist_ok=True)
        org_ids = set(
            Posting.objects.filter(
                interval_start__gte=start, interval_start__lt=end, organisation__isnull=False
            )
            .values_list("organisation_id", flat=True)
            .distinct()
        )
        written = 0
        for org in Organisation.objects.filter(pk__in=org_ids).order_by("slug"):
            try:
                docs = monthly_documents(organisation=org, month=month)
            except DomainError as exc:
                raise CommandError(exc.detail) from exc
            base = out / org.slug
            (base.with_suffix(".csv")).write_bytes(render_statement_csv(docs.statement))
            files = 1
            if not no_pdf:
                (out / f"{org.slug}-statement.pdf").write_bytes(
                    render_statement_pdf(docs.statement, language)
                )
                files += 1
                if docs.invoice:
                    (out / f"{org.slug}-invoice.pdf").write_bytes(
                        render_invoice_pdf(docs.invoice, language)
                    )
                    files += 1
                if docs.purchase:
                    (out / f"{org.slug}-purchase-statement.pdf").write_bytes(
                        render_invoice_pdf(docs.purchase, language)
                    )
                    files += 1
            totals = docs.statement.totals
            invoiced = docs.invoice_tax.total_jpy if docs.invoice_tax else 0
            purchased = docs.purchase_tax.total_jpy if docs.purchase_tax else 0
            self.stdout.write(
                f"{org.slug:<20} {len(docs.statement.lines):>6} lines  net {totals.net_jpy:>+14,} "
                f"JPY  invoice {invoiced:>12,} JPY incl. tax  purchase {purchased:>12,} JPY  "
                f"({files} files)"
            )
            written += files
        self.stdout.write(
            self.style.SUCCESS(f"{len(org_ids)} organisation(s), {written} file(s) in {out}")
        )
