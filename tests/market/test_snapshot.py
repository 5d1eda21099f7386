"""The clearing snapshot: schema the engine accepts, merged offers, and byte-for-byte determinism."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from aggregator.engine.parse import parse_snapshot
from aggregator.platform.errors import InvalidInput
from market import calendar, services
from market.choices import BidType, SignalKind
from market.models import Signal
from market.snapshot import snapshot_build
from operators.models import GridArea
from tests.conftest import actor_of

pytestmark = pytest.mark.django_db

H0 = datetime(2030, 6, 1, 3, 0, tzinfo=UTC)  # 12:00 JST
NOW = H0 - timedelta(hours=3)
N = 8


def _prices(start=H0, count=N):
    Signal.objects.bulk_create(
        Signal(
            kind=SignalKind.AREA_PRICE,
            area_id=area,
            interval_start=start + i * calendar.INTERVAL,
            value=Decimal("10.5") + i,
            source="test",
            published_at=start - timedelta(days=1),
        )
        for area in GridArea.objects.values_list("code", flat=True)
        for i in range(count)
    )


def _submit(membership, bid_type, **data):
    return services.bid_submit(actor=actor_of(membership), bid_type=bid_type, data=data, now=NOW)


@pytest.fixture
def market(alice, sue, alpha_site, beta_site):
    _prices()
    start = calendar.iso_z(H0)
    bids = {
        "cap1": _submit(alice, BidType.CAPACITY, start=start, intervals=N, site="alpha-tky-1", cu=30, price=100),
        "cap2": _submit(alice, BidType.CAPACITY, start=calendar.iso_z(H0 + 2 * calendar.INTERVAL), intervals=2, site="alpha-tky-1", cu=10, price=200),
        "en": _submit(sue, BidType.ENERGY, start=start, intervals=4, area="kyushu", kwh=500, price=-1, carbon_g_per_kwh=20, curtailment_relief=True),
        "inf": _submit(alice, BidType.WORKLOAD, start=calendar.iso_z(H0 + calendar.INTERVAL), intervals=3, kind="inference", accelerator="h100", residency_tags=["jp"], limit_price=900, zone="tokyo", max_latency_ms=20, demand=[1, 2, 3]),
        "bat": _submit(alice, BidType.WORKLOAD, start=start, intervals=60, kind="batch", accelerator="h100", limit_price=400, remaining_cu_intervals=100, max_cu=16, gang=8, migration_cost=5, home_site="alpha-tky-1", allowed_areas=["tokyo", "kyushu"]),
    }  # fmt: skip
    return bids


def test_engine_accepts_the_document_and_offers_at_one_site_are_its_price_steps(market):
    snap = snapshot_build(start=H0, horizon=N)
    parsed = parse_snapshot(snap.canonical)
    assert len(parsed.intervals) == N and len(parsed.areas) == 9
    doc = snap.document
    assert doc["schema"] == "wattbit.clearing/1" and doc["run_id"] == "2030-06-01T03:00Z"
    assert (
        doc["intervals"][0] == "2030-06-01T03:00:00Z"
        and doc["gate_closure"] == "2030-06-01T02:00:00Z"
    )
    # Two offers at one site stay two steps, each at its own price (never averaged).
    first, second = doc["capacity_offers"]
    assert (first["id"], second["id"]) == (f"cap-{market['cap1'].pk}", f"cap-{market['cap2'].pk}")
    assert first["site"] == second["site"] == "alpha-tky-1"
    assert first["cu"] == [30.0] * N and first["price"] == [100.0] * N
    assert second["cu"] == [0.0, 0.0, 10.0, 10.0, 0.0, 0.0, 0.0, 0.0]
    assert second["price"][2:4] == [200.0, 200.0]
    assert [o.id for o in parsed.capacity_offers] == [first["id"], second["id"]]
    [energy] = doc["energy_offers"]
    assert energy["kwh"] == [500.0] * 4 + [0.0] * 4 and energy["price"][0] == -1.0
    inference, batch = doc["workloads"]
    assert inference["id"] == f"wl-{market['inf'].pk}"
    assert inference["demand"] == [0.0, 1.0, 2.0, 3.0, 0.0, 0.0, 0.0, 0.0]
    assert (batch["earliest"], batch["deadline"], batch["gang"]) == (0, 59, 8)
    assert batch["home_site"] == "alpha-tky-1" and batch["areas"] == ["kyushu", "tokyo"]
    tokyo = next(a for a in doc["areas"] if a["id"] == "tokyo")
    assert tokyo["price"][:2] == [10.5, 11.5] and tokyo["cap_kw"] == [None] * N


def test_same_state_gives_the_same_bytes_and_hash(market):
    first = snapshot_build(start=H0, horizon=N)
    second = snapshot_build(start=H0, horizon=N)
    assert first.canonical == second.canonical and first.sha256 == second.sha256
    assert b": " not in first.canonical and first.canonical.startswith(b'{"areas":')
    # A bid outside the horizon changes nothing; an amendment inside it changes the hash.
    _submit(market["cap1"].organisation.memberships.first(), BidType.CAPACITY,
            start=calendar.iso_z(H0 + timedelta(days=2)), intervals=1, site="alpha-tky-1", cu=1, price=1)  # fmt: skip
    assert snapshot_build(start=H0, horizon=N).sha256 == first.sha256
    services.bid_amend(actor=actor_of(market["cap1"].organisation.memberships.first()),
                       bid=market["cap1"], changes={"price": 101}, now=NOW)  # fmt: skip
    assert snapshot_build(start=H0, horizon=N).sha256 != first.sha256


def test_cancelled_bids_are_left_out(market, alice):
    services.bid_cancel(actor=actor_of(alice), bid=market["inf"], now=NOW)
    ids = [w["id"] for w in snapshot_build(start=H0, horizon=N).document["workloads"]]
    assert ids == [f"wl-{market['bat'].pk}"]


def test_later_signal_publications_win_and_caps_carbon_are_included(market):
    Signal.objects.create(kind=SignalKind.AREA_PRICE, area_id="tokyo", interval_start=H0,
                          value=Decimal("99"), source="test", published_at=H0)  # fmt: skip
    Signal.objects.create(kind=SignalKind.AREA_CAP_KW, area_id="tokyo", interval_start=H0,
                          value=Decimal("5000"), source="ops", published_at=H0)  # fmt: skip
    tokyo = next(
        a for a in snapshot_build(start=H0, horizon=N).document["areas"] if a["id"] == "tokyo"
    )
    assert tokyo["price"][0] == 99.0 and tokyo["cap_kw"][0] == 5000.0


def test_missing_prices_are_a_clear_error(market):
    with pytest.raises(InvalidInput, match="areas") as excinfo:
        snapshot_build(start=H0, horizon=N + 1)
    assert "No JEPX price" in excinfo.value.errors["areas"][0]


def test_export_snapshot_command(market, tmp_path):
    path = tmp_path / "snap.json"
    out = StringIO()
    call_command("export_snapshot", "--start", "2030-06-01T12:00:00+09:00", "--horizon", str(N),
                 "-o", str(path), stdout=out)  # fmt: skip
    snap = snapshot_build(start=H0, horizon=N)
    assert path.read_bytes() == snap.canonical
    assert snap.sha256 in out.getvalue()
    with pytest.raises(CommandError, match="No JEPX price"):
        call_command("export_snapshot", "--start", calendar.iso_z(H0), stdout=StringIO())
    with pytest.raises(CommandError, match="timezone"):
        call_command("export_snapshot", "--start", "2030-06-01T12:00", stdout=StringIO())
