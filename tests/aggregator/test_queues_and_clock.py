"""Queues per kind of work, beat's schedule, and the market clock that drills may speed up."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings

from aggregator.celery import app
from aggregator.platform.queues import CELERY_QUEUES
from market.clock import market_now, now_from, parse_clock
from tests.aggregator.test_settings_and_health import PRODUCTION, _manage


def _our_tasks() -> list[str]:
    app.loader.import_default_modules()
    # Celery's own, and those the tests define, are not the exchange's.
    return sorted(name for name in app.tasks if not name.startswith(("celery.", "tests.")))


def test_every_task_is_routed_to_a_queue_of_its_kind():
    routes = settings.CELERY_TASK_ROUTES
    tasks = _our_tasks()
    assert len(tasks) >= 10
    unrouted = [name for name in tasks if name not in routes]
    assert not unrouted, f"tasks left to the default queue: {unrouted}"
    assert {routes[name]["queue"] for name in tasks} <= set(CELERY_QUEUES)
    # The solve has a queue of its own: nothing else waits in front of it, or behind it.
    assert [name for name in tasks if routes[name]["queue"] == "clearing"] == [
        "aggregator.tasks.clear_interval"
    ]
    # A route to a task that does not exist is a typo that would silently route nothing.
    assert set(routes) <= set(tasks), set(routes) - set(tasks)


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("aggregator.tasks.clear_interval", "clearing"),
        ("aggregator.tasks.push_orders", "dispatch"),
        ("settlement.tasks.settle_due_intervals", "settlement"),
    ],
)
def test_the_router_sends_a_task_to_its_queue(task, queue):
    # Celery's own router, as a worker or `delay()` would use it.
    routed = app.amqp.router.route({}, task)["queue"]
    assert getattr(routed, "name", routed) == queue


def test_every_beat_entry_names_a_registered_task():
    tasks = set(_our_tasks())
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in tasks, name


def test_the_market_clock_is_the_wall_clock_unless_a_drill_sets_one(settings):
    settings.MARKET_CLOCK = None
    before = datetime.now(UTC)
    assert before <= market_now() <= datetime.now(UTC)
    assert now_from("2026-12-08T00:30:00Z") == datetime(2026, 12, 8, 0, 30, tzinfo=UTC)


def test_a_simulated_clock_runs_from_its_start_at_its_speed(settings):
    clock = parse_clock("2026-12-08T00:00:00Z@1000000.0x600")
    assert clock.now(wall=1000000.0) == datetime(2026, 12, 8, tzinfo=UTC)
    # Three wall seconds are one 30-minute interval at 600×.
    assert clock.now(wall=1000003.0) == datetime(2026, 12, 8, 0, 30, tzinfo=UTC)
    assert clock.wall_time_of(datetime(2026, 12, 8, 1, 0, tzinfo=UTC)) == pytest.approx(1000006.0)
    assert parse_clock(clock.spec()) == clock
    clock = parse_clock(f"2026-12-08T00:00:00Z@{time.time()!r}x600")
    settings.MARKET_CLOCK = clock.spec()
    now = market_now()
    assert now - clock.now() < timedelta(seconds=600)  # a wall second is 600 market seconds
    assert now_from(None) >= now


@pytest.mark.parametrize(
    "spec",
    [
        "2026-12-08T00:00:00@1000x600",  # no timezone
        "2026-12-08T00:00:00Z@1000",  # no speed
        "2026-12-08T00:00:00Z@1000x0",
        "2026-12-08T00:00:00Z@1000x20000",
        "tomorrow@1000x60",
    ],
)
def test_a_malformed_clock_is_refused(spec):
    with pytest.raises(ValueError):
        parse_clock(spec)


def test_production_refuses_a_market_clock_unless_it_is_a_drill():
    spec = "2026-12-08T00:00:00Z@1000x600"
    refused = _manage("check", **PRODUCTION, MARKET_CLOCK=spec)
    assert refused.returncode != 0
    assert "MARKET_CLOCK is for drills" in refused.stderr
    drill = _manage("check", **PRODUCTION, MARKET_CLOCK=spec, MARKET_CLOCK_ALLOWED="1")
    assert drill.returncode == 0, drill.stderr


def test_beat_lock_must_outlast_its_renewals():
    result = _manage("check", **PRODUCTION, BEAT_LOCK_TIMEOUT_S="5", BEAT_MAX_LOOP_INTERVAL_S="5")
    assert result.returncode != 0
    assert "BEAT_MAX_LOOP_INTERVAL_S must be positive and below BEAT_LOCK_TIMEOUT_S" in (
        result.stderr
    )
