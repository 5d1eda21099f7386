"""`make run`'s in-process beat ticks the schedule as beat would, crontab entries included."""

from __future__ import annotations

import threading

import pytest
from celery import shared_task
from celery.schedules import crontab

from aggregator.exchange.management.commands.runexchange import _tick_forever

calls: list[str] = []


@shared_task(name="tests.beat.every_second")
def every_second() -> None:
    calls.append("every")


@shared_task(name="tests.beat.monthly")
def monthly() -> None:
    calls.append("monthly")


@pytest.mark.django_db(transaction=True)
def test_periodic_entries_tick_and_calendar_entries_wait_for_their_time(settings):
    settings.CELERY_BEAT_SCHEDULE = {
        "every": {"task": "tests.beat.every_second", "schedule": 1.0},
        # Never due within the test: the 1st of a month at a minute that is not now.
        "monthly": {
            "task": "tests.beat.monthly",
            "schedule": crontab(minute=0, hour=3, day_of_month=1),
        },
    }
    calls.clear()
    stop = threading.Event()
    thread = threading.Thread(target=_tick_forever, args=(stop,))
    thread.start()
    threading.Event().wait(3.5)
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert 2 <= calls.count("every") <= 4, calls
    assert "monthly" not in calls
