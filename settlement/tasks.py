"""Celery tasks of settlement. Thin: ids and instants in, a service called, counts out."""

from __future__ import annotations

from celery import shared_task

from aggregator.platform.tasks import TRANSIENT_ERRORS, AfterCommitTask
from market.clock import now_from
from market.models.clearing import ClearingRun
from settlement.services.settle import interval_finalise, settle_due


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
