"""The demo market: bids of every kind over the next 24 h, priced from JEPX FY2023; idempotent."""

from __future__ import annotations

from datetime import UTC, date, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from aggregator.engine.parse import parse_snapshot
from aggregator.exchange.demo.market import JEPX_FY2023, REPLAY_SOURCE, load_market_demo
from aggregator.exchange.management.commands.load_demo import Command as LoadDemo
from market import calendar
from market.jepx import read_spot_summary
from market.models import CapacityOffer, EnergyOffer, Signal, WorkloadBid
from market.snapshot import snapshot_build

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 8, 1, 0, 5, tzinfo=UTC)  # 09:05 JST


@pytest.fixture
def participants(db):
    command = LoadDemo()
    command._load_participants()  # the demo organisations and sites, without writing key files
    command._load_sites()


def test_demo_market_covers_every_kind_and_loads_once(participants):
    out = StringIO()
    load_market_demo(out, now=NOW)
    # 10:30 JST start: Kyushu midday relief today (10:30–15:00) and tomorrow (10:00–10:30).
    assert "13 bids" in out.getvalue()
    assert CapacityOffer.objects.count() == 6
    assert set(WorkloadBid.objects.values_list("kind", flat=True)) == {"inference", "batch"}
    assert set(WorkloadBid.objects.filter(kind="inference").values_list("zone", flat=True)) == {
        "tokyo",
        "osaka",
    }
    relief = EnergyOffer.objects.filter(curtailment_relief=True).first()
    assert relief.area_id == "kyushu" and relief.price[0] == "0.0000"
    # Prices are the real FY2023 values re-dated: 2026-08-01 slot 21 replays 2023-08-01 slot 21.
    assert Signal.objects.filter(source=REPLAY_SOURCE).exists()
    again = StringIO()
    load_market_demo(again, now=NOW)
    assert "already exist" in again.getvalue()
    assert CapacityOffer.objects.count() == 6 and WorkloadBid.objects.count() == 4
    # The demo horizon makes a snapshot the engine accepts.
    start = CapacityOffer.objects.first().start
    parse_snapshot(snapshot_build(start=start).canonical)


def test_replayed_prices_match_the_jepx_file(participants):
    load_market_demo(StringIO(), now=NOW)
    # 2026-08-02 slot 1 replays 2023-08-02 slot 1 of the FY2023 file.
    row = next(
        r for r in read_spot_summary(JEPX_FY2023) if r.day == date(2023, 8, 2) and r.slot == 1
    )
    stored = Signal.objects.get(
        source=REPLAY_SOURCE,
        area_id="tokyo",
        interval_start=calendar.slot_start(date(2026, 8, 2), 1),
    )
    assert stored.value == row.area_prices["tokyo"]


def test_command_refuses_without_participants(db):
    with pytest.raises(CommandError, match="run load_demo first"):
        call_command("load_market_demo", "--allow-production", stdout=StringIO())
    with pytest.raises(CommandError, match="DEBUG off"):
        call_command("load_market_demo", stdout=StringIO())
