"""Celery tasks of the interval cycle. Thin: ids and instants in, a service called, ids out.

Every task is idempotent (a run per interval, compare-and-set claims, per-version delivery
keys), runs with acks_late + reject_on_worker_lost (settings), and is enqueued only after
the transaction that makes its work visible has committed.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.db import OperationalError, transaction
from kombu.exceptions import OperationalError as KombuOperationalError

from aggregator.audit_checkpoints import audit_checkpoint_issue
from aggregator.cycle import intervals_due, run_clear_interval
from market import calendar
from market.clearing_models import RunStatus
from market.services.dispatch import deliveries_push_due, orders_flag_unacknowledged

logger = logging.getLogger(__name__)

# Errors worth retrying: the database or broker blinked. Anything else is a bug or bad
# data, recorded on the run and not retried blindly.
TRANSIENT = (OperationalError, ConnectionError, TimeoutError)


def _now(now_iso: str | None):
    return calendar.parse_iso(now_iso) if now_iso else None


def _held_run_countdown() -> int:
    """Seconds until a trigger looks again at a run another worker holds.

    A quarter of the lease, but at most half the broker's visibility timeout: a retry waits
    in a worker as a reserved, unacknowledged message, and Redis hands out again any message
    unacknowledged for longer than the visibility timeout. Each copy would retry in turn,
    doubling the messages every round (seen in tests/e2e with a 4 s visibility timeout).
    """
    visibility_s = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600)
    return max(1, min(max(5, settings.CLEARING_LEASE_S // 4), visibility_s // 2))


@shared_task(
    bind=True, autoretry_for=TRANSIENT, retry_backoff=5, retry_backoff_max=60, max_retries=5
)
def clear_interval(self, interval_start_iso: str, now_iso: str | None = None) -> dict:
    """Clear one firm interval, then push its orders."""
    outcome = run_clear_interval(
        interval_start=calendar.parse_iso(interval_start_iso), now=_now(now_iso)
    )
    if (
        not outcome.did_work
        and outcome.run.status == RunStatus.RUNNING
        and not self.request.is_eager
    ):
        # Another worker holds the run. If it dies, its lease expires and we take over then;
        # until the run completes this trigger stays alive.
        raise self.retry(countdown=_held_run_countdown(), max_retries=20)
    if outcome.order_ids:
        push_orders_after_commit(list(outcome.order_ids), now_iso)
    return {"run": outcome.run.pk, "did_work": outcome.did_work, "orders": len(outcome.order_ids)}


def push_orders_after_commit(order_ids: list[int], now_iso: str | None = None) -> None:
    """Once the orders are committed, ask a worker to push them now (best effort).

    They are already in the outbox: if the broker cannot take the message, the relay
    (`push_due_deliveries`, every 10 s) pushes them. So a failed publish is logged, not
    raised — raising would fail a clearing task whose run has committed (seen in tests/e2e
    with Redis down at the hand-off).
    """

    def publish() -> None:
        try:
            push_orders.delay(order_ids, now_iso)
        except (KombuOperationalError, OSError) as exc:
            logger.warning("push of %d order(s) left to the relay: %s", len(order_ids), exc)

    transaction.on_commit(publish)


@shared_task(autoretry_for=TRANSIENT, retry_backoff=2, max_retries=5)
def push_orders(order_ids: list[int], now_iso: str | None = None) -> dict:
    summary = deliveries_push_due(now=_now(now_iso), order_ids=order_ids)
    return summary.__dict__


@shared_task(autoretry_for=TRANSIENT, retry_backoff=2, max_retries=3)
def push_due_deliveries(now_iso: str | None = None) -> dict:
    """The outbox relay: retries, and anything a lost publish left behind."""
    return deliveries_push_due(now=_now(now_iso)).__dict__


@shared_task
def clear_due_intervals(now_iso: str | None = None) -> list[str]:
    """Beat's trigger: enqueue a clearing for every interval past gate closure."""
    due = [calendar.iso_z(k) for k in intervals_due(_now(now_iso))]
    for k in due:
        clear_interval.delay(k, now_iso)
    return due


@shared_task
def flag_unacknowledged_orders(now_iso: str | None = None) -> int:
    return orders_flag_unacknowledged(now=_now(now_iso))


@shared_task(autoretry_for=TRANSIENT, retry_backoff=5, max_retries=3)
def issue_audit_checkpoint() -> dict:
    """Beat's periodic anchor: sign the audit chain's head (regulators get it in reports).

    A damaged chain raises AuditChainBroken: the task fails loudly and signs nothing.
    """
    checkpoint = audit_checkpoint_issue()
    return {"seq": checkpoint.seq if checkpoint else 0}
