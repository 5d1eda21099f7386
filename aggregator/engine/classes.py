"""Exact aggregation of interchangeable inference workloads into classes.

Inference workloads that may run at exactly the same sites (same accelerator, residency,
latency reach) differ only in their value, and a placement's value is separable:
(limit price of the workload) − (cost of the site). So instead of one column per
(workload, site, interval) the model takes, per class and interval, one *serve* column
per workload (its value, bounded by its demand) and one *placement* column per site (its
cost, in the site's capacity, energy and cap rows), tied by a class balance row
Σ placements = Σ served. Any flow between the two sides of a class is feasible, so this
is the same LP — the optimum, welfare and prices are unchanged — with far fewer columns
(national L: 709 k inference triples → ~150 k columns).

The per-workload allocation is recovered deterministically by `disaggregate`: within a
class-interval, workloads in id order fill sites in id order (north-west corner).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aggregator.engine.feasibility import Indexed, Triples


@dataclass(frozen=True)
class Classes:
    """Aggregated workloads, their serve columns (y) and placement columns (z)."""

    of_workload: np.ndarray  # W, class id or -1 (modelled per triple)
    z_c: np.ndarray  # placement columns, sorted by (class, interval, site)
    z_s: np.ndarray
    z_t: np.ndarray
    y_j: np.ndarray  # serve columns, sorted by (class, interval, workload)
    y_t: np.ndarray
    y_hi: np.ndarray  # CU: the workload's demand in the interval
    row_key: np.ndarray  # class balance rows: class * T + interval, sorted
    n_t: int

    @property
    def n_classes(self) -> int:
        return int(self.of_workload.max(initial=-1)) + 1

    @property
    def n_z(self) -> int:
        return len(self.z_c)

    @property
    def n_y(self) -> int:
        return len(self.y_j)

    def z_row(self) -> np.ndarray:
        return np.searchsorted(self.row_key, self.z_c * self.n_t + self.z_t)

    def y_row(self) -> np.ndarray:
        return np.searchsorted(self.row_key, self.of_workload[self.y_j] * self.n_t + self.y_t)


def inference_classes(idx: Indexed, pairs: np.ndarray, eligible: np.ndarray, n_t: int) -> Classes:
    """`pairs`: workload × site feasibility (all filters but time); `eligible`: workloads
    that may be aggregated (continuous, unpinned, no migration cost). Classes of one
    workload are left per triple (aggregating them would only add a row)."""
    n_w = len(eligible)
    of_workload = np.full(n_w, -1, dtype=np.int64)
    members = np.nonzero(eligible & pairs.any(axis=1))[0]
    empty = np.zeros(0, dtype=np.int64)
    if len(members) < 2:
        return Classes(of_workload, empty, empty, empty, empty, empty, np.zeros(0), empty, n_t)
    sets, inverse, counts = np.unique(
        pairs[members], axis=0, return_inverse=True, return_counts=True
    )
    inverse = inverse.ravel()
    shared = counts >= 2
    renumber = np.cumsum(shared) - 1
    kept = shared[inverse]
    of_workload[members[kept]] = renumber[inverse[kept]]
    sets = sets[shared]

    # Serve columns: every member with demand in an interval.
    in_class = of_workload >= 0
    yj, yt = np.nonzero((idx.rate_cap > 0) & in_class[:, None])
    yc = of_workload[yj]
    order = np.lexsort((yj, yt, yc))
    yj, yt, yc = yj[order], yt[order], yc[order]
    active = np.zeros((len(sets), n_t), dtype=bool)
    active[yc, yt] = True
    # Placement columns: each class site with an offer, in intervals where a member runs.
    zc, zs = np.nonzero(sets)
    both = active[zc] & (idx.offer_cu[zs] > 0)  # class-site pairs × T
    pair, zt = np.nonzero(both)
    zc, zs = zc[pair], zs[pair]
    order = np.lexsort((zs, zt, zc))
    zc, zs, zt = zc[order], zs[order], zt[order]
    row_key = np.unique(yc * n_t + yt)
    return Classes(
        of_workload=of_workload,
        z_c=zc,
        z_s=zs,
        z_t=zt,
        y_j=yj,
        y_t=yt,
        y_hi=idx.rate_cap[yj, yt].astype(np.float64),
        row_key=row_key,
        n_t=n_t,
    )


def disaggregate(
    classes: Classes, z: np.ndarray, y: np.ndarray, tri: Triples, n_s: int
) -> np.ndarray:
    """CU per triple for the aggregated workloads (0 elsewhere), north-west corner per
    class-interval: the k-th CU served goes to the site holding the k-th CU placed."""
    out = np.zeros(len(tri))
    if classes.n_y == 0:
        return out
    z = np.maximum(z, 0.0)
    y = np.maximum(y, 0.0)
    z_group = classes.z_row()
    y_group = classes.y_row()
    n_rows = len(classes.row_key)
    # Cumulative positions within each group, as one global line: group g spans
    # [offset[g], offset[g] + total[g]) on both sides (totals agree up to solver tolerance).
    total = np.maximum(
        np.bincount(z_group, weights=z, minlength=n_rows),
        np.bincount(y_group, weights=y, minlength=n_rows),
    )
    offset = np.concatenate([[0.0], np.cumsum(total)[:-1]])
    z_end = offset[z_group] + _cumsum_in_groups(z, z_group)
    y_end = offset[y_group] + _cumsum_in_groups(y, y_group)
    cuts = np.unique(np.concatenate([z_end, y_end, offset, offset + total]))
    lo, hi = cuts[:-1], cuts[1:]
    length = hi - lo
    mid = (lo + hi) / 2
    zi = np.searchsorted(z_end, mid, side="right")
    yi = np.searchsorted(y_end, mid, side="right")
    ok = (length > 1e-12) & (zi < len(z_end)) & (yi < len(y_end))
    zi, yi, length = zi[ok], yi[ok], length[ok]
    same = z_group[zi] == y_group[yi]  # a segment past one side's total carries nothing
    zi, yi, length = zi[same], yi[same], length[same]
    keys = (tri.j * n_s + tri.s) * classes.n_t + tri.t
    want = (classes.y_j[yi] * n_s + classes.z_s[zi]) * classes.n_t + classes.z_t[zi]
    pos = np.searchsorted(keys, want)
    np.add.at(out, pos, length)
    return out


def _cumsum_in_groups(v: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Running sum of v restarting at each group (v is sorted by group)."""
    c = np.cumsum(v)
    starts = np.concatenate([[True], group[1:] != group[:-1]])
    base = np.where(starts, c - v, 0.0)
    return c - np.maximum.accumulate(np.where(starts, base, -np.inf))
