"""Settlement lag and the integrity checks' last verdicts."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Min
from prometheus_client.core import GaugeMetricFamily

from aggregator.platform.integrity_checks import CHECKS
from aggregator.platform.models import IntegrityCheckResult
from market import calendar
from market.models.clearing import ClearingRun, RunStatus
from settlement.models import SettlementParameters
from settlement.services.settle import metering_deadline


def collect_settlement(now: datetime):
    # "Due" exactly as settle_due reads it (settlement.services.settle.runs_due_for_settlement):
    # a completed run whose metering deadline has passed and that has no settlement yet.
    params = SettlementParameters.current()
    latest_start = now - calendar.INTERVAL - timedelta(hours=params.metering_deadline_hours)
    due = ClearingRun.objects.filter(
        status=RunStatus.COMPLETED, interval_start__lte=latest_start, settlement__isnull=True
    ).aggregate(oldest=Min("interval_start"), n=Count("pk"))
    lag = GaugeMetricFamily(
        "wattbit_settlement_lag_seconds",
        "Seconds since the metering deadline of the oldest cleared interval not yet settled "
        "(0 when every interval past its deadline is settled).",
    )
    oldest = due["oldest"]
    lag.add_metric([], (now - metering_deadline(oldest, params)).total_seconds() if oldest else 0.0)
    yield lag
    count = GaugeMetricFamily(
        "wattbit_settlement_intervals_due",
        "Cleared intervals past their metering deadline that are not settled yet.",
    )
    count.add_metric([], float(due["n"]))
    yield count


def collect_integrity(now: datetime):
    rows = {r.name: r for r in IntegrityCheckResult.objects.filter(name__in=CHECKS)}
    ok = GaugeMetricFamily(
        "wattbit_integrity_check_ok",
        "The last verdict of an integrity check: 1 passed, 0 failed (absent: never ran).",
        labels=["check"],
    )
    at = GaugeMetricFamily(
        "wattbit_integrity_check_timestamp_seconds",
        "When an integrity check last ran (Unix time).",
        labels=["check"],
    )
    for name in CHECKS:
        if name in rows:
            ok.add_metric([name], 1.0 if rows[name].ok else 0.0)
            at.add_metric([name], rows[name].checked_at.timestamp())
    yield ok
    yield at


__all__ = ["collect_integrity", "collect_settlement"]
