"""Plausible meter data for the demo market, then settlement: what `run_market --settle` does.

Deterministic for a seed. Most lines are delivered as ordered; a few fall short (provider
CU or supplier kWh, 50–95 % of the order); a few readings arrive only after the metering
deadline, so their intervals settle provisionally first and are made final by reversal.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from aggregator.platform.access import Scope
from aggregator.platform.public_ids import ENERGY_OFFER, WORKLOAD, format_public_id
from market import calendar
from market.models.clearing import Allocation, ClearingRun, EnergyAward
from operators.actors import Actor
from operators.models import Organisation
from operators.site_energy import kwh_per_cu_hour
from settlement.models import SettlementParameters
from settlement.money import HALF_HOUR
from settlement.services.meter import meter_report_bulk
from settlement.services.settle import interval_finalise, interval_settle, metering_deadline

SHORTFALL_SHARE = 0.06
LATE_SHARE = 0.03


@dataclass(frozen=True)
class DemoMeter(Actor):
    """The demo's meter feed, acting for each organisation that has to report."""

    @property
    def label(self) -> str:
        return f"system:demo-meter:{self.organisation.slug}"


@dataclass
class DemoSettlement:
    intervals: int = 0
    readings: int = 0
    shortfalls: int = 0
    late: int = 0
    provisional_intervals: int = 0
    finalised_items: int = 0
    per_interval: list[str] = field(default_factory=list)


def _actor(org: Organisation) -> DemoMeter:
    return DemoMeter(organisation=org, scopes=frozenset({Scope.READ, Scope.TRADE}))


def _items(run: ClearingRun, rng: random.Random) -> tuple[dict, dict, int]:
    """(on-time items per organisation, late items per organisation, shortfalls)."""
    k = calendar.iso_z(run.interval_start)
    on_time: dict[int, list[dict]] = defaultdict(list)
    late: dict[int, list[dict]] = defaultdict(list)
    shortfalls = 0
    site_kwh: dict[tuple[int, str], Decimal] = defaultdict(Decimal)

    def delivered(ordered: Decimal, places: str) -> Decimal:
        nonlocal shortfalls
        if rng.random() < SHORTFALL_SHARE:
            shortfalls += 1
            return (ordered * Decimal(str(round(rng.uniform(0.5, 0.95), 3)))).quantize(
                Decimal(places)
            )
        return ordered

    for a in Allocation.objects.filter(run=run, is_current=True).select_related("site"):
        cu = delivered(a.cu, "0.000001")
        bucket = late if rng.random() < LATE_SHARE else on_time
        bucket[a.site.organisation_id].append(
            {"kind": "compute", "interval_start": k, "site": a.site.code,
             "workload": format_public_id(WORKLOAD, a.workload_id), "cu": str(cu)}
        )  # fmt: skip
        site_kwh[(a.site.organisation_id, a.site.code)] += cu * kwh_per_cu_hour(
            a.site.kw_per_cu, a.site.pue
        )
    for (org_id, code), kwh in site_kwh.items():
        measured = (kwh * HALF_HOUR * Decimal(str(round(rng.uniform(0.97, 1.01), 3)))).quantize(
            Decimal("0.001")
        )
        on_time[org_id].append(
            {"kind": "site_energy", "interval_start": k, "site": code, "kwh": str(measured)}
        )
    for e in EnergyAward.objects.filter(run=run, is_current=True).select_related("offer"):
        bucket = late if rng.random() < LATE_SHARE else on_time
        bucket[e.offer.organisation_id].append(
            {"kind": "supply", "interval_start": k, "offer": format_public_id(ENERGY_OFFER, e.offer_id),
             "kwh": str(delivered(e.kwh, "0.001"))}
        )  # fmt: skip
    return on_time, late, shortfalls


def _report(items: dict[int, list[dict]], now) -> int:
    orgs = Organisation.objects.in_bulk(list(items))
    count = 0
    for org_id, rows in sorted(items.items()):
        if rows:
            count += len(meter_report_bulk(actor=_actor(orgs[org_id]), items=rows, now=now))
    return count


def demo_meter_and_settle(runs: list[ClearingRun], *, seed: int = 6) -> DemoSettlement:
    """Meter and settle each run on the simulated clock: report, deadline, late data."""
    rng = random.Random(seed)
    params = SettlementParameters.current()
    out = DemoSettlement()
    for run in runs:
        on_time, late, shortfalls = _items(run, rng)
        ended = run.interval_start + calendar.INTERVAL + timedelta(minutes=5)
        deadline = metering_deadline(run.interval_start, params)
        out.readings += _report(on_time, ended)
        settled = interval_settle(run=run, now=deadline)
        out.shortfalls += shortfalls
        if not settled.did_work:
            out.per_interval.append(f"{calendar.iso_z(run.interval_start)} already settled")
            continue
        out.intervals += 1
        note = settled.state
        if late and settled.provisional_items:
            out.provisional_intervals += 1
            arrival = deadline + timedelta(hours=1)
            out.late += _report(late, arrival)
            final = interval_finalise(run=run, now=arrival)
            out.finalised_items += final.finalised_items
            note = f"provisional ({settled.provisional_items} items) → {final.state}"
        out.per_interval.append(
            f"{calendar.iso_z(run.interval_start)} {settled.entries} entries, {note}"
        )
    return out
