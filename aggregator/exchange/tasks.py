"""Celery tasks of the interval cycle. Thin: ids and instants in, a service called, ids out.

Every task is idempotent (a run per interval, compare-and-set claims, per-version delivery
keys), runs with acks_late + reject_on_worker_lost (settings), and work that must follow a
commit is enqueued by an AfterCommitTask. The names are the wire names the tasks had in
aggregator/tasks.py (beat's schedule and messages already queued refer to them).
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from aggregator.exchange.cycle import intervals_due, run_clear_interval
from aggregator.platform.tasks import TRANSIENT_ERRORS
from market import calendar
from market.clock import now_from
from market.models.clearing import RunStatus
from market.tasks import push_orders


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
    name="aggregator.tasks.clear_interval",
    bind=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=5,
    retry_backoff_max=60,
    max_retries=5,
)
def clear_interval(self, interval_start_iso: str, now_iso: str | None = None) -> dict:
    """Clear one firm interval, then push its orders."""
    outcome = run_clear_interval(
        interval_start=calendar.parse_iso(interval_start_iso), now=now_from(now_iso)
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
        push_orders.delay(list(outcome.order_ids), now_iso)
    return {"run": outcome.run.pk, "did_work": outcome.did_work, "orders": len(outcome.order_ids)}


@shared_task(name="aggregator.tasks.clear_due_intervals")
def clear_due_intervals(now_iso: str | None = None) -> list[str]:
    """Beat's trigger: enqueue a clearing for every interval past gate closure."""
    due = [calendar.iso_z(k) for k in intervals_due(now_from(now_iso))]
    for k in due:
        clear_interval.delay(k, now_iso)
    return due
