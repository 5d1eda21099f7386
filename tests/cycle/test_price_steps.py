"""Several offers at one site are price steps: the cheapest fills first, each is paid on its own
quantity, and a second offer never changes the first one's price (they used to be merged
into one CU-weighted offer)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aggregator.exchange.cycle import run_clear_interval
from market import calendar
from market.choices import BidStatus, BidType
from market.models.clearing import Allocation, CapacitySale, ComputePrice
from market.services import bid_submit
from market.snapshot import snapshot_build
from tests.conftest import actor_of, client_for
from tests.cycle.conftest import HORIZON, INTERVALS, SUBMITTED_AT, gate

pytestmark = pytest.mark.django_db


@pytest.fixture
def cheap_step(market):
    """alpha-tky-1 already offers 32 CU at 180 JPY/CU-h; add a cheaper 32 CU at 170 (still
    dearer all-in than Kyushu's 150 on curtailment energy, so Tokyo stays the margin)."""
    return bid_submit(
        actor=actor_of(market.alice),
        bid_type=BidType.CAPACITY,
        data={"start": calendar.iso_z(market.k0), "intervals": INTERVALS, "site": "alpha-tky-1",
              "cu": 32, "price": 170},
        now=SUBMITTED_AT,
    )  # fmt: skip


def test_the_snapshot_sends_each_offer_as_its_own_step(market, cheap_step):
    offers = snapshot_build(start=market.k0, horizon=HORIZON).document["capacity_offers"]
    at_tokyo = {o["id"]: o for o in offers if o["site"] == "alpha-tky-1"}
    assert set(at_tokyo) == {market.tky_offer.public_id, cheap_step.public_id}
    assert at_tokyo[cheap_step.public_id]["price"][0] == 170.0
    assert at_tokyo[market.tky_offer.public_id]["price"][0] == 180.0  # not averaged to 175


def test_the_cheap_step_sells_first_and_sets_the_price(market, cheap_step):
    k = market.k(0)
    run = run_clear_interval(interval_start=k, now=gate(k)).run
    # 40 CU of demand: 32 in Kyushu (cheaper all-in), the other 8 at the Tokyo site.
    assert Allocation.objects.get(run=run, site__code="alpha-tky-1").cu == Decimal("8.000000")
    [sale] = CapacitySale.objects.filter(run=run, offer__site__code="alpha-tky-1")
    assert sale.offer_id == cheap_step.pk and sale.cu == Decimal("8.000000")
    price = ComputePrice.objects.get(run=run, site__code="alpha-tky-1").jpy_per_cu_h
    assert price == sale.jpy_per_cu_h == Decimal("170.0000")  # merged it was 175
    assert sum(s.cu for s in CapacitySale.objects.filter(run=run)) == sum(
        a.cu for a in Allocation.objects.filter(run=run)
    )


def test_each_offer_gets_its_own_outcome_and_providers_read_their_sales(market, cheap_step):
    for i in range(INTERVALS):
        k = market.k(i)
        run_clear_interval(interval_start=k, now=gate(k))
    cheap_step.refresh_from_db()
    market.tky_offer.refresh_from_db()
    # The whole site sold 8 CU per interval: all of it from the cheap step.
    assert cheap_step.status == BidStatus.PARTLY_CLEARED
    assert market.tky_offer.status == BidStatus.REJECTED
    sales = client_for(market.alice).get("/api/v1/capacity-sales/").json()["results"]
    assert {s["offer"] for s in sales} == {cheap_step.public_id}
    assert [s["cu"] for s in sales] == ["8.000000"] * INTERVALS
    assert client_for(market.charlie).get("/api/v1/capacity-sales/").json()[
        "results"
    ] != [] and all(
        s["site"] == "beta-kyu-1"
        for s in client_for(market.charlie).get("/api/v1/capacity-sales/").json()["results"]
    )
    assert client_for(market.dave).get("/api/v1/capacity-sales/").json()["results"] == []
