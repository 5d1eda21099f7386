"""`manage.py import_jepx_spot FILE…`: JEPX day-ahead system and area prices, idempotently."""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from market.calendar import to_jst
from market.jepx import JepxFormatError, read_spot_summary
from market.services.signals import JEPX_SOURCE, signals_import_jepx


class Command(BaseCommand):
    help = "Import JEPX spot_summary_YYYY.csv files (Shift-JIS, as published). Safe to repeat."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", type=Path)
        parser.add_argument("--source", default=JEPX_SOURCE, help="source label stored")

    def handle(self, *args, files: list[Path], source: str, **options):
        for path in files:
            self._import(path, source)

    def _import(self, path: Path, source: str) -> None:
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        started = time.monotonic()
        try:
            rows = read_spot_summary(path)
        except JepxFormatError as exc:
            raise CommandError(f"{path.name}: refused, nothing imported: {exc}") from None
        self.stdout.write(f"{path.name}: {len(rows):,} slots read, importing…")
        shown = -1

        def progress(done: int, total: int) -> None:
            nonlocal shown
            tenth = done * 10 // total
            if tenth != shown:
                shown = tenth
                bar = "#" * tenth + "." * (10 - tenth)
                self.stdout.write(f"  [{bar}] {done:,}/{total:,} slots")

        summary = signals_import_jepx(rows=rows, source=source, progress=progress)
        seconds = time.monotonic() - started
        if summary.created == 0:
            self.stdout.write(
                self.style.WARNING(
                    f"{path.name}: nothing new — all {summary.existing:,} prices were already "
                    f"imported ({summary.days} days)."
                )
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"{path.name}: {summary.created:,} prices imported, {summary.existing:,} already "
                f"present; {summary.days} delivery days {to_jst(summary.first):%Y-%m-%d} .. "
                f"{to_jst(summary.last):%Y-%m-%d} (JST) in {seconds:.1f} s."
            )
        )
