"""Clearing metrics from the ClearingRun rows: solve and total seconds, lateness, statuses.

Histograms are cumulative over every completed run, computed with one grouped query per
scrape: valid Prometheus semantics (the counts only grow, as runs are never deleted) and
the same on every pod, with nothing counted in processes.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection
from django.db.models import Case, CharField, Count, F, Q, Value, When
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from aggregator.exchange.cycle import intervals_due
from aggregator.exchange.metrics.sql import SecondsBetween, json_number
from market import calendar
from market.models import MarketParameters
from market.models.clearing import ClearingRun, RunStatus

# Model size by the engine's feasible (workload, site, interval) triples, the number that
# drives a solve's time and memory (docs/benchmarks.md: S 3.3 k, M 110 k, L 1.03 M).
SIZE_CLASSES: tuple[tuple[str, int | None], ...] = (("S", 10_000), ("M", 300_000), ("L", None))
SOLVE_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 3000.0)
# Seconds after gate closure; the result is due CLEARING_FINISH_BEFORE_S before the
# interval starts (3000 s after gate closure with the default 60-minute lead).
LATENESS_BUCKETS = (30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1200.0, 1800.0, 2400.0, 3000.0, 3600.0)


def _size_class():
    triples = json_number("solver_stats__feasible_triples")
    whens = [When(Q(triples__lt=bound), then=Value(name)) for name, bound in SIZE_CLASSES if bound]
    return triples, Case(*whens, default=Value(SIZE_CLASSES[-1][0]), output_field=CharField())


def _histogram_buckets(row: dict, field: str, bounds: tuple[float, ...]) -> list[tuple[str, float]]:
    out = [(_le(b), float(row[f"{field}_le_{i}"])) for i, b in enumerate(bounds)]
    out.append(("+Inf", float(row["n"])))
    return out


def _le(bound: float) -> str:
    return str(float(bound))


def completed_run_stats() -> list[dict]:
    """Per size class: counts, sums and bucket counts of completed runs (one query).

    Each run's figures are computed once, in a subquery the ORM writes for the database at
    hand (JSON paths differ); the outer query only compares numbers. Written as one
    aggregate with a filter per bucket instead, each of the ~40 buckets repeated the JSON
    extraction: 290 ms for a year of runs (17,520) on PostgreSQL, against ~60 ms this way.
    """
    triples, size = _size_class()
    solve = json_number("timings__solve_s")
    total = json_number("timings__snapshot_s") + solve + json_number("timings__persist_s")
    # finished_at is the instant the run was claimed (the cycle's `now`); it ended the run's
    # own seconds later.
    lateness = SecondsBetween(F("finished_at"), F("gate_closure")) + total
    runs = (
        ClearingRun.objects.filter(status=RunStatus.COMPLETED)
        .annotate(
            triples=triples,
            size=size,
            solve=solve,
            total=total,
            lateness=lateness,
            fb=Case(When(fallback={}, then=Value(0)), default=Value(1)),
        )
        .values("size", "solve", "total", "lateness", "fb")
        .order_by()
    )
    inner, params = runs.query.sql_with_params()
    q = connection.ops.quote_name
    columns = [
        f"COUNT(*), SUM({q('solve')}), SUM({q('total')}), SUM({q('lateness')}), SUM({q('fb')})"
    ]
    names = ["n", "solve_sum", "total_sum", "lateness_sum", "fallback"]
    bucket_params: list[float] = []
    for field, bounds in (
        ("solve", SOLVE_BUCKETS),
        ("total", SOLVE_BUCKETS),
        ("lateness", LATENESS_BUCKETS),
    ):
        for i, bound in enumerate(bounds):
            columns.append(f"SUM(CASE WHEN {q(field)} <= %s THEN 1 ELSE 0 END)")
            names.append(f"{field}_le_{i}")
            bucket_params.append(bound)
    # A fence, so that the database computes each run's figures once instead of folding the
    # subquery into the ~40 bucket sums (PostgreSQL and SQLite both flatten it otherwise).
    fence = " LIMIT -1" if connection.vendor == "sqlite" else " OFFSET 0"
    # Only quoted constant names and the ORM's own SQL go into the text; values are params.
    sql = (
        f"SELECT {q('size')}, {', '.join(columns)} FROM ({inner}{fence}) AS runs "  # noqa: S608
        f"GROUP BY {q('size')} ORDER BY {q('size')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*bucket_params, *params])
        rows = cursor.fetchall()
    return [
        {
            "size": row[0],
            **{name: (v if v is not None else 0) for name, v in zip(names, row[1:], strict=True)},
        }
        for row in rows
    ]


def collect_clearing(now: datetime):
    rows = completed_run_stats()
    solve = HistogramMetricFamily(
        "wattbit_clearing_solve_seconds",
        "Seconds the engine took to solve a completed run (cumulative over all runs), by model size.",
        labels=["size"],
    )
    total = HistogramMetricFamily(
        "wattbit_clearing_total_seconds",
        "Seconds of a completed run from snapshot to persisted result, by model size.",
        labels=["size"],
    )
    for row in rows:
        solve.add_metric(
            [row["size"]], _histogram_buckets(row, "solve", SOLVE_BUCKETS), row["solve_sum"] or 0.0
        )
        total.add_metric(
            [row["size"]], _histogram_buckets(row, "total", SOLVE_BUCKETS), row["total_sum"] or 0.0
        )
    yield solve
    yield total

    lateness = HistogramMetricFamily(
        "wattbit_clearing_lateness_seconds",
        "Seconds after gate closure at which each completed run's result was ready.",
    )
    counts = [0.0] * len(LATENESS_BUCKETS)
    for row in rows:
        for i in range(len(LATENESS_BUCKETS)):
            counts[i] += row[f"lateness_le_{i}"]
    n = float(sum(row["n"] for row in rows))
    buckets = [(_le(b), c) for b, c in zip(LATENESS_BUCKETS, counts, strict=True)] + [("+Inf", n)]
    lateness.add_metric([], buckets, float(sum(row["lateness_sum"] or 0.0 for row in rows)))
    yield lateness

    fallback = CounterMetricFamily(
        "wattbit_clearing_fallback_runs",
        "Completed runs that published the engine's fallback (out of time) instead of the exact clearing.",
    )
    fallback.add_metric([], float(sum(row["fallback"] for row in rows)))
    yield fallback

    by_status = dict(ClearingRun.objects.values_list("status").annotate(n=Count("pk")).order_by())
    runs = GaugeMetricFamily("wattbit_clearing_runs", "Clearing runs by status.", labels=["status"])
    for status in RunStatus.values:
        runs.add_metric([status], float(by_status.get(status, 0)))
    yield runs

    latest = (
        ClearingRun.objects.filter(status=RunStatus.COMPLETED)
        .order_by("-interval_start")
        .annotate(lateness=SecondsBetween(F("finished_at"), F("gate_closure")))
        .values("interval_start", "lateness", "timings")
        .first()
    )
    last = GaugeMetricFamily(
        "wattbit_clearing_last_lateness_seconds",
        "Seconds after gate closure at which the latest completed run's result was ready.",
    )
    last_start = GaugeMetricFamily(
        "wattbit_clearing_last_completed_interval_timestamp_seconds",
        "Start (Unix time) of the latest interval with a completed run.",
    )
    if latest is not None:
        timings = latest["timings"] or {}
        own = sum(float(timings.get(k) or 0) for k in ("snapshot_s", "solve_s", "persist_s"))
        last.add_metric([], float(latest["lateness"]) + own)
        last_start.add_metric([], latest["interval_start"].timestamp())
    yield last
    yield last_start

    yield from _overdue(now)


def _overdue(now: datetime) -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
    """How long the oldest interval past gate closure has waited for a completed run."""
    due = intervals_due(now)
    lead = MarketParameters.current().gate_closure_lead_minutes
    waiting = max(
        ((now - calendar.gate_closure(k, lead)).total_seconds() for k in due), default=0.0
    )
    overdue = GaugeMetricFamily(
        "wattbit_clearing_overdue_seconds",
        "Seconds since gate closure of the oldest not-yet-started interval without a completed "
        "run (0 when every due interval has cleared).",
    )
    overdue.add_metric([], waiting)
    due_now = GaugeMetricFamily(
        "wattbit_clearing_due_intervals",
        "Intervals past gate closure, not yet started, without a completed run.",
    )
    due_now.add_metric([], float(len(due)))
    return overdue, due_now


__all__ = [
    "LATENESS_BUCKETS",
    "SIZE_CLASSES",
    "SOLVE_BUCKETS",
    "collect_clearing",
    "completed_run_stats",
]
