"""A small cleared market for the report: the cycle market plus a second kyushu provider."""

from __future__ import annotations

import pytest

from aggregator.exchange.cycle import run_clear_interval
from market import calendar
from market.choices import BidType
from market.services import bid_submit
from market.services.signals import signal_publish
from operators import services as op
from operators.models import Membership
from tests.conftest import SITE_DATA, actor_of
from tests.cycle.conftest import INTERVALS, K0, SUBMITTED_AT, gate, market  # noqa: F401

CLEARED = 2  # intervals cleared in the fixture


@pytest.fixture
def cleared_market(market):  # noqa: F811
    """alpha adds a 16-CU kyushu site at 160 JPY/CU-h; kyushu grid emits 500 g/kWh.

    Per interval the 40-CU inference workload takes beta-kyu-1 (32 CU at 150) and
    alpha-kyu-1 (8 CU at 160): cheaper all-in than Tokyo (180 + 12 × 1.3), with all its
    energy (40 × 1.0 kW × 1.3 PUE × 0.5 h = 26 kWh) from the curtailment-relief offer.
    Two intervals are cleared.
    """
    alice = actor_of(market.alice)
    oscar = Membership.objects.get(user__username="oscar")  # the market operator
    signal_publish(
        actor=actor_of(oscar),
        kind="carbon",
        area="kyushu",
        values=[
            {"interval_start": calendar.iso_z(market.k(i)), "value": "500"}
            for i in range(INTERVALS + 8)
        ],
        source="test",
        now=SUBMITTED_AT,
    )
    op.site_register(
        actor=alice, **{**SITE_DATA, "code": "alpha-kyu-1", "area": "kyushu", "capacity_cu": 16}
    )
    bid_submit(
        actor=alice,
        bid_type=BidType.CAPACITY,
        data={"start": calendar.iso_z(K0), "intervals": INTERVALS, "site": "alpha-kyu-1",
              "cu": [16] * INTERVALS, "price": [160] * INTERVALS},
        now=SUBMITTED_AT,
    )  # fmt: skip
    for i in range(CLEARED):
        k = market.k(i)
        run_clear_interval(interval_start=k, now=gate(k))
    return market
