"""Check every audit row's keyed hash and link, the head, and signed checkpoints; exit 1 if broken."""

from django.core.management.base import BaseCommand, CommandError

from aggregator.platform.audit_checkpoints import read_checkpoints
from aggregator.platform.integrity_checks import audit_chain_verify_recorded


class Command(BaseCommand):
    help = (
        "Verify the audit chain: every row's keyed hash and link, the head row, the stored "
        "checkpoints and any checkpoint given (detects altered, removed, reordered or cut-off "
        "rows, and forged checkpoints)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--checkpoint",
            action="append",
            default=[],
            metavar="TOKEN_OR_FILE",
            help=(
                "a checkpoint token (wbckpt1.…) or a file holding tokens, e.g. a market report "
                "in JSON or CSV as regulators received it; repeatable"
            ),
        )

    def handle(self, *args, **options):
        given = []
        for value in options["checkpoint"]:
            try:
                given.extend(read_checkpoints(value))
            except (ValueError, OSError) as exc:
                raise CommandError(str(exc), returncode=2) from exc
        # The verdict is kept for /metrics and its alerts (docs/operations.md).
        verdict, problem = audit_chain_verify_recorded(given)
        if problem:
            raise CommandError(problem, returncode=1)
        self.stdout.write(
            self.style.SUCCESS(
                f"audit chain OK: {verdict.checked} row(s) verified, "
                f"{verdict.checkpoints} checkpoint(s) matched"
            )
        )
