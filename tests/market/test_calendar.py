"""The market calendar: JST slots ↔ UTC instants, the date boundary, slot 48, gate closure."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from market import calendar


def test_slot_1_is_jst_midnight_which_is_15_utc_the_day_before():
    assert calendar.slot_start(date(2024, 8, 1), 1) == datetime(2024, 7, 31, 15, 0, tzinfo=UTC)


def test_slot_48_is_the_last_half_hour_of_the_jst_day():
    start = calendar.slot_start(date(2024, 8, 1), 48)
    assert start == datetime(2024, 8, 1, 14, 30, tzinfo=UTC)
    assert calendar.slot_of(start) == (date(2024, 8, 1), 48)
    # One second before JST midnight is still slot 48 of the same day; midnight is slot 1.
    assert calendar.slot_of(start + timedelta(minutes=29, seconds=59)) == (date(2024, 8, 1), 48)
    assert calendar.slot_of(start + calendar.INTERVAL) == (date(2024, 8, 2), 1)


def test_year_boundary_and_leap_day():
    assert calendar.slot_of(datetime(2023, 12, 31, 15, 0, tzinfo=UTC)) == (date(2024, 1, 1), 1)
    assert calendar.slot_start(date(2024, 2, 29), 48) + calendar.INTERVAL == calendar.slot_start(
        date(2024, 3, 1), 1
    )


@pytest.mark.parametrize("slot", [0, 49])
def test_slot_out_of_range(slot):
    with pytest.raises(ValueError, match=r"1\.\.48"):
        calendar.slot_start(date(2024, 8, 1), slot)


def test_every_slot_round_trips():
    day = date(2024, 3, 31)
    for slot in range(1, 49):
        assert calendar.slot_of(calendar.slot_start(day, slot)) == (day, slot)


def test_gate_closure_and_first_open_interval_at_the_boundary_second():
    start = datetime(2024, 8, 1, 3, 0, tzinfo=UTC)
    gc = calendar.gate_closure(start, 60)
    assert gc == datetime(2024, 8, 1, 2, 0, tzinfo=UTC)
    assert calendar.first_open_interval(gc - timedelta(seconds=1), 60) == start
    # At the gate-closure second the interval is closed; the next one is the first open.
    assert calendar.first_open_interval(gc, 60) == start + calendar.INTERVAL


def test_alignment_and_naive_times_are_refused():
    assert calendar.is_aligned(datetime(2024, 8, 1, 3, 30, tzinfo=UTC))
    assert not calendar.is_aligned(datetime(2024, 8, 1, 3, 15, tzinfo=UTC))
    with pytest.raises(ValueError, match="naive"):
        calendar.as_utc(datetime(2024, 8, 1, 3, 0))


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    )
)
def test_every_instant_lies_in_its_slot(instant):
    day, slot = calendar.slot_of(instant)
    start = calendar.slot_start(day, slot)
    assert start <= instant < start + calendar.INTERVAL
    assert calendar.floor_interval(instant) == start
