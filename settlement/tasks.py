"""Celery tasks of settlement. Thin: ids and instants in, a service called, counts out."""

from __future__ import annotations

import logging
from pathlib import Path

from celery import shared_task
from django.conf import settings

from aggregator.platform.integrity_checks import audit_chain_verify_recorded
from aggregator.platform.tasks import TRANSIENT_ERRORS, AfterCommitTask
from market.clock import now_from
from market.models.clearing import ClearingRun
from settlement.ledger import ledger_check_recorded
from settlement.services.settle import interval_finalise, settle_due
from settlement.services.statement_files import previous_month, statements_write

logger = logging.getLogger(__name__)


@shared_task(autoretry_for=TRANSIENT_ERRORS, retry_backoff=5, retry_backoff_max=60, max_retries=5)
def settle_due_intervals(now_iso: str | None = None) -> dict:
    """Beat's trigger: settle intervals past their metering deadline; finalise late data."""
    return settle_due(now=now_from(now_iso))


@shared_task(
    base=AfterCommitTask,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=5,
    retry_backoff_max=60,
    max_retries=5,
)
def finalise_interval(run_id: int, now_iso: str | None = None) -> dict:
    """Enqueued when late meter data arrives for a provisional interval (published once
    the readings have committed: AfterCommitTask)."""
    run = ClearingRun.objects.get(pk=run_id)
    outcome = interval_finalise(run=run, now=now_from(now_iso))
    return {"run": run_id, "state": outcome.state, "finalised_items": outcome.finalised_items}


@shared_task(
    name="settlement.tasks.write_monthly_statements",
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=30,
    max_retries=3,
)
def write_monthly_statements(month: str | None = None, now_iso: str | None = None) -> dict:
    """Beat's monthly job on the `reports` queue: the previous JST month's statements,
    invoices and purchase statements as files in STATEMENTS_DIR (rewritten if run again)."""
    month = month or previous_month(now_from(now_iso))
    written = statements_write(
        month=month, output=Path(settings.STATEMENTS_DIR), language=settings.LANGUAGE_CODE
    )
    return {"month": month, "organisations": len(written), "files": sum(w.files for w in written)}


@shared_task(name="settlement.tasks.verify_integrity")
def verify_integrity() -> dict:
    """Beat's daily full check of the audit chain and the ledger, as `verify_audit_chain` and
    `check_ledger` do; each verdict is kept for /metrics, whose alerts fire on a failed or a
    stale check (docs/operations.md). A failure is logged, not retried: it is evidence."""
    _verdict, problem = audit_chain_verify_recorded()
    ledger = ledger_check_recorded()
    if problem:
        logger.error("integrity check failed: %s", problem)
    if not ledger.ok:
        logger.error("integrity check failed: ledger: %s", "; ".join(ledger.problems)[:500])
    return {"audit_chain": not problem, "ledger": ledger.ok}
