"""`manage.py import_carbon_factors [FILE…]`: annual area carbon intensity (Electricity Maps)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from aggregator.platform.errors import InvalidInput
from market.datafiles import DATA_DIR
from market.services.signals import carbon_factors_import

DATA = DATA_DIR / "electricitymaps"
DEFAULT_FILES = [DATA / "yearly_2023.json", DATA / "yearly_2024.json"]


class Command(BaseCommand):
    help = (
        "Load annual carbon intensity per JEPX area from Electricity Maps yearly files "
        "(data © Electricity Maps, ODbL). Safe to repeat."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="*", type=Path)

    def handle(self, *args, files: list[Path], **options):
        for path in files or DEFAULT_FILES:
            try:
                created, updated = carbon_factors_import(path=path)
            except InvalidInput as exc:
                raise CommandError(f"{path.name}: refused: {exc.errors}") from None
            self.stdout.write(f"{path.name}: {created} area factors added, {updated} updated.")
        self.stdout.write("Carbon data © Electricity Maps, Open Database License (ODbL).")
