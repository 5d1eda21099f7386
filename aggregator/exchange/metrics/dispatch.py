"""Dispatch metrics: push deliveries not yet delivered, and orders left unacknowledged."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Q
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from market.models.dispatch import AckState, DeliveryState, DispatchOrder, OrderDelivery

# What a delivery that is not delivered is doing: waiting for its first push, waiting to be
# retried after a failed attempt, being sent now, or given up (its interval started).
PHASES = ("pending", "retrying", "sending")


def collect_dispatch(now: datetime):
    # Only undelivered rows are read (a partial index, market 0006): delivered ones are
    # the bulk of the table and never change again.
    rows = (
        OrderDelivery.objects.exclude(state=DeliveryState.DELIVERED)
        .values("state")
        .annotate(
            first=Count("pk", filter=Q(attempts=0)),
            again=Count("pk", filter=Q(attempts__gt=0)),
            overdue=Count("pk", filter=Q(next_attempt_at__lte=now)),
        )
        .order_by()
    )
    by_state = {row["state"]: row for row in rows}
    pending = by_state.get(DeliveryState.PENDING, {})
    sending = by_state.get(DeliveryState.SENDING, {})
    expired = by_state.get(DeliveryState.EXPIRED, {})

    gauge = GaugeMetricFamily(
        "wattbit_dispatch_deliveries",
        "Order pushes not delivered yet: pending (no attempt yet), retrying (an attempt "
        "failed, another is scheduled), sending (a worker holds it now).",
        labels=["phase"],
    )
    gauge.add_metric(["pending"], float(pending.get("first", 0)))
    gauge.add_metric(["retrying"], float(pending.get("again", 0)))
    gauge.add_metric(["sending"], float(sending.get("first", 0) + sending.get("again", 0)))
    yield gauge

    due = GaugeMetricFamily(
        "wattbit_dispatch_deliveries_due",
        "Pending pushes whose next attempt time has passed (the relay has not got to them).",
    )
    due.add_metric([], float(pending.get("overdue", 0)))
    yield due

    failed = CounterMetricFamily(
        "wattbit_dispatch_deliveries_failed",
        "Pushes given up because their interval started before any attempt succeeded.",
    )
    failed.add_metric([], float(expired.get("first", 0) + expired.get("again", 0)))
    yield failed

    # Orders of intervals that started while nobody had acknowledged them (flagged each
    # minute by beat's flag_unacknowledged_orders; a later acknowledgement keeps the flag).
    flagged = DispatchOrder.objects.filter(flagged_unacknowledged_at__isnull=False).count()
    unacked = CounterMetricFamily(
        "wattbit_dispatch_orders_unacknowledged_at_start",
        "Current dispatch orders whose interval started before the participant acknowledged them.",
    )
    unacked.add_metric([], float(flagged))
    yield unacked

    awaiting = DispatchOrder.objects.filter(
        interval_start__gt=now, is_current=True, ack_state=AckState.PENDING
    ).count()
    waiting = GaugeMetricFamily(
        "wattbit_dispatch_orders_awaiting_ack",
        "Current orders of intervals not started yet that await the participant's acknowledgement.",
    )
    waiting.add_metric([], float(awaiting))
    yield waiting


__all__ = ["collect_dispatch"]
