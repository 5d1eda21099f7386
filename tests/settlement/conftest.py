"""Settlement fixtures: the cycle's small market, cleared, with helpers to meter and settle.

Clearing runs at each interval's gate closure; settlement "at" the metering deadline.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from aggregator.exchange.cycle import run_clear_interval
from market import calendar
from market.models.clearing import Allocation, ClearingRun, EnergyAward
from settlement.models import SettlementParameters
from settlement.services.settle import metering_deadline
from tests.cycle.conftest import (
    HORIZON,
    INTERVALS,
    K0,
    Market,
    gate,
    market,  # noqa: F401 (the fixture)
)

__all__ = ["HORIZON", "INTERVALS", "K0", "Market", "deadline", "ended", "gate"]


def deadline(k: datetime) -> datetime:
    return metering_deadline(k, SettlementParameters.current())


def ended(k: datetime) -> datetime:
    """A moment after the interval ended, before its metering deadline."""
    return k + calendar.INTERVAL + timedelta(minutes=5)


@pytest.fixture
def cleared(market) -> Market:  # noqa: F811 (the imported fixture)
    """The market with its first two intervals cleared."""
    for i in range(2):
        k = market.k(i)
        run_clear_interval(interval_start=k, now=gate(k))
    return market


def allocations(k: datetime) -> list[Allocation]:
    return list(
        Allocation.objects.filter(interval_start=k, is_current=True).select_related(
            "site", "workload"
        )
    )


def awards(k: datetime) -> list[EnergyAward]:
    return list(EnergyAward.objects.filter(interval_start=k, is_current=True))


def run_at(k: datetime) -> ClearingRun:
    return ClearingRun.objects.get(interval_start=k)


def full_readings(k: datetime, factor: Decimal = Decimal(1)) -> tuple[list[dict], list[dict]]:
    """(provider items, supplier items) reporting `factor` × what was ordered."""
    provider = [
        {
            "kind": "compute",
            "interval_start": calendar.iso_z(k),
            "site": a.site.code,
            "workload": f"wl-{a.workload_id}",
            "cu": str((a.cu * factor).quantize(Decimal("0.000001"))),
        }
        for a in allocations(k)
    ]
    supplier = [
        {
            "kind": "supply",
            "interval_start": calendar.iso_z(k),
            "offer": f"en-{e.offer_id}",
            "kwh": str((e.kwh * factor).quantize(Decimal("0.001"))),
        }
        for e in awards(k)
    ]
    return provider, supplier
