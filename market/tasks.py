"""Celery tasks of the market: pushing dispatch orders, flagging silence, housekeeping.

Thin: ids and instants in, a service called, counts out. The names are the wire names the
tasks had before they moved here from aggregator/tasks.py (beat's schedule and messages
already queued refer to them).
"""

from __future__ import annotations

from celery import shared_task
from kombu.exceptions import OperationalError as KombuOperationalError

from aggregator.platform.tasks import TRANSIENT_ERRORS, AfterCommitTask
from market.clock import now_from
from market.idempotency import idempotency_purge
from market.services.dispatch import deliveries_push_due, orders_flag_unacknowledged


class PushOrdersTask(AfterCommitTask):
    # The orders are already in the outbox: if the broker cannot take the message, the
    # relay (`push_due_deliveries`, every 10 s) pushes them. Raising would fail a clearing
    # whose run has committed (seen in tests/e2e with Redis down at the hand-off).
    publish_errors_logged = (KombuOperationalError, OSError)


@shared_task(
    name="aggregator.tasks.push_orders",
    base=PushOrdersTask,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=2,
    max_retries=5,
)
def push_orders(order_ids: list[int], now_iso: str | None = None) -> dict:
    """Push these orders now (enqueued once the transaction that wrote them commits)."""
    summary = deliveries_push_due(now=now_from(now_iso), order_ids=order_ids)
    return summary.__dict__


@shared_task(
    name="aggregator.tasks.push_due_deliveries",
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=2,
    max_retries=3,
)
def push_due_deliveries(now_iso: str | None = None) -> dict:
    """The outbox relay: retries, and anything a lost publish left behind."""
    return deliveries_push_due(now=now_from(now_iso)).__dict__


@shared_task(name="aggregator.tasks.flag_unacknowledged_orders")
def flag_unacknowledged_orders(now_iso: str | None = None) -> int:
    return orders_flag_unacknowledged(now=now_from(now_iso))


@shared_task
def purge_idempotency_keys() -> int:
    """Idempotency keys are kept 24 hours; older ones free their key for reuse."""
    return idempotency_purge()
