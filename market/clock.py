"""The market's clock: the wall clock, or — for drills and tests — a simulated one.

Beat's periodic tasks carry no instant: they read the market clock when they run. In
production that is the wall clock. A drill (or the end-to-end test of a whole day on a
cluster) sets MARKET_CLOCK to `START@EPOCHxSPEED`: at wall-clock Unix time EPOCH the
market's time is START, and it runs SPEED times faster than the wall clock, in every process
that reads the same setting — so beat, workers and the test agree without talking.
Explicit instants (`run_market`, a task's `now_iso`) still win.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.utils import timezone

from market import calendar

_SPEC = re.compile(r"^(?P<start>[^@]+)@(?P<epoch>\d+(?:\.\d+)?)x(?P<speed>\d+(?:\.\d+)?)$")


@dataclass(frozen=True)
class SimulatedClock:
    start: datetime
    epoch: float
    speed: float

    def now(self, wall: float | None = None) -> datetime:
        elapsed = (time.time() if wall is None else wall) - self.epoch
        return self.start + timedelta(seconds=elapsed * self.speed)

    def wall_time_of(self, instant: datetime) -> float:
        """The wall-clock Unix time at which this clock shows `instant`."""
        return self.epoch + (calendar.as_utc(instant) - self.start).total_seconds() / self.speed

    def spec(self) -> str:
        return f"{calendar.iso_z(self.start)}@{self.epoch!r}x{self.speed!r}"


@lru_cache(maxsize=8)  # read on every market_now(); the setting rarely changes
def parse_clock(spec: str) -> SimulatedClock:
    """`2026-12-08T00:00:00Z@1765152000.0x600` → SimulatedClock; ValueError says why not."""
    match = _SPEC.match(spec.strip())
    if not match:
        raise ValueError(f"MARKET_CLOCK={spec!r} is not START@EPOCHxSPEED")
    start = calendar.parse_iso(match["start"])
    speed = float(match["speed"])
    if not 0 < speed <= 10_000:
        raise ValueError(f"MARKET_CLOCK speed {speed} is not within (0, 10000]")
    return SimulatedClock(start=start.astimezone(UTC), epoch=float(match["epoch"]), speed=speed)


def market_now() -> datetime:
    """Now, on the market's clock (the wall clock unless MARKET_CLOCK is set)."""
    spec = getattr(settings, "MARKET_CLOCK", None)
    return parse_clock(spec).now() if spec else timezone.now()


def now_from(now_iso: str | None) -> datetime:
    """A task's instant: the one it was sent with, else the market clock's now."""
    return calendar.parse_iso(now_iso) if now_iso else market_now()
