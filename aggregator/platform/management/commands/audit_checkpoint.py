"""Sign a checkpoint of the audit chain's head now and print it (beat does this periodically)."""

import json

from django.core.management.base import BaseCommand, CommandError

from aggregator.platform.audit import AuditChainBroken
from aggregator.platform.audit_checkpoints import audit_checkpoint_issue


class Command(BaseCommand):
    help = (
        "Check the rows added since the last checkpoint, sign the chain's head and print the "
        "checkpoint (its token is what verify_audit_chain --checkpoint takes)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print the checkpoint as JSON")

    def handle(self, *args, **options):
        try:
            checkpoint = audit_checkpoint_issue()
        except AuditChainBroken as exc:
            raise CommandError(f"no checkpoint signed: {exc}", returncode=1) from exc
        if checkpoint is None:
            self.stdout.write("the audit chain is empty: nothing to sign")
            return
        if options["json"]:
            self.stdout.write(json.dumps(checkpoint.as_dict(), indent=2))
        else:
            self.stdout.write(f"checkpoint #{checkpoint.seq} at {checkpoint.at_text}")
            self.stdout.write(checkpoint.token)
