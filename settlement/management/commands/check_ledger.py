"""`manage.py check_ledger`: prove the ledger balances and every order settled exactly once."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from settlement.ledger import ledger_check_recorded


class Command(BaseCommand):
    help = (
        "Check that every journal entry and every interval balances to zero, posting hashes "
        "match, reversals mirror their entries, and every current order of a settled "
        "interval is settled exactly once. Exits non-zero otherwise."
    )

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print the verdict as JSON")

    def handle(self, *args, **options):
        # The verdict is kept for /metrics and its alerts (docs/operations.md).
        verdict = ledger_check_recorded()
        if options["json"]:
            self.stdout.write(_dumps(verdict.as_dict()))
        else:
            self.stdout.write(
                f"{verdict.entries} entries, {verdict.postings} postings, "
                f"{verdict.intervals_settled} intervals settled, {verdict.items_settled} items; "
                f"debits {verdict.total_debits_jpy:,} JPY, balance {verdict.balance_jpy:+,} JPY"
            )
            for kind, total in sorted(verdict.totals_by_kind.items()):
                self.stdout.write(f"  {kind:<16} {total:>+16,} JPY")
        if not verdict.ok:
            for problem in verdict.problems:
                self.stderr.write(f"ledger: {problem}")
            raise CommandError(f"the ledger check failed ({len(verdict.problems)} problem(s))")
        self.stdout.write(self.style.SUCCESS("ledger OK"))


def _dumps(value) -> str:
    return json.dumps(value, indent=2, sort_keys=True)
