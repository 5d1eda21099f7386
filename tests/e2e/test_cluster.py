"""The cluster's shape on the real stack: a worker per queue, two beats, a whole day.

A day of 48 intervals runs on a market clock 600× faster than the wall clock (MARKET_CLOCK,
market/clock.py: one interval every 3 s, gate closure 6 s before each start), set alike in
every process. Beat triggers clearings as in production; the test only watches, and in the
middle of the day kills the beat that holds the lock, as a node failure would.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from market import calendar
from market.clock import SimulatedClock
from market.models.clearing import ClearingRun, RunStatus
from market.models.dispatch import DispatchOrder
from tests.e2e.checks import (
    all_delivered,
    assert_attempts_consistent,
    assert_each_key_received_once,
)
from tests.e2e.stack import e2e_marks, wait_for

pytestmark = e2e_marks()

DAY = 48
SPEED = 600  # market seconds per wall second: an interval every 3 s
# Wall seconds for the workers and beats to start before the market clock reaches the
# first gate closure (they start side by side; a slow machine fails loudly, see below).
STARTUP_S = 30


def _received(worker) -> set[str]:
    """The names of the tasks this worker received."""
    return set(re.findall(r"Task ([\w.]+)\[[^]]+\] received", worker.output()))


def _task_lines(worker, task: str) -> int:
    return len(re.findall(rf"{re.escape(task)}\[[^]]+\] succeeded", worker.output()))


def test_a_day_clears_on_time_on_workers_per_queue_with_two_beats(
    market_factory, workers, beats, redis_server
):
    first = calendar.floor_interval(timezone.now() + timedelta(days=2))
    # Bids beyond the day: beat goes on clearing the next intervals until the test stops it.
    # Beat starts before the clock reaches the first gate: the intervals it clears before
    # the day (empty ones) need area prices too.
    history = int(STARTUP_S * SPEED / calendar.INTERVAL.total_seconds()) + 4
    market = market_factory(horizon=4, interval=first, intervals=DAY + 16, price_history=history)
    days_runs = [first + k * calendar.INTERVAL for k in range(DAY)]
    # The clock reaches the first gate closure STARTUP_S wall seconds from now.
    clock = SimulatedClock(
        start=market.gate_closure, epoch=time.time() + STARTUP_S, speed=float(SPEED)
    )
    env = {
        "MARKET_CLOCK": clock.spec(),
        "MARKET_CLOCK_ALLOWED": "1",
        # An hour of market time is 6 wall seconds: a claim must outlast a slow solve.
        "CLEARING_LEASE_S": "3600",
        "BEAT_CLEAR_EVERY_S": "1",
        "BEAT_PUSH_EVERY_S": "1",
        "BEAT_MAX_LOOP_INTERVAL_S": "1",
        "BEAT_LOCK_TIMEOUT_S": "3",
    }
    clearing, dispatch, settlement, reports = workers.start_many(
        {"queues": ("clearing",), "concurrency": 1, **env},
        {"queues": ("dispatch",), "pool": "threads", "concurrency": 8, **env},
        {"queues": ("settlement",), "concurrency": 1, **env},
        {"queues": ("reports",), "concurrency": 1, **env},
    )
    leader = beats.start(**env)
    wait_for(lambda: leader.holds_lock, timeout=20, what="the first beat to take the lock")
    standby = beats.start(**env)
    assert time.time() < clock.epoch, "the stack took longer to start than STARTUP_S"
    assert not standby.holds_lock

    # Watch the day: when each run is first seen completed, on the wall clock.
    seen: dict = {}

    def watch() -> bool:
        for start in ClearingRun.objects.filter(
            interval_start__in=days_runs, status=RunStatus.COMPLETED
        ).values_list("interval_start", flat=True):
            seen.setdefault(start, time.time())
        return len(seen) == DAY

    half_day = clock.wall_time_of(days_runs[DAY // 2]) - time.time()
    wait_for(lambda: watch() or len(seen) >= DAY // 2, timeout=half_day + 30,
             every=0.2, what="half the day cleared", context=workers.logs)  # fmt: skip
    # Only the lock holder has sent anything; now it dies without releasing its lock.
    assert leader.sends() and not standby.sends(), standby.output()[-2000:]
    leader.kill()
    killed_at = time.time()
    wait_for(watch, timeout=DAY * 3 + 60, every=0.2, what="the whole day cleared",
             context=lambda: workers.logs() + "\n--- standby beat\n" + standby.output()[-3000:])  # fmt: skip

    # The standby took over within the lock's timeout and a few of its polls.
    assert standby.holds_lock and standby.sends()
    # Every interval cleared exactly once, by its first claim, without the fallback, and
    # before it started — also those whose gate closed while no beat held the lock.
    runs = {r.interval_start: r for r in ClearingRun.objects.filter(interval_start__in=days_runs)}
    assert sorted(runs) == days_runs
    for start, run in runs.items():
        assert (run.status, run.attempts, run.fallback) == (RunStatus.COMPLETED, 1, {}), start
        late_s = seen[start] - clock.wall_time_of(start)
        assert late_s < 0, f"{calendar.iso_z(start)} completed {late_s:.1f} s after it started"
    assert any(seen[s] > killed_at for s in days_runs), "the standby cleared nothing"

    # Each queue's worker did its own kind of work, and only that.
    assert _task_lines(clearing, "aggregator.tasks.clear_interval") >= DAY
    assert _received(clearing) == {"aggregator.tasks.clear_interval"}
    assert _task_lines(dispatch, "aggregator.tasks.push_orders") >= 1
    assert _task_lines(dispatch, "aggregator.tasks.clear_due_intervals") >= DAY
    assert "aggregator.tasks.clear_interval" not in _received(dispatch)
    assert _task_lines(settlement, "settlement.tasks.settle_due_intervals") >= 1
    assert _received(settlement) <= {
        name
        for name, route in settings.CELERY_TASK_ROUTES.items()
        if route["queue"] == "settlement"
    }
    assert _received(reports) == set()

    # Beat stops; every order written (the day's, and the next intervals' that beat cleared
    # meanwhile) reaches its participant once per order version.
    standby.stop()
    wait_for(lambda: redis_server.idle() and all_delivered(), timeout=60,
             what="the queues to drain and every order pushed", context=workers.logs)  # fmt: skip
    orders = list(DispatchOrder.objects.select_related("organisation"))
    assert {o.run.interval_start for o in orders} >= set(days_runs)
    assert_each_key_received_once(market, orders)
    assert all(r.duplicates == 0 for r in market.receivers.values())
    assert_attempts_consistent()
    assert not workers.failures(), workers.failures()
