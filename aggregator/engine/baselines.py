"""The *stay* and *greedy* baselines of SCENARIO_FORMAT.md, on the same input and formula."""

from __future__ import annotations

import math

import numpy as np

from aggregator.engine.feasibility import Indexed, pair_masks, static_pairs
from aggregator.engine.model import energy_unit_cost, eo_area
from aggregator.engine.snapshot import Snapshot
from aggregator.engine.steps import cheapest_with_room, offers_by_site, use_steps
from aggregator.engine.welfare import Allocation, area_load_kwh, merit_order_energy, welfare

_EPS = 1e-9


def _priority(snap: Snapshot, idx: Indexed) -> list[int]:
    """Highest limit price first, ties by workload id (workloads are already id-sorted)."""
    top = idx.limit.max(axis=1) if snap.n_intervals else np.zeros(len(snap.workloads))
    return sorted(range(len(snap.workloads)), key=lambda i: (-top[i], i))


def _whole(cu: float, unit: float) -> float:
    return math.floor(cu / unit + _EPS) * unit


def stay_home_sites(snap: Snapshot, idx: Indexed, ok: np.ndarray) -> np.ndarray:
    """home_site, or the feasible site with the lowest latency to the zone (ties by id)."""
    homes = idx.home.copy()
    for i, w in enumerate(snap.workloads):
        if homes[i] >= 0:
            continue
        candidates = np.nonzero(ok[i])[0]
        if len(candidates):
            lat = [
                snap.sites[c].latency_ms.get(w.zone, math.inf) if w.zone else 0.0
                for c in candidates
            ]
            homes[i] = candidates[int(np.argmin(lat))]  # argmin keeps the first (lowest id)
    return homes


def _area_room(snap: Snapshot) -> np.ndarray:
    return np.array([a.cap_kw for a in snap.areas]).reshape(len(snap.areas), -1) * snap.hours


def stay(snap: Snapshot, idx: Indexed) -> Allocation:
    """Each workload at its home site, as early as it may, on grid energy, whatever the price."""
    ok = static_pairs(pair_masks(snap, idx))
    homes = stay_home_sites(snap, idx, ok)
    cap_left = idx.offer_cu.copy()
    area_left = _area_room(snap)
    out: list[tuple[int, int, int, float]] = []
    for i in _priority(snap, idx):
        site = homes[i]
        if site < 0 or not ok[i, site]:
            continue
        area, kwh = idx.site_area[site], idx.site_kwh_per_cu[site]
        left = idx.remaining[i]
        for t in range(snap.n_intervals):
            if left <= _EPS:
                break
            room = min(idx.rate_cap[i, t], cap_left[site, t], left)
            if kwh > 0:
                room = min(room, area_left[area, t] / kwh)
            take = _whole(room, idx.unit[i])
            if take <= _EPS:
                continue
            cap_left[site, t] -= take
            area_left[area, t] -= take * kwh
            left -= take
            out.append((i, site, t, take))
    return _allocation(snap, idx, out, use_offers=False)


def greedy(snap: Snapshot, idx: Indexed, *, pins: bool = False) -> Allocation:
    """Interval by interval, highest limit first, cheapest all-in feasible site while ≤ limit.
    A site's capacity price is its cheapest step with CU left, so steps sell cheapest first.
    A no_migration workload keeps to the site it first ran at. `pins`: the snapshot's pins
    are placed first and kept as they are (the time-budget fallback's allocation, solve.py);
    the baseline itself ignores them, as SCENARIO_FORMAT.md defines it."""
    ok = static_pairs(pair_masks(snap, idx))
    grid_cost, offer_cost = energy_unit_cost(snap)
    offer_area = eo_area(snap, np.arange(len(snap.energy_offers)))
    offer_left = np.array([o.kwh for o in snap.energy_offers]).reshape(-1, snap.n_intervals)
    cap_left = idx.offer_cu.copy()
    step_left = idx.step_cu.copy()  # capacity steps: the cheapest with room sets the price
    steps_at = offers_by_site(idx, len(snap.sites))
    area_left = _area_room(snap)
    left = idx.remaining.copy()
    order = _priority(snap, idx)
    sites_of = [np.nonzero(ok[i])[0] for i in range(len(snap.workloads))]
    out: list[tuple[int, int, int, float]] = []
    fixed = _pins(snap) if pins else {}
    for i, site, _t in fixed:
        if snap.workloads[i].no_migration and fixed[(i, site, _t)] > 0:
            sites_of[i] = np.array([site])
    for t in range(snap.n_intervals):
        # Offers of each area, cheapest first, that beat the grid this interval.
        tiers = {a: [] for a in range(len(snap.areas))}
        for o in np.lexsort((np.arange(len(offer_area)), offer_cost[:, t])):
            if offer_cost[o, t] < grid_cost[offer_area[o], t]:
                tiers[offer_area[o]].append(o)

        pinned_now = {(i, site): cu for (i, site, tt), cu in fixed.items() if tt == t}
        for (i, site), cu in pinned_now.items():
            kwh = idx.site_kwh_per_cu[site]
            cap_left[site, t] -= cu
            if idx.multi[site, t]:
                use_steps(idx, step_left, steps_at[site], t, cu)
            area_left[idx.site_area[site], t] -= cu * kwh
            left[i] -= cu
            _use_energy(tiers[idx.site_area[site]], offer_left, t, cu * kwh)
            if cu > 0:
                out.append((i, site, t, cu))
        for i in order:
            taken = sum(cu for (k, _), cu in pinned_now.items() if k == i)
            need = min(idx.rate_cap[i, t] - taken, left[i])
            unit = idx.unit[i]
            skip: set[int] = {site for (k, site) in pinned_now if k == i}
            while need >= unit - _EPS:
                best = None
                for site in sites_of[i]:
                    if site in skip or cap_left[site, t] < unit - _EPS:
                        continue
                    price, tier = _marginal(
                        tiers[idx.site_area[site]],
                        offer_left,
                        offer_cost,
                        grid_cost,
                        idx.site_area[site],
                        t,
                    )
                    kwh = idx.site_kwh_per_cu[site]
                    step = -1
                    compute = idx.x_price[site, t]
                    if idx.multi[site, t]:
                        compute, step = cheapest_with_room(idx, step_left, steps_at[site], t)
                    cost = compute + price * kwh / snap.hours
                    if best is None or cost < best[0] - 1e-12:
                        best = (cost, site, tier, kwh, step)
                if best is None or best[0] > idx.limit[i, t] + 1e-9:
                    break
                _, site, tier, kwh, step = best
                area = idx.site_area[site]
                room = min(need, cap_left[site, t])
                if step >= 0:  # at most the cheapest step, but at least one whole unit
                    room = min(room, max(step_left[step, t], unit))
                if kwh > 0:
                    room = min(room, area_left[area, t] / kwh)
                    if tier >= 0:  # at most the cheap tier, but at least one whole unit
                        room = min(room, max(offer_left[tier, t] / kwh, unit))
                take = _whole(room, unit)
                if take <= _EPS:
                    skip.add(site)
                    continue
                cap_left[site, t] -= take
                if idx.multi[site, t]:
                    use_steps(idx, step_left, steps_at[site], t, take)
                area_left[area, t] -= take * kwh
                need -= take
                left[i] -= take
                _use_energy(tiers[area], offer_left, t, take * kwh)
                out.append((i, site, t, take))
                if snap.workloads[i].no_migration:  # it stays where it started
                    sites_of[i] = np.array([site])
    return _allocation(snap, idx, out, use_offers=True)


def _pins(snap: Snapshot) -> dict[tuple[int, int, int], float]:
    w_pos = {w.id: i for i, w in enumerate(snap.workloads)}
    s_pos = {x.id: i for i, x in enumerate(snap.sites)}
    return {(w_pos[p.workload], s_pos[p.site], p.interval): p.cu for p in snap.fixed}


def _marginal(tier, offer_left, offer_cost, grid_cost, area: int, t: int) -> tuple[float, int]:
    """Cheapest energy left in the area: the first offer tier with kWh, else the grid."""
    for o in tier:
        if offer_left[o, t] > _EPS:
            return offer_cost[o, t], o
    return grid_cost[area, t], -1


def _use_energy(tier: list[int], offer_left: np.ndarray, t: int, kwh: float) -> None:
    for o in tier:
        used = min(offer_left[o, t], kwh)
        offer_left[o, t] -= used
        kwh -= used
        if kwh <= _EPS:
            return


def _allocation(snap, idx, rows, *, use_offers: bool) -> Allocation:
    merged: dict[tuple[int, int, int], float] = {}
    for i, s, t, cu in rows:
        merged[(i, s, t)] = merged.get((i, s, t), 0.0) + cu
    keys = sorted(merged)
    j = np.array([k[0] for k in keys], dtype=np.int64)
    s = np.array([k[1] for k in keys], dtype=np.int64)
    t = np.array([k[2] for k in keys], dtype=np.int64)
    cu = np.array([merged[k] for k in keys], dtype=np.float64)
    load = area_load_kwh(snap, idx, j, s, t, cu)
    offer_kwh, grid_kwh = merit_order_energy(snap, load, use_offers=use_offers)
    return Allocation(j, s, t, cu, offer_kwh, grid_kwh)


def baseline_welfare(snap: Snapshot, idx: Indexed, name: str) -> tuple[Allocation, float]:
    alloc = {"stay": stay, "greedy": greedy}[name](snap, idx)
    return alloc, welfare(snap, idx, alloc)
