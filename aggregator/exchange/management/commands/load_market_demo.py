"""`manage.py load_market_demo`: demo bids and signals for the next 24 h (after `load_demo`)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from aggregator.exchange.demo.market import load_market_demo
from aggregator.platform.errors import DomainError


class Command(BaseCommand):
    help = "Create demo bids of every kind and signals for the next 24 hours (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Load demo bids even with DEBUG off (never on a real exchange).",
        )

    def handle(self, *args, allow_production: bool = False, **options):
        if not settings.DEBUG and not allow_production:
            raise CommandError(
                "load_market_demo refuses to run with DEBUG off; pass --allow-production."
            )
        try:
            load_market_demo(self.stdout)
        except (LookupError, DomainError) as exc:
            raise CommandError(str(exc)) from None
