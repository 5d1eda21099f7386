"""A small market for the interval cycle: two provider sites, an owner, a supplier, prices.

The clock is explicit: bids are submitted two hours before the first gate closure, and
each clearing runs "at" its gate closure (services take `now`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from market import calendar
from market.choices import BidType
from market.models import MarketParameters
from market.services import bid_submit
from market.services.signals import signal_publish
from operators import services as op
from operators.choices import MemberRole
from tests.conftest import SITE_DATA, _member, _org, actor_of
from tests.support.receiver import Receiver

K0 = datetime(2030, 4, 1, 3, 0, tzinfo=UTC)  # 12:00 JST
SUBMITTED_AT = K0 - timedelta(hours=3)
HORIZON = 8
INTERVALS = 4


def gate(k: datetime) -> datetime:
    return calendar.gate_closure(k, 60)


@dataclass
class Market:
    k0: datetime
    alice: object  # provider admin at alpha (site alpha-tky-1, tokyo)
    charlie: object  # provider admin at beta (site beta-kyu-1, kyushu)
    dave: object  # owner admin at delta
    sue: object  # supplier trader at gamma
    rita: object  # regulator
    workload: object
    tky_offer: object
    kyu_offer: object
    energy_offer: object

    def k(self, i: int) -> datetime:
        return self.k0 + i * calendar.INTERVAL


@pytest.fixture
def market(alice, charlie, alpha_site, beta_site, rita, db) -> Market:
    params = MarketParameters.current()
    params.horizon_intervals = HORIZON
    params.save()
    delta = _org("delta", ["workload_owner"])
    dave = _member(delta, "dave", MemberRole.ADMIN)
    gamma = _org("gamma", ["power_supplier"])
    sue = _member(gamma, "sue", MemberRole.TRADER)
    ops = _org("ops", ["market_operator"])
    oscar = _member(ops, "oscar", MemberRole.ADMIN)
    signal_publish(
        actor=actor_of(oscar),
        kind="system_price",
        area=None,
        values=[
            {"interval_start": calendar.iso_z(K0 + i * calendar.INTERVAL), "value": "12.0"}
            for i in range(-4, HORIZON + INTERVALS + 4)
        ],
        source="test",
        now=SUBMITTED_AT,
    )
    start = calendar.iso_z(K0)
    tky = bid_submit(
        actor=actor_of(alice),
        bid_type=BidType.CAPACITY,
        data={"start": start, "intervals": INTERVALS, "site": "alpha-tky-1", "cu": [32] * INTERVALS, "price": [180] * INTERVALS},
        now=SUBMITTED_AT,
    )  # fmt: skip
    kyu = bid_submit(
        actor=actor_of(charlie),
        bid_type=BidType.CAPACITY,
        data={"start": start, "intervals": INTERVALS, "site": "beta-kyu-1", "cu": [32] * INTERVALS, "price": [150] * INTERVALS},
        now=SUBMITTED_AT,
    )  # fmt: skip
    energy = bid_submit(
        actor=actor_of(sue),
        bid_type=BidType.ENERGY,
        data={"start": start, "intervals": INTERVALS, "area": "kyushu", "kwh": [2000] * INTERVALS,
              "price": [0.01] * INTERVALS, "carbon_g_per_kwh": 20, "curtailment_relief": True},
        now=SUBMITTED_AT,
    )  # fmt: skip
    workload = bid_submit(
        actor=actor_of(dave),
        bid_type=BidType.WORKLOAD,
        data={"start": start, "intervals": INTERVALS, "kind": "inference", "accelerator": "h100",
              "residency_tags": ["jp"], "limit_price": 900, "zone": "tokyo", "max_latency_ms": 50,
              "demand": [40] * INTERVALS},
        now=SUBMITTED_AT,
    )  # fmt: skip
    return Market(K0, alice, charlie, dave, sue, rita, workload, tky, kyu, energy)


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


def register_webhook(membership, receiver: Receiver) -> str:
    """Point `membership`'s organisation at the receiver; the receiver learns the secret."""
    _endpoint, secret = op.webhook_endpoint_create(actor=actor_of(membership), url=receiver.url)
    receiver.secret = secret
    return secret


__all__ = ["HORIZON", "INTERVALS", "K0", "SITE_DATA", "Market", "gate", "register_webhook"]
