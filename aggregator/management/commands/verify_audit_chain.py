"""Check every audit row's hash and link; exit 1 naming the first broken row."""

from django.core.management.base import BaseCommand, CommandError

from aggregator.audit import audit_verify_chain


class Command(BaseCommand):
    help = "Verify the hash chain of the audit log (detects altered, removed or reordered rows)."

    def handle(self, *args, **options):
        verdict = audit_verify_chain()
        if not verdict.ok:
            raise CommandError(
                f"audit chain BROKEN at row #{verdict.first_bad_seq}: {verdict.reason} "
                f"({verdict.checked} row(s) before it verified)",
                returncode=1,
            )
        self.stdout.write(self.style.SUCCESS(f"audit chain OK: {verdict.checked} row(s) verified"))
