"""The interval cycle: claim the run of a firm interval, snapshot, solve, persist, hand off.

Exactly one run per interval: a unique row per interval plus a compare-and-set lease.
A worker that dies mid-run leaves the lease to expire; the next trigger takes the run over
and redoes it from its stored snapshot, so the outcome is the same and nothing is doubled.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from aggregator.engine import SolveOptions, solve
from market import calendar
from market.models import MarketParameters
from market.models.clearing import ClearingRun, RunStatus
from market.services.clearing import LostClaim, clearing_persist
from market.snapshot import snapshot_build
from settlement.impact.services import run_impact_record

logger = logging.getLogger(__name__)


def clearing_budget_s(interval_start: datetime, now: datetime) -> float:
    """Seconds the engine may take for this interval: its result must be there
    CLEARING_FINISH_BEFORE_S before the interval starts, so dispatch orders reach
    participants in time; past that the engine publishes its documented fallback instead
    (docs/engine.md). A trigger that comes late still gets CLEARING_MIN_BUDGET_S."""
    finish_by = interval_start - timedelta(seconds=settings.CLEARING_FINISH_BEFORE_S)
    return max((finish_by - now).total_seconds(), float(settings.CLEARING_MIN_BUDGET_S))


# The pairs that the last clearing found worth their migration cost start the next one's
# pair generation (SolveOptions.pair_start): 30 minutes later most still are, and bench L
# clears in 73 s from them instead of 167 s (docs/engine.md). Only the time depends on it, so
# a lost or stale entry costs time, never a different result. It lives in the cache, not
# on the run's stored documents, because it names participants' workloads.
PAIR_START_KEY = "clearing:pair-start"
PAIR_START_TTL_S = 6 * 3600


def pair_start_load() -> frozenset[tuple[str, str]] | None:
    try:
        names = cache.get(PAIR_START_KEY)
    except Exception as exc:  # a hint: an unreachable cache must not stop the clearing
        logger.warning("pairs to start from not read (%s); clearing without", exc)
        return None
    return None if names is None else frozenset((w, s) for w, s in names)


def pair_start_store(names: frozenset[tuple[str, str]] | None) -> None:
    if names is None:
        return
    try:
        cache.set(PAIR_START_KEY, sorted(names), timeout=PAIR_START_TTL_S)
    except Exception as exc:
        logger.warning("pairs to start from not kept for the next run (%s)", exc)


def lease() -> timedelta:
    """How long a run's claim holds; a longer silence means its worker died."""
    return timedelta(seconds=settings.CLEARING_LEASE_S)


class ClaimHeartbeat:
    """Keeps a run's claim alive while its worker is busy solving.

    A national clearing can take minutes (docs/benchmarks.md), longer than the lease: without
    a sign of life another trigger would take the run over mid-solve, and the next one that
    one, and none would finish. Every `every_s` the claim's `claimed_at` moves on by the
    wall time elapsed (on the clock the claim was made in, which may be a simulated one),
    only while the claim is still ours and running. A worker that dies stops beating, so
    its lease expires as before.
    """

    def __init__(self, run_pk: int, token: str, every_s: float) -> None:
        self.run_pk, self.token, self.every_s = run_pk, token, every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"claim-{run_pk}", daemon=True)

    def __enter__(self) -> ClaimHeartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        last = time.monotonic()
        try:
            while not self._stop.wait(self.every_s):
                now = time.monotonic()
                ClearingRun.objects.filter(
                    pk=self.run_pk, claim_token=self.token, status=RunStatus.RUNNING
                ).update(claimed_at=F("claimed_at") + timedelta(seconds=now - last))
                last = now
        except Exception:  # a missed beat only risks a takeover, which the token makes safe
            logger.exception("heartbeat of run %s failed", self.run_pk)
        finally:
            connection.close()  # this thread's own database connection


@dataclass(frozen=True)
class CycleOutcome:
    run: ClearingRun
    did_work: bool
    order_ids: tuple[int, ...] = ()


def _claim(interval_start: datetime, now: datetime) -> tuple[ClearingRun, str | None]:
    """Get the interval's run and try to take it; (run, token) or (run, None) if not ours."""
    params = MarketParameters.current()
    try:
        with transaction.atomic():
            run, _created = ClearingRun.objects.get_or_create(
                interval_start=interval_start,
                defaults={
                    "horizon_intervals": params.horizon_intervals,
                    "gate_closure": calendar.gate_closure(
                        interval_start, params.gate_closure_lead_minutes
                    ),
                },
            )
    except IntegrityError:  # another trigger created it between our read and our insert
        run = ClearingRun.objects.get(interval_start=interval_start)
    token = uuid.uuid4().hex
    # The lease runs on the later of the market clock and the wall clock. A redelivered
    # trigger carries the `now_iso` of its first attempt, a clock that stands still: on it
    # alone a dead worker's lease would never expire. A simulated clock ahead of the wall
    # clock (run_market, tests) moves on by itself.
    clock = max(now, timezone.now())
    claimable = (
        Q(status=RunStatus.PENDING)
        | Q(status=RunStatus.FAILED)
        | Q(status=RunStatus.RUNNING, claimed_at__lt=clock - lease())
    )
    won = (
        ClearingRun.objects.filter(claimable, pk=run.pk)
        .exclude(status=RunStatus.COMPLETED)
        .update(
            status=RunStatus.RUNNING,
            claim_token=token,
            claimed_at=clock,
            started_at=now,
            attempts=run.attempts + 1,
        )
    )
    run.refresh_from_db()
    return run, (token if won == 1 else None)


def run_clear_interval(*, interval_start: datetime, now: datetime | None = None) -> CycleOutcome:
    """Clear the firm interval starting at `interval_start` (idempotent)."""
    now = now or timezone.now()
    interval_start = calendar.as_utc(interval_start)
    run, token = _claim(interval_start, now)
    if token is None:
        return CycleOutcome(run, did_work=False)
    timings: dict[str, float] = {}
    try:
        started = time.perf_counter()
        if run.snapshot_json:
            # A redo after a crash solves exactly what the first attempt froze.
            canonical = run.snapshot_json.encode("utf-8")
            document = json.loads(canonical)
            input_sha256 = run.input_sha256
        else:
            snap = snapshot_build(start=interval_start, horizon=run.horizon_intervals)
            canonical, document, input_sha256 = snap.canonical, snap.document, snap.sha256
            # Store the frozen input before solving, so a redo cannot see later changes.
            ClearingRun.objects.filter(pk=run.pk, claim_token=token).update(
                snapshot_json=canonical.decode("utf-8"), input_sha256=input_sha256
            )
        timings["snapshot_s"] = round(time.perf_counter() - started, 4)
        started = time.perf_counter()
        budget_s = max(clearing_budget_s(interval_start, now) - timings["snapshot_s"], 0.0)
        with ClaimHeartbeat(run.pk, token, every_s=lease().total_seconds() / 3):
            options = SolveOptions(
                time_budget_s=budget_s,
                pair_generation_from=settings.CLEARING_PAIR_GENERATION_FROM,
                pair_start=pair_start_load(),
            )
            result = solve(canonical, options)
        timings["solve_s"] = round(time.perf_counter() - started, 4)
        pair_start_store(result.pair_start_next)
        started = time.perf_counter()
        run, order_ids = clearing_persist(
            run=run,
            claim_token=token,
            document=document,
            canonical=canonical,
            input_sha256=input_sha256,
            result=result,
            timings=timings,
            now=now,
        )
        timings["persist_s"] = round(time.perf_counter() - started, 4)
        ClearingRun.objects.filter(pk=run.pk).update(timings=timings)
        _record_impact(run)
    except LostClaim:
        logger.warning("run %s was taken over by another worker; discarding", run.pk)
        run.refresh_from_db()
        return CycleOutcome(run, did_work=False)
    except Exception as exc:
        # Recorded on the run for operators and reports; the task layer decides on retries.
        _fail(run, token, f"{type(exc).__name__}: {exc}")
        raise
    logger.info(
        "cleared %s: welfare %s JPY, %d orders, %s",
        calendar.iso_z(interval_start),
        run.welfare_jpy,
        len(order_ids),
        timings,
    )
    return CycleOutcome(run, did_work=True, order_ids=tuple(order_ids))


def _record_impact(run: ClearingRun) -> None:
    """The run's firm-interval impact figures, while its snapshot is at hand. A memo: if it
    fails, the clearing stands and the impact page computes them when first asked."""
    try:
        run_impact_record(run=run)
    except Exception:
        logger.exception("impact figures of run %s not recorded; computed on first read", run.pk)


def _fail(run: ClearingRun, token: str, error: str) -> None:
    ClearingRun.objects.filter(pk=run.pk, claim_token=token, status=RunStatus.RUNNING).update(
        status=RunStatus.FAILED, error=error[:2000], finished_at=timezone.now()
    )


def intervals_due(now: datetime | None = None) -> list[datetime]:
    """Firm intervals past gate closure, not yet started, without a completed run."""
    now = now or timezone.now()
    lead = MarketParameters.current().gate_closure_lead_minutes
    due = calendar.due_for_clearing(now, lead)
    done = set(
        ClearingRun.objects.filter(interval_start__in=due, status=RunStatus.COMPLETED).values_list(
            "interval_start", flat=True
        )
    )
    return [k for k in due if k not in done]


__all__ = ["ClaimHeartbeat", "CycleOutcome", "intervals_due", "run_clear_interval"]
