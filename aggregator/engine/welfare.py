"""Welfare of any allocation by the one formula of SCENARIO_FORMAT.md (used for baselines too)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aggregator.engine.feasibility import Indexed
from aggregator.engine.model import energy_unit_cost, eo_area
from aggregator.engine.snapshot import Snapshot
from aggregator.engine.steps import step_cost_jpy


@dataclass(frozen=True)
class Allocation:
    """CU per triple (any order) plus the energy bought to run it."""

    j: np.ndarray
    s: np.ndarray
    t: np.ndarray
    cu: np.ndarray
    offer_kwh: np.ndarray  # O × T
    grid_kwh: np.ndarray  # A × T


def area_load_kwh(snap: Snapshot, idx: Indexed, j, s, t, cu) -> np.ndarray:
    load = np.zeros((len(snap.areas), snap.n_intervals))
    np.add.at(load, (idx.site_area[s], t), cu * idx.site_kwh_per_cu[s])
    return load


def merit_order_energy(
    snap: Snapshot, load: np.ndarray, *, use_offers: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Serve each area-interval load from offers cheaper than the grid, cheapest first."""
    grid_cost, offer_cost = energy_unit_cost(snap)
    n_o = len(snap.energy_offers)
    offer_kwh = np.zeros((n_o, snap.n_intervals))
    grid = load.copy()
    if use_offers and n_o:
        area = eo_area(snap, np.arange(n_o))
        for t in range(snap.n_intervals):
            order = np.lexsort((np.arange(n_o), offer_cost[:, t]))
            for o in order:
                a = area[o]
                if offer_cost[o, t] >= grid_cost[a, t] or grid[a, t] <= 0:
                    continue
                take = min(grid[a, t], snap.energy_offers[o].kwh[t])
                offer_kwh[o, t] = take
                grid[a, t] -= take
    return offer_kwh, np.maximum(grid, 0.0)


def migration_cu(snap: Snapshot, idx: Indexed, j, s, t, cu) -> np.ndarray:
    """CU added per triple at a non-home site versus the previous interval (first vs zero)."""
    n_t, n_s = snap.n_intervals, len(snap.sites)
    key = (j * n_s + s) * n_t + t
    order = np.argsort(key, kind="stable")
    key, cu_sorted, t_sorted = key[order], cu[order], t[order]
    prev = np.zeros(len(key))
    # The previous sorted entry is the same (workload, site) one interval earlier.
    follows = (key[1:] == key[:-1] + 1) & (t_sorted[1:] > 0)
    prev[1:][follows] = cu_sorted[:-1][follows]
    added = np.maximum(cu_sorted - prev, 0.0)
    out = np.empty(len(key))
    out[order] = added
    away = s != idx.home[j]
    return np.where(away, out, 0.0)


def welfare(snap: Snapshot, idx: Indexed, alloc: Allocation) -> float:
    """value − compute − energy (offers, grid) − carbon − migration, in JPY."""
    h = snap.hours
    j, s, t, cu = alloc.j, alloc.s, alloc.t, alloc.cu
    value = float(np.sum(idx.limit[j, t] * cu) * h)
    compute = float(np.sum(idx.x_price[s, t] * cu) * h)
    if idx.multi.any():  # steps: what the site sold, filled cheapest first
        site_cu = np.zeros(idx.offer_cu.shape)
        np.add.at(site_cu, (s, t), cu)
        compute += step_cost_jpy(idx, site_cu, h)
    grid_cost, offer_cost = energy_unit_cost(snap)
    energy = float(np.sum(offer_cost * alloc.offer_kwh) + np.sum(grid_cost * alloc.grid_kwh))
    mig_cost = np.array([w.migration_cost for w in snap.workloads])
    migration = float(np.sum(mig_cost[j] * migration_cu(snap, idx, j, s, t, cu))) if len(j) else 0.0
    return value - compute - energy - migration
