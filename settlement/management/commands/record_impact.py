"""`manage.py record_impact --month YYYY-MM`: compute the market-impact figures of a period.

Runs completed since the figures existed have them already (the cycle records them); this
fills in older runs, or re-dispatched ones, for a JST month or day, before people ask.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from aggregator.platform.errors import InvalidInput
from settlement.impact.services import run_impact_ensure, runs_needing_impact
from settlement.reports.periods import period_from


class Command(BaseCommand):
    help = "Compute the market-impact figures of every run of a JST month or day."

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--month", help="YYYY-MM (JST)")
        group.add_argument("--day", help="YYYY-MM-DD (JST)")

    def handle(self, *args, month: str | None = None, day: str | None = None, **options):
        try:
            period = period_from(day=day, month=month)
        except InvalidInput as exc:
            raise CommandError("; ".join(m for ms in exc.errors.values() for m in ms)) from exc
        todo = len(runs_needing_impact(start=period.start, end=period.end))
        _completed, left = run_impact_ensure(start=period.start, end=period.end)
        self.stdout.write(
            f"{period.label}: figures of {todo - left} run(s) computed, {left} failed"
        )
        if left:
            raise CommandError(f"{left} run(s) could not be computed; see the log")
