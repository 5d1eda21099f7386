"""`manage.py make_statements --month YYYY-MM [-o DIR]`: statements and invoices as files."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from aggregator.platform.errors import DomainError
from settlement.services.statement_files import statements_write


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
            written = statements_write(
                month=month, output=Path(output), language=language, pdf=not no_pdf
            )
        except DomainError as exc:
            raise CommandError(exc.detail) from exc
        for docs in written:
            self.stdout.write(
                f"{docs.organisation:<20} {docs.lines:>6} lines  net {docs.net_jpy:>+14,} "
                f"JPY  invoice {docs.invoiced_jpy:>12,} JPY incl. tax  purchase "
                f"{docs.purchased_jpy:>12,} JPY  ({docs.files} files)"
            )
        files = sum(docs.files for docs in written)
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(written)} organisation(s), {files} file(s) in {Path(output) / month}"
            )
        )
