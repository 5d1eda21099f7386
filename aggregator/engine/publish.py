"""Publish the solution at its fixed precision (CU 6, kWh 3 decimals), exactly feasible.

Rounding a feasible LP point to 6 decimals is not feasible: an interior point meets its rows
only to the solver's tolerance, and even a vertex's pieces round up together (a batch job's
48 intervals of 1.6666667 CU sum past its remaining work). So the published numbers are
made, and then proven, feasible in integer micro-CU and milli-kWh:

1. Round each allocation to integer micro-CU (int64, exact). A gang allocation is a whole
   number of gangs; a pin is its pinned CU.
2. Limits come from the snapshot's numbers as written (the shortest decimal of each float),
   rounded *down* to the unit where they have more decimals; a site's capacity is the sum
   of its steps' so rounded CU. A row whose pins alone exceed its limit keeps the model's
   rule (model.build): its limit is the pinned load, pins are dispatched facts.
3. Every violated row (site capacity, workload rate = demand/max_cu, remaining work, area
   cap) gives back the excess from its continuous, unpinned members, largest allocation
   first (ties in triple order): these rows all have non-negative coefficients, so a
   reduction only relaxes the others and one pass over the rows suffices. Area caps are
   compared exactly (fractions) where the float sum is within 1e-9 of the cap.
4. Energy: awards are capped at the offer's kWh rounded down and at the area's load as
   published (rounded to the milli-kWh; the most expensive awards give back first);
   grid = that load − awards, so awards + grid is the published load exactly.
5. Everything is checked again on the published integers; a row that cannot be repaired
   (its gangs and pins alone exceed it) or a failed check raises `PublishError`.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from aggregator.engine.canonical import CU_DECIMALS, KWH_DECIMALS
from aggregator.engine.errors import PublishError
from aggregator.engine.feasibility import Indexed, Triples
from aggregator.engine.model import Model, energy_unit_cost, eo_area
from aggregator.engine.snapshot import Snapshot
from aggregator.engine.steps import fill

CU_SCALE = 10**CU_DECIMALS  # integer micro-CU
KWH_SCALE = 10**KWH_DECIMALS  # integer milli-kWh
NO_LIMIT = 2**62
# Float sums of integers are exact below 2**53 (bincount sums in float64).
_EXACT_FLOAT = 2.0**53
# Rows whose float value is within this relative distance of the limit are decided exactly.
_NEAR = 1e-9

logger = logging.getLogger(__name__)


def exact(value: float) -> Fraction:
    """The snapshot's number as written: the shortest decimal that reads back as the float."""
    return Fraction(repr(float(value)))


def floor_units(values: np.ndarray, scale: int) -> np.ndarray:
    """⌊value · scale⌋ of each value as written (int64; +inf → NO_LIMIT), exactly."""
    v = np.asarray(values, dtype=np.float64)
    out = np.full(v.shape, NO_LIMIT, dtype=np.int64)
    finite = np.isfinite(v)
    k = np.rint(np.where(finite, v, 0.0) * scale)
    # k/scale == v: v is the float of a decimal with ≤ log10(scale) decimals (distinct such
    # decimals are distinct floats below 1e9); anything else is floored from its decimal.
    quick = finite & (np.abs(v) < 1e9) & (k / scale == v)
    out[quick] = k[quick].astype(np.int64)
    for i in zip(*np.nonzero(finite & ~quick), strict=True):
        out[i] = min(math.floor(exact(v[i]) * scale), NO_LIMIT)
    return out


@dataclass(frozen=True)
class Published:
    """The published quantities; every float is an exact decimal of its precision."""

    j: np.ndarray  # allocations with cu > 0, in triple order
    s: np.ndarray
    t: np.ndarray
    cu: np.ndarray
    offer: np.ndarray  # energy awards with kwh > 0
    offer_t: np.ndarray
    offer_kwh: np.ndarray
    grid_kwh: np.ndarray  # A × T
    capacity_cu: np.ndarray  # O × T, CU sold per capacity offer (steps cheapest first)
    repaired: dict[str, int]  # rows repaired, by kind
    seconds: float

    @property
    def repaired_rows(self) -> int:
        return sum(self.repaired.values())


def _rint(units: np.ndarray) -> np.ndarray:
    """Round to whole units, deciding a value within 1e-3 of a unit's half as that half
    (half to even): a vertex can sit exactly on a half (6.8421875 CU is 6,842,187.5 micro-CU),
    and solvers reach it only to ~1e-12, on either side."""
    return np.rint(np.round(units, 3))


def _sums(keys: np.ndarray, micro: np.ndarray, n: int) -> np.ndarray:
    sel = keys >= 0
    total = np.bincount(keys[sel], weights=micro[sel], minlength=n)
    return np.rint(total).astype(np.int64)


def _group_before(key: np.ndarray, amount: np.ndarray) -> np.ndarray:
    """Per entry, the sum of `amount` over the earlier entries of its group (sorted by key)."""
    start = np.ones(len(key), dtype=bool)
    start[1:] = key[1:] != key[:-1]
    before = np.cumsum(amount) - amount
    return before - before[start][np.cumsum(start) - 1]


class _Rounding:
    """The allocations in micro-CU and the rows they must satisfy."""

    def __init__(self, snap: Snapshot, idx: Indexed, tri: Triples, cu: np.ndarray) -> None:
        self.snap, self.idx, self.tri = snap, idx, tri
        n_t = snap.n_intervals
        unit = idx.unit[tri.j]
        gang = unit > 1
        pinned = ~np.isnan(tri.pinned)
        micro = _rint(np.maximum(cu, 0.0) * CU_SCALE)
        micro[pinned] = np.rint(tri.pinned[pinned] * CU_SCALE)
        whole = np.rint(np.maximum(np.where(pinned, tri.pinned, cu), 0.0) / unit)
        micro[gang] = whole[gang] * unit[gang] * CU_SCALE
        if micro.sum() >= _EXACT_FLOAT:
            raise PublishError("allocations", "total beyond exact integer arithmetic")
        self.micro = micro.astype(np.int64)
        self.gang, self.pinned = gang, pinned
        self.free = ~gang & ~pinned
        step_room = floor_units(np.where(idx.step_cu > 0, idx.step_cu, 0.0), CU_SCALE)
        self.step_room = step_room
        site_limit = np.zeros(idx.offer_cu.shape, dtype=np.int64)
        np.add.at(site_limit, idx.step_site, step_room)
        finite = np.isfinite(idx.remaining)
        self.rows = {
            "site_capacity": (tri.s * n_t + tri.t, site_limit.ravel()),
            "workload_rate": (tri.j * n_t + tri.t, floor_units(idx.rate_cap, CU_SCALE).ravel()),
            "remaining_work": (
                np.where(finite[tri.j], tri.j, -1),
                floor_units(idx.remaining, CU_SCALE),
            ),
        }
        self.limits = {
            kind: np.maximum(limit, _sums(np.where(pinned, keys, -1), self.micro, len(limit)))
            for kind, (keys, limit) in self.rows.items()
        }
        self.kp = np.array([s.kw_per_cu * s.pue for s in snap.sites])  # kW per CU, float
        self._kp_exact: dict[int, Fraction] = {}

    def kp_exact(self, site: int) -> Fraction:
        if site not in self._kp_exact:
            s = self.snap.sites[site]
            self._kp_exact[site] = exact(s.kw_per_cu) * exact(s.pue)
        return self._kp_exact[site]

    def where(self, kind: str, key: int) -> str:
        n_t = self.snap.n_intervals
        if kind == "site_capacity":
            return f"site {self.snap.sites[key // n_t].id}, interval {key % n_t}"
        if kind == "workload_rate":
            return f"workload {self.snap.workloads[key // n_t].id}, interval {key % n_t}"
        if kind == "remaining_work":
            return f"workload {self.snap.workloads[key].id}"
        return f"area {self.snap.areas[key // n_t].id}, interval {key % n_t}"

    def site_sums(self, mask: np.ndarray | None = None) -> np.ndarray:
        tri, n_t = self.tri, self.snap.n_intervals
        keys = tri.s * n_t + tri.t
        if mask is not None:
            keys = np.where(mask, keys, -1)
        return _sums(keys, self.micro, self.idx.offer_cu.size).reshape(self.idx.offer_cu.shape)

    # -- linear rows (coefficient 1 on every member) -------------------------------------

    def over(self, kind: str) -> tuple[np.ndarray, np.ndarray]:
        keys, _ = self.rows[kind]
        limit = self.limits[kind]
        sums = _sums(keys, self.micro, len(limit))
        rows = np.nonzero(sums > limit)[0]
        return rows, sums[rows] - limit[rows]

    def repair_linear(self, kind: str) -> int:
        rows, excess = self.over(kind)
        if not len(rows):
            return 0
        keys, _ = self.rows[kind]
        cand = np.nonzero(self.free & (self.micro > 0) & np.isin(keys, rows))[0]
        cand = cand[np.lexsort((cand, -self.micro[cand], keys[cand]))]
        row_of = np.searchsorted(rows, keys[cand])
        room = self.micro[cand]
        take = np.clip(excess[row_of] - _group_before(keys[cand], room), 0, room)
        self.micro[cand] -= take
        given = np.bincount(row_of, weights=take, minlength=len(rows))
        short = np.nonzero(given < excess)[0]
        if len(short):
            r = short[0]
            raise PublishError(
                f"{kind} at {self.where(kind, int(rows[r]))}",
                f"gang and pinned allocations alone exceed the limit by "
                f"{int(excess[r] - given[r])} micro-CU",
            )
        return len(rows)

    # -- area caps: Σ cu·kW/CU·PUE ≤ cap_kw (the interval's hours cancel) --------------

    def area_cap_excess(self) -> dict[int, Fraction]:
        """Exact excess (micro-CU · kW) of each area-interval over its cap, where positive."""
        snap, idx = self.snap, self.idx
        n_a, n_t = len(snap.areas), snap.n_intervals
        caps = np.array([a.cap_kw for a in snap.areas]).reshape(n_a, n_t)
        site_cu = self.site_sums()
        load = np.zeros((n_a, n_t))
        np.add.at(load, idx.site_area, site_cu * self.kp[:, None])
        near = np.isfinite(caps) & (load > 0) & (load >= caps * CU_SCALE * (1 - _NEAR) - 1.0)
        if not near.any():
            return {}
        pinned_cu = self.site_sums(self.pinned)
        out = {}
        for a, t in zip(*np.nonzero(near), strict=True):
            sites = np.nonzero(idx.site_area == a)[0]
            total = sum((int(site_cu[s, t]) * self.kp_exact(s) for s in sites), Fraction(0))
            pins = sum((int(pinned_cu[s, t]) * self.kp_exact(s) for s in sites), Fraction(0))
            limit = max(exact(caps[a, t]) * CU_SCALE, pins)
            if total > limit:
                out[int(a * n_t + t)] = total - limit
        return out

    def repair_area_caps(self) -> int:
        over = self.area_cap_excess()
        tri, n_t = self.tri, self.snap.n_intervals
        area_key = self.idx.site_area[tri.s] * n_t + tri.t
        for key, excess in sorted(over.items()):
            cand = np.nonzero(self.free & (self.micro > 0) & (area_key == key))[0]
            cand = cand[np.lexsort((cand, -self.micro[cand]))]
            for k in cand:
                kp = self.kp_exact(int(tri.s[k]))
                if excess <= 0:
                    break
                if kp == 0:
                    continue
                take = min(int(self.micro[k]), math.ceil(excess / kp))
                self.micro[k] -= take
                excess -= take * kp
            if excess > 0:
                raise PublishError(
                    f"area_cap at {self.where('area_cap', key)}",
                    "gang and pinned allocations alone exceed the cap",
                )
        return len(over)

    def check(self) -> None:
        """Every row on the final integers; raises PublishError on the first that fails."""
        if (self.micro < 0).any():
            raise PublishError("allocations", "negative CU")
        unit = (self.idx.unit[self.tri.j] * CU_SCALE).astype(np.int64)
        if (self.micro[self.gang] % unit[self.gang]).any():
            raise PublishError("allocations", "a gang allocation is not a whole number of gangs")
        for kind in self.rows:
            rows, excess = self.over(kind)
            if len(rows):
                raise PublishError(
                    f"{kind} at {self.where(kind, int(rows[0]))}",
                    f"exceeded by {int(excess[0])} micro-CU after repair",
                )
        for key in self.area_cap_excess():
            raise PublishError(f"area_cap at {self.where('area_cap', key)}", "exceeded")


def _energy(snap: Snapshot, idx: Indexed, model: Model, values: np.ndarray, site_cu: np.ndarray):
    """Awards in milli-kWh, capped at the offers and at each area's published load (its
    exact load rounded half-even to the milli-kWh); grid = published load − awards, so
    awards + grid is the published load exactly. Capping at the unrounded load instead
    would buy up to 0.001 kWh of grid at the grid price where the area is priced below it:
    a deficit the market does not run today (money-balance property)."""
    n_a, n_t = len(snap.areas), snap.n_intervals
    offered = np.array([o.kwh for o in snap.energy_offers]).reshape(-1, n_t)
    e_cap = floor_units(offered[model.e_offer, model.e_t], KWH_SCALE)
    e = values[model.n_x + model.n_m : model.g0]
    milli = np.minimum(_rint(np.maximum(e, 0.0) * KWH_SCALE).astype(np.int64), e_cap)
    key = eo_area(snap, model.e_offer) * n_t + model.e_t
    load_kwh = np.zeros((n_a, n_t))
    np.add.at(load_kwh, idx.site_area, site_cu * idx.site_kwh_per_cu[:, None] / CU_SCALE)
    load_f = load_kwh.ravel() * KWH_SCALE
    published = np.rint(load_f).astype(np.int64)  # exact below, where awards come near
    minutes = exact(snap.interval_minutes)
    exact_rows: set[int] = set()

    def exact_load(row: int) -> int:  # micro-CU × kW/CU × minutes / 60,000 = milli-kWh
        if row not in exact_rows:
            a, t = divmod(row, n_t)
            total = Fraction(0)
            for s in np.nonzero((idx.site_area == a) & (site_cu[:, t] > 0))[0]:
                site = snap.sites[s]
                total += int(site_cu[s, t]) * exact(site.kw_per_cu) * exact(site.pue)
            published[row] = round(total * minutes / (60 * CU_SCALE // KWH_SCALE))
            exact_rows.add(row)
        return int(published[row])

    def over() -> dict[int, int]:
        awards = _sums(key, milli, n_a * n_t)
        # Below (1 − 1e-9) of the float load, awards are below the exact load (and so its
        # rounding): only the rows above are decided exactly.
        near = np.nonzero((awards > 0) & (awards > load_f * (1 - _NEAR)))[0]
        out = {}
        for row in near:
            limit = exact_load(int(row))
            if awards[row] > limit:
                out[int(row)] = int(awards[row] - limit)
        return out

    repaired = over()
    if repaired:
        _, cost = energy_unit_cost(snap)
        e_cost = cost[model.e_offer, model.e_t]
        for row, excess in sorted(repaired.items()):
            cand = np.nonzero((key == row) & (milli > 0))[0]
            cand = cand[np.lexsort((-model.e_offer[cand], -e_cost[cand]))]  # dearest first
            for k in cand:
                take = min(int(milli[k]), excess)
                milli[k] -= take
                excess -= take
    if (milli > e_cap).any() or (milli < 0).any() or over():
        raise PublishError("energy", "awards exceed an offer or the area's load after repair")
    grid = np.maximum(published - _sums(key, milli, n_a * n_t), 0) / KWH_SCALE
    return milli, grid.reshape(n_a, n_t), len(repaired)


def publish(
    snap: Snapshot, idx: Indexed, tri: Triples, model: Model, values: np.ndarray
) -> Published:
    """Round the solver's point to the published precision, repair, and prove it feasible."""
    started = time.perf_counter()
    r = _Rounding(snap, idx, tri, model.triple_cu(values, tri))
    repaired = {kind: r.repair_linear(kind) for kind in r.rows}
    repaired["area_cap"] = r.repair_area_caps()
    r.check()
    site_cu = r.site_sums()
    milli, grid, repaired["energy"] = _energy(snap, idx, model, values, site_cu)
    sold = fill(idx, site_cu, r.step_room)
    keep = r.micro > 0
    e_keep = milli > 0
    seconds = time.perf_counter() - started
    repaired = {kind: n for kind, n in repaired.items() if n}
    if repaired:
        logger.info("publish %s: repaired %s in %.3f s", snap.run_id, repaired, seconds)
    return Published(
        j=tri.j[keep],
        s=tri.s[keep],
        t=tri.t[keep],
        cu=r.micro[keep] / CU_SCALE,
        offer=model.e_offer[e_keep],
        offer_t=model.e_t[e_keep],
        offer_kwh=milli[e_keep] / KWH_SCALE,
        grid_kwh=grid,
        capacity_cu=sold / CU_SCALE,
        repaired=repaired,
        seconds=seconds,
    )
