"""What a run's snapshot and result say about its firm interval, for the impact figures.

Pure: a `wattbit.clearing/1` snapshot (and the run's result document) in, plain figures out.
The firm interval is index 0 of the snapshot. The baselines are the engine's own
(`aggregator.engine.baselines`); only their firm interval is kept here, because the runs'
stored baseline welfare covers the whole 48-interval horizon and consecutive runs overlap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from aggregator.engine import parse_snapshot
from aggregator.engine.baselines import baseline_welfare, stay_home_sites
from aggregator.engine.feasibility import index, pair_masks, static_pairs
from aggregator.engine.snapshot import Snapshot
from aggregator.engine.welfare import Allocation, welfare


@dataclass(frozen=True)
class WorkloadBaseline:
    """Per CU-hour of a workload in the firm interval, under the baselines."""

    home_site: str | None  # the stay baseline's site: home_site, else the nearest feasible
    home_area: str | None
    # Energy one CU-hour would cost at the home site on grid energy at the area's JEPX price.
    home_energy_jpy_per_cu_h: float
    home_co2_g_per_cu_h: float  # … and what it would emit at the area's grid intensity
    # Energy one CU-hour costs where the greedy rule runs the workload in the firm interval
    # (its sites' areas' merit-order energy); None when greedy does not run it then.
    greedy_energy_jpy_per_cu_h: float | None


@dataclass(frozen=True)
class RunBaselines:
    welfare_jpy: float  # of the run's own allocation, firm interval only
    stay_welfare_jpy: float
    greedy_welfare_jpy: float
    workloads: dict[str, WorkloadBaseline]  # workload public id → figures
    capacity_offered: dict[str, float]  # site code → CU offered in the firm interval
    area_carbon: dict[str, float]  # grid gCO2/kWh in the firm interval
    hours: float  # length of an interval


def _firm_only(snap: Snapshot, alloc: Allocation) -> Allocation:
    keep = alloc.t == 0
    offer = np.zeros_like(alloc.offer_kwh)
    grid = np.zeros_like(alloc.grid_kwh)
    if snap.n_intervals:
        offer[:, 0] = alloc.offer_kwh[:, 0]
        grid[:, 0] = alloc.grid_kwh[:, 0]
    return Allocation(alloc.j[keep], alloc.s[keep], alloc.t[keep], alloc.cu[keep], offer, grid)


def _result_allocation(snap: Snapshot, result: dict[str, Any]) -> Allocation:
    """The run's published firm interval as an engine Allocation (to price it alike)."""
    w_pos = {w.id: i for i, w in enumerate(snap.workloads)}
    s_pos = {s.id: i for i, s in enumerate(snap.sites)}
    o_pos = {o.id: i for i, o in enumerate(snap.energy_offers)}
    a_pos = {a.id: i for i, a in enumerate(snap.areas)}
    rows = [r for r in result.get("allocations", []) if int(r["interval"]) == 0]
    offer = np.zeros((len(snap.energy_offers), snap.n_intervals))
    grid = np.zeros((len(snap.areas), snap.n_intervals))
    for e in result.get("energy", []):
        if int(e["interval"]) == 0:
            offer[o_pos[e["offer"]], 0] = float(e["kwh"])
    for g in result.get("grid", []):
        if int(g["interval"]) == 0:
            grid[a_pos[g["area"]], 0] = float(g["kwh"])
    return Allocation(
        np.array([w_pos[r["workload"]] for r in rows], dtype=np.int64),
        np.array([s_pos[r["site"]] for r in rows], dtype=np.int64),
        np.zeros(len(rows), dtype=np.int64),
        np.array([float(r["cu"]) for r in rows], dtype=np.float64),
        offer,
        grid,
    )


def _area_energy_jpy_per_kwh(snap: Snapshot, alloc: Allocation) -> dict[int, float]:
    """Average energy price (offers at their price, the rest at the area's JEPX price)."""
    out = {}
    for a, area in enumerate(snap.areas):
        jpy = float(area.price[0]) * float(alloc.grid_kwh[a, 0])
        kwh = float(alloc.grid_kwh[a, 0])
        for o, offer in enumerate(snap.energy_offers):
            if offer.area == area.id and alloc.offer_kwh[o, 0] > 0:
                jpy += float(offer.price[0]) * float(alloc.offer_kwh[o, 0])
                kwh += float(alloc.offer_kwh[o, 0])
        out[a] = jpy / kwh if kwh > 0 else float(area.price[0])
    return out


def run_baselines(snapshot: dict[str, Any], result: dict[str, Any]) -> RunBaselines:
    snap = parse_snapshot(snapshot)
    idx = index(snap)
    hours = snap.hours
    kwh_per_cu_h = idx.site_kwh_per_cu / hours  # kWh one CU takes in an hour (kW/CU × PUE)
    stay, _ = baseline_welfare(snap, idx, "stay")
    greedy, _ = baseline_welfare(snap, idx, "greedy")
    stay_firm, greedy_firm = _firm_only(snap, stay), _firm_only(snap, greedy)
    homes = stay_home_sites(snap, idx, static_pairs(pair_masks(snap, idx)))
    greedy_area_price = _area_energy_jpy_per_kwh(snap, greedy_firm)
    greedy_cost: dict[int, list[float]] = {}
    for j, s, cu in zip(greedy_firm.j, greedy_firm.s, greedy_firm.cu, strict=True):
        unit = greedy_area_price[int(idx.site_area[s])] * float(kwh_per_cu_h[s])
        acc = greedy_cost.setdefault(int(j), [0.0, 0.0])
        acc[0] += float(cu) * unit
        acc[1] += float(cu)
    workloads = {}
    for i, w in enumerate(snap.workloads):
        home = int(homes[i])
        if home >= 0:
            area = snap.areas[int(idx.site_area[home])]
            per_cu_h = float(kwh_per_cu_h[home])
            home_site, home_area = snap.sites[home].id, area.id
            energy, co2 = per_cu_h * float(area.price[0]), per_cu_h * float(area.carbon[0])
        else:
            home_site = home_area = None
            energy = co2 = 0.0
        g = greedy_cost.get(i)
        workloads[w.id] = WorkloadBaseline(
            home_site,
            home_area,
            energy,
            co2,
            g[0] / g[1] if g and g[1] > 0 else None,
        )
    capacity: dict[str, float] = {}
    for o in snap.capacity_offers:
        capacity[o.site] = capacity.get(o.site, 0.0) + float(o.cu[0])
    return RunBaselines(
        welfare_jpy=welfare(snap, idx, _result_allocation(snap, result)),
        stay_welfare_jpy=welfare(snap, idx, stay_firm),
        greedy_welfare_jpy=welfare(snap, idx, greedy_firm),
        workloads=workloads,
        capacity_offered=capacity,
        area_carbon={a.id: float(a.carbon[0]) for a in snap.areas},
        hours=hours,
    )
