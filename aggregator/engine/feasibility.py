"""The sparse set of feasible (workload, site, interval) triples, computed with numpy masks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aggregator.engine.errors import SnapshotError
from aggregator.engine.snapshot import Snapshot

# Filters in the order `explain` reports them; each mask is workload × site.
FILTERS = ("accelerator", "residency", "areas", "latency", "capacity_offer", "window")


@dataclass(frozen=True)
class Indexed:
    """Dense per-entity arrays in canonical (id-sorted) order."""

    site_area: np.ndarray  # S, area index
    site_kwh_per_cu: np.ndarray  # S, kWh one CU uses in one interval
    offer_cu: np.ndarray  # S × T, the site's capacity: Σ of its steps, 0 where no offer
    # Capacity price carried by the x columns: the step's price where a site-interval has one
    # step, 0 where it has several (their prices sit on step columns, model.build).
    x_price: np.ndarray  # S × T, JPY per CU-hour
    multi: np.ndarray  # S × T bool, ≥ 2 steps with CU
    first_price: np.ndarray  # S × T, the cheapest step with CU (the price of the first CU)
    step_site: np.ndarray  # O, site of each capacity offer (offers in id order)
    step_cu: np.ndarray  # O × T
    step_price: np.ndarray  # O × T, JPY per CU-hour
    rate_cap: np.ndarray  # W × T, CU per interval a workload may use (0 outside its window)
    remaining: np.ndarray  # W, CU-intervals (inf for inference)
    unit: np.ndarray  # W, gang size or 1
    limit: np.ndarray  # W × T, JPY per CU-hour
    home: np.ndarray  # W, site index or -1


@dataclass(frozen=True)
class Triples:
    """Feasible triples sorted by (workload, site, interval); `ub` is in allocation units."""

    j: np.ndarray
    s: np.ndarray
    t: np.ndarray
    ub: np.ndarray
    pinned: np.ndarray  # NaN where free, else the pinned CU

    def __len__(self) -> int:
        return len(self.j)


def index(snap: Snapshot) -> Indexed:
    n_t = snap.n_intervals
    area_pos = {a.id: i for i, a in enumerate(snap.areas)}
    site_pos = {s.id: i for i, s in enumerate(snap.sites)}
    site_area = np.array([area_pos[s.area] for s in snap.sites], dtype=np.int64)
    kwh = np.array([s.kw_per_cu * s.pue * snap.hours for s in snap.sites], dtype=np.float64)
    n_s, n_o = len(snap.sites), len(snap.capacity_offers)
    step_site = np.array([site_pos[o.site] for o in snap.capacity_offers], dtype=np.int64)
    step_cu = np.array([o.cu for o in snap.capacity_offers], dtype=np.float64).reshape(n_o, n_t)
    step_price = np.array([o.price for o in snap.capacity_offers]).reshape(n_o, n_t)
    offer_cu = np.zeros((n_s, n_t))
    np.add.at(offer_cu, step_site, step_cu)
    has = step_cu > 0
    steps = np.zeros((n_s, n_t), dtype=np.int64)
    np.add.at(steps, step_site, has.astype(np.int64))
    first_price = np.full((n_s, n_t), np.inf)
    np.minimum.at(first_price, step_site, np.where(has, step_price, np.inf))
    first_price[steps == 0] = 0.0
    multi = steps >= 2
    x_price = np.where(multi, 0.0, first_price)
    n_w = len(snap.workloads)
    rate = np.zeros((n_w, n_t))
    remaining = np.full(n_w, np.inf)
    limit = np.zeros((n_w, n_t))
    unit = np.ones(n_w)
    home = np.full(n_w, -1, dtype=np.int64)
    for i, w in enumerate(snap.workloads):
        cap = np.inf if w.max_cu is None else w.max_cu
        if w.kind == "inference":
            rate[i] = np.minimum(w.demand, cap)
        else:
            remaining[i] = w.remaining_cu_intervals
            lo, hi = w.earliest, min(w.deadline, n_t - 1)
            if lo <= hi:
                rate[i, lo : hi + 1] = min(cap, w.remaining_cu_intervals)
        limit[i] = w.limit_price
        unit[i] = w.gang or 1
        if w.home_site is not None:
            home[i] = site_pos[w.home_site]
    return Indexed(
        site_area,
        kwh,
        offer_cu,
        x_price,
        multi,
        first_price,
        step_site,
        step_cu,
        step_price,
        rate,
        remaining,
        unit,
        limit,
        home,
    )


def pair_masks(snap: Snapshot, idx: Indexed) -> dict[str, np.ndarray]:
    """One workload × site boolean mask per filter (each independent of the others)."""
    sites, works = snap.sites, snap.workloads
    n_w, n_s = len(works), len(sites)
    kinds = sorted({w.accelerator for w in works} | {s.accelerator for s in sites})
    code = {k: i for i, k in enumerate(kinds)}
    accel = (
        np.array([code[w.accelerator] for w in works], dtype=np.int64)[:, None]
        == np.array([code[s.accelerator] for s in sites], dtype=np.int64)[None, :]
    )
    tags = sorted({t for w in works for t in w.residency} | {t for s in sites for t in s.residency})
    tag_pos = {t: i for i, t in enumerate(tags)}
    need = np.zeros((n_w, len(tags)), dtype=np.int64)
    have = np.zeros((n_s, len(tags)), dtype=np.int64)
    for i, w in enumerate(works):
        need[i, [tag_pos[t] for t in w.residency]] = 1
    for i, s in enumerate(sites):
        have[i, [tag_pos[t] for t in s.residency]] = 1
    residency = need @ (1 - have).T == 0  # no required tag missing at the site
    area_ids = [a.id for a in snap.areas]
    allowed = np.ones((n_w, len(area_ids)), dtype=bool)
    for i, w in enumerate(works):
        if w.areas is not None:
            allowed[i] = [a in w.areas for a in area_ids]
    areas = allowed[:, idx.site_area] if n_s else np.zeros((n_w, 0), bool)
    zones = sorted({w.zone for w in works if w.zone is not None})
    zone_pos = {z: i for i, z in enumerate(zones)}
    site_lat = np.array(
        [[s.latency_ms.get(z, np.inf) for z in zones] for s in sites], dtype=np.float64
    ).reshape(n_s, len(zones))
    max_lat = np.array([np.inf if w.max_latency_ms is None else w.max_latency_ms for w in works])
    zone_of = np.array(
        [zone_pos[w.zone] if w.max_latency_ms is not None else -1 for w in works], np.int64
    )
    latency = np.ones((n_w, n_s), dtype=bool)
    limited = zone_of >= 0
    if limited.any():
        latency[limited] = max_lat[limited, None] >= site_lat[:, zone_of[limited]].T
    offered = (idx.offer_cu > 0).any(axis=1)
    capacity = np.broadcast_to(offered, (n_w, n_s))
    window = ((idx.rate_cap > 0).astype(np.int64) @ (idx.offer_cu > 0).T.astype(np.int64)) > 0
    window &= (idx.remaining > 0)[:, None]
    return {
        "accelerator": accel.reshape(n_w, n_s),
        "residency": residency.reshape(n_w, n_s),
        "areas": areas.reshape(n_w, n_s),
        "latency": latency,
        "capacity_offer": np.asarray(capacity),
        "window": window,
    }


def static_pairs(masks: dict[str, np.ndarray]) -> np.ndarray:
    """Workload × site pairs passing every filter except time (for the *stay* home choice)."""
    out = masks["accelerator"] & masks["residency"] & masks["areas"] & masks["latency"]
    return out & masks["capacity_offer"]


def feasible_triples(snap: Snapshot, idx: Indexed) -> Triples:
    masks = pair_masks(snap, idx)
    pj, ps = np.nonzero(static_pairs(masks) & masks["window"])
    both = (idx.rate_cap[pj] > 0) & (idx.offer_cu[ps] > 0)  # pairs × T
    pair, t = np.nonzero(both)
    j, s = pj[pair], ps[pair]
    # Site capacity stays out of a continuous column's bound: the capacity row must carry the
    # shadow value (it is the compute price), not the column's reduced cost. Gang columns
    # keep it, as a tighter integer bound; their prices come from fix-and-price anyway.
    ub_cu = np.minimum(idx.rate_cap[j, t], idx.remaining[j])
    gang = idx.unit[j] > 1
    ub_cu[gang] = np.minimum(ub_cu[gang], idx.offer_cu[s[gang], t[gang]])
    ub = np.where(gang, np.floor(ub_cu / idx.unit[j] + 1e-9), ub_cu)
    pinned = np.full(len(j), np.nan)
    _apply_pins(snap, idx, j, s, t, ub, pinned)
    keep = ((ub > 0) | ~np.isnan(pinned)) & ~_away_from_running_site(snap, j, s, pinned)
    return Triples(j[keep], s[keep], t[keep], ub[keep], pinned[keep])


def _away_from_running_site(snap: Snapshot, j, s, pinned) -> np.ndarray:
    """Unpinned triples of a `no_migration` workload at sites other than the one a pin with
    CU says it runs at (it may not move within the horizon)."""
    out = np.zeros(len(j), dtype=bool)
    flag = np.array([w.no_migration for w in snap.workloads], dtype=bool)
    running = (pinned > 0) & flag[j]
    if not running.any():
        return out
    for w in np.unique(j[running]):
        sites = np.unique(s[running & (j == w)])
        if len(sites) > 1:
            raise SnapshotError(
                "fixed",
                f"workload {snap.workloads[w].id!r} has no_migration but is pinned running at "
                f"{len(sites)} sites",
            )
        out |= (j == w) & (s != sites[0]) & np.isnan(pinned)
    return out


def _apply_pins(snap, idx, j, s, t, ub, pinned) -> None:
    """Pins set both bounds; a pin outside the feasible triples is an input error."""
    if not snap.fixed:
        return
    w_pos = {w.id: i for i, w in enumerate(snap.workloads)}
    s_pos = {x.id: i for i, x in enumerate(snap.sites)}
    n_t, n_s = snap.n_intervals, len(snap.sites)
    keys = (j * n_s + s) * n_t + t  # sorted, because triples are sorted by (j, s, t)
    for i, pin in enumerate(snap.fixed):
        wi = w_pos[pin.workload]
        key = (wi * n_s + s_pos[pin.site]) * n_t + pin.interval
        k = int(np.searchsorted(keys, key))
        if k >= len(keys) or keys[k] != key:
            raise SnapshotError(f"fixed[{i}]", "not a feasible placement (see `explain`)")
        units = pin.cu / idx.unit[wi]
        if abs(units - round(units)) > 1e-9 and idx.unit[wi] > 1:
            raise SnapshotError(f"fixed[{i}].cu", "must be a whole multiple of the gang size")
        pinned[k] = pin.cu
        ub[k] = max(ub[k], units)
