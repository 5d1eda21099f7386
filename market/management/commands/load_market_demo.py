"""`manage.py load_market_demo`: demo bids and signals for the next 24 h (after `load_demo`)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from aggregator.errors import DomainError
from market.demo import load_market_demo


class Command(BaseCommand):
    help = "Create demo bids of every kind and signals for the next 24 hours (idempotent)."

    def handle(self, *args, **options):
        try:
            load_market_demo(self.stdout)
        except (LookupError, DomainError) as exc:
            raise CommandError(str(exc)) from None
