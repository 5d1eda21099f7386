"""manage.py market_report (--day D | --month M) --format pdf|csv|json [--lang ja|en] -o FILE."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from aggregator.platform.errors import InvalidInput
from settlement.documents.fonts import FontMissing
from settlement.reports.periods import period_from
from settlement.reports.services import FORMATS, LANGUAGES, market_report_file


class Command(BaseCommand):
    help = "Write the regulator's market report for one JST day or month (PDF, CSV or JSON)."

    def add_arguments(self, parser):
        when = parser.add_mutually_exclusive_group(required=True)
        when.add_argument("--day", help="JST day, YYYY-MM-DD")
        when.add_argument("--month", help="JST month, YYYY-MM")
        parser.add_argument("--format", required=True, choices=FORMATS)
        parser.add_argument("--lang", default="ja", choices=LANGUAGES)
        parser.add_argument("-o", "--output", required=True, help="file to write")

    def handle(self, *args, **options):
        try:
            period = period_from(day=options["day"], month=options["month"])
        except InvalidInput as exc:
            raise CommandError("; ".join(m for ms in exc.errors.values() for m in ms)) from exc
        output = options["output"]
        if not Path(output).parent.is_dir():
            raise CommandError(f"directory does not exist: {Path(output).parent}")
        progress = self.stderr.write if options["month"] else None
        try:
            report = market_report_file(
                period=period, fmt=options["format"], language=options["lang"], progress=progress
            )
        except FontMissing as exc:
            raise CommandError(str(exc)) from exc
        Path(output).write_bytes(report.content)
        self.stderr.write(f"wrote {output} ({len(report.content):,} bytes, {period.label})")
