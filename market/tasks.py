"""Periodic housekeeping of the market (thin: a service call)."""

from celery import shared_task

from market.idempotency import idempotency_purge


@shared_task
def purge_idempotency_keys() -> int:
    """Idempotency keys are kept 24 hours; older ones free their key for reuse."""
    return idempotency_purge()
