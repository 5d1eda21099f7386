"""The market calendar: 30-minute JEPX slots in JST, stored as UTC instants, and gate closure."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")
INTERVAL = timedelta(minutes=30)
INTERVAL_MINUTES = 30
SLOTS_PER_DAY = 48


def slot_start(day: date, slot: int) -> datetime:
    """UTC start of JEPX slot `slot` (1..48) of JST delivery date `day`."""
    if not 1 <= slot <= SLOTS_PER_DAY:
        raise ValueError(f"slot must be 1..{SLOTS_PER_DAY}, got {slot}")
    # Japan has no DST, so every JST day is exactly 48 slots from JST midnight.
    midnight = datetime.combine(day, time(0), tzinfo=JST)
    return (midnight + (slot - 1) * INTERVAL).astimezone(UTC)


def parse_day(text: object) -> date | None:
    """A JST delivery date from 'YYYY-MM-DD' within the market's years, else None (a page
    then shows its default day; arithmetic on year 1 or 9999 would overflow)."""
    from aggregator.platform.instants import MAX_YEAR, MIN_YEAR

    try:
        day = date.fromisoformat(str(text))
    except ValueError:
        return None
    return day if MIN_YEAR <= day.year <= MAX_YEAR else None


def slot_of(instant: datetime) -> tuple[date, int]:
    """The JST delivery date and slot (1..48) of the interval containing `instant`."""
    local = as_utc(instant).astimezone(JST)
    minutes = local.hour * 60 + local.minute
    return local.date(), minutes // INTERVAL_MINUTES + 1


def as_utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; give a timezone")
    return instant.astimezone(UTC)


def is_aligned(instant: datetime) -> bool:
    """True if `instant` starts an interval (:00 or :30, no seconds)."""
    utc = as_utc(instant)
    return utc.second == 0 and utc.microsecond == 0 and utc.minute % INTERVAL_MINUTES == 0


def floor_interval(instant: datetime) -> datetime:
    utc = as_utc(instant)
    return utc.replace(minute=utc.minute - utc.minute % INTERVAL_MINUTES, second=0, microsecond=0)


def ceil_interval(instant: datetime) -> datetime:
    floor = floor_interval(instant)
    return floor if floor == as_utc(instant) else floor + INTERVAL


def interval_starts(start: datetime, count: int) -> list[datetime]:
    first = as_utc(start)
    return [first + i * INTERVAL for i in range(count)]


def gate_closure(start: datetime, lead_minutes: int) -> datetime:
    """Gate closure of the interval starting at `start`: start − lead."""
    return as_utc(start) - timedelta(minutes=lead_minutes)


def first_open_interval(now: datetime, lead_minutes: int) -> datetime:
    """The earliest interval whose gate is still open at `now` (gate closure strictly later)."""
    candidate = ceil_interval(as_utc(now) + timedelta(minutes=lead_minutes))
    if gate_closure(candidate, lead_minutes) <= as_utc(now):
        candidate += INTERVAL
    return candidate


def iso_z(instant: datetime) -> str:
    """ISO 8601 in UTC with a Z, seconds precision: the form used in snapshots."""
    return as_utc(instant).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_jst(instant: datetime) -> datetime:
    return as_utc(instant).astimezone(JST)


def jst_text(instant: datetime, *, seconds: bool = False) -> str:
    """An instant as people here read it in a message: '2026-12-04 13:00 JST'.

    Stored data and logs keep UTC; every text a person reads shows JST (design.md §2).
    """
    return f"{to_jst(instant):%Y-%m-%d %H:%M{':%S' if seconds else ''}} JST"


def slot_label(instant: datetime) -> str:
    """The JEPX slot of the interval containing `instant` as people count it: 'コマ 27'
    in Japanese, 'slot 27' in English (1..48 from JST midnight, never 0)."""
    from django.utils.translation import gettext

    return gettext("slot %(n)d") % {"n": slot_of(instant)[1]}


def interval_text(instant: datetime) -> str:
    """An interval start with its slot: '2026-12-04 13:00 JST (コマ 27)'."""
    return f"{jst_text(instant)} ({slot_label(instant)})"


def parse_iso(text: str) -> datetime:
    """An ISO 8601 instant with a timezone (a trailing Z allowed) as an aware UTC datetime."""
    instant = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if instant.tzinfo is None:
        raise ValueError(f"{text!r} has no timezone")
    return instant.astimezone(UTC)


def due_for_clearing(now: datetime, lead_minutes: int) -> list[datetime]:
    """Intervals whose gate has closed but which have not started: clear them now."""
    first = ceil_interval(as_utc(now))
    if first == as_utc(now):
        first += INTERVAL  # an interval starting right now is already in delivery
    due = []
    candidate = first
    while gate_closure(candidate, lead_minutes) <= as_utc(now):
        due.append(candidate)
        candidate += INTERVAL
    return due
