"""Where each integrity check's last verdict is kept: one row per check, for /metrics.

The checks themselves stay where they are (`verify_audit_chain`, the hourly
`issue_audit_checkpoint`, settlement's `check_ledger`); each records its verdict here as
it finishes, so that an alert sees both a failed check and one that stopped running.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from aggregator.platform.models import IntegrityCheckResult

AUDIT_CHAIN = "audit_chain"  # manage.py verify_audit_chain: every row, head and checkpoint
AUDIT_CHECKPOINT = "audit_checkpoint"  # beat's hourly checkpoint: the rows since the last one
LEDGER = "ledger"  # manage.py check_ledger
CHECKS = (AUDIT_CHAIN, AUDIT_CHECKPOINT, LEDGER)


def integrity_check_record(
    *, name: str, ok: bool, detail: str = "", now: datetime | None = None
) -> IntegrityCheckResult:
    """Keep `name`'s latest verdict (one row per check, replaced each time)."""
    if name not in CHECKS:
        raise ValueError(f"unknown integrity check {name!r}")
    row, _created = IntegrityCheckResult.objects.update_or_create(
        name=name,
        defaults={"ok": ok, "checked_at": now or timezone.now(), "detail": detail[:500]},
    )
    return row


def audit_chain_verify_recorded(checkpoints=()) -> tuple[object, str]:
    """Verify the whole audit chain (and `checkpoints`), keep the verdict; (verdict, problem)
    with problem "" when the chain is intact. `verify_audit_chain` and the daily check."""
    from aggregator.platform.audit import audit_verify_chain

    verdict = audit_verify_chain(checkpoints=list(checkpoints))
    if verdict.ok:
        integrity_check_record(name=AUDIT_CHAIN, ok=True, detail=f"{verdict.checked} rows")
        return verdict, ""
    problem = (
        f"audit chain BROKEN at row #{verdict.first_bad_seq}: {verdict.reason} "
        f"({verdict.checked} row(s) before it verified)"
    )
    integrity_check_record(name=AUDIT_CHAIN, ok=False, detail=problem)
    return verdict, problem


__all__ = [
    "AUDIT_CHAIN",
    "AUDIT_CHECKPOINT",
    "CHECKS",
    "LEDGER",
    "audit_chain_verify_recorded",
    "integrity_check_record",
]
