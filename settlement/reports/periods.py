"""Report periods: a JST day or a JST month, as [start, end) in UTC, with clear errors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils.translation import gettext as _

from aggregator.platform.errors import InvalidInput
from aggregator.platform.instants import MAX_YEAR, MIN_YEAR
from market import calendar


@dataclass(frozen=True)
class Period:
    label: str  # "2030-04-01" or "2030-04"
    start: datetime
    end: datetime

    @property
    def intervals(self) -> int:
        return int((self.end - self.start) / calendar.INTERVAL)


def day_period(text: str) -> Period:
    try:
        day = date.fromisoformat(text)
        if not MIN_YEAR <= day.year <= MAX_YEAR:
            raise ValueError(text)
    except (TypeError, ValueError):
        raise InvalidInput.from_errors(
            {"day": [_("Give a day as YYYY-MM-DD (got %(value)r).") % {"value": text}]}
        ) from None
    start = calendar.slot_start(day, 1)
    return Period(day.isoformat(), start, start + calendar.SLOTS_PER_DAY * calendar.INTERVAL)


def month_period(text: str) -> Period:
    try:
        year, month = (int(part) for part in text.split("-"))
        first = date(year, month, 1)
        if len(text) != 7 or not MIN_YEAR <= year <= MAX_YEAR:
            raise ValueError(text)
    except (AttributeError, TypeError, ValueError):
        raise InvalidInput.from_errors(
            {"month": [_("Give a month as YYYY-MM (got %(value)r).") % {"value": text}]}
        ) from None
    following = date(year + month // 12, month % 12 + 1, 1)
    return Period(
        f"{year:04d}-{month:02d}", calendar.slot_start(first, 1), calendar.slot_start(following, 1)
    )


def period_from(*, day: str | None = None, month: str | None = None) -> Period:
    """Exactly one of `day` or `month`."""
    if bool(day) == bool(month):
        raise InvalidInput.from_errors(
            {"period": [_("Give either a day (YYYY-MM-DD) or a month (YYYY-MM), not both.")]}
        )
    return day_period(day) if day else month_period(month)


def default_day(now: datetime) -> str:
    """The day a report opens on: the last JST day with a completed run, else yesterday.
    Yesterday alone opened on an empty day in a fresh demo. Runs clear ahead of their
    intervals (an hour in operation, a day when `run_market` fast-forwards), so the last
    completed run may be later than `now`; its day is still the one with data."""
    from market.models.clearing import ClearingRun, RunStatus

    latest = (
        ClearingRun.objects.filter(status=RunStatus.COMPLETED)
        .order_by("-interval_start")
        .values_list("interval_start", flat=True)
        .first()
    )
    day = calendar.to_jst(latest).date() if latest else calendar.to_jst(now).date() - timedelta(1)
    return day.isoformat()
