"""`no_migration`: a workload that may run at one site only within the horizon.

Where a pin says where it runs, `feasibility` already drops its other sites. Otherwise, if it
can run at two or more sites, the model takes one binary b(w,s) per candidate site:

    Σ_t unit·x(w,s,t) − M(w,s)·b(w,s) ≤ 0     (it runs at s only if s is chosen)
    Σ_s b(w,s) ≤ 1                            (one site at most)

with M(w,s) the most CU-intervals it could run at s (its columns' bounds, and its remaining
work). That makes the clearing a MIP: the round-and-repair heuristic (mip.py) chooses, per
workload, the site where the LP relaxation ran most of it; HiGHS's branch and cut closes the
gap where that is not good enough; prices are the fix-and-price LP's, with the choice fixed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aggregator.engine.snapshot import Snapshot


@dataclass(frozen=True)
class SiteChoice:
    w: np.ndarray  # per binary: workload index
    s: np.ndarray  # per binary: site index
    big_m: np.ndarray  # per binary: CU-intervals it could run there
    link_x: np.ndarray  # per linking entry: x column
    link_b: np.ndarray  # per linking entry: its binary (0..n-1)
    choice: np.ndarray  # per binary: its workload's choice row (0..)

    @property
    def n(self) -> int:
        return len(self.w)

    @property
    def n_rows(self) -> int:
        return int(self.choice.max(initial=-1)) + 1


def site_choices(
    snap: Snapshot,
    remaining: np.ndarray,
    j: np.ndarray,
    s: np.ndarray,
    x_hi: np.ndarray,
    unit: np.ndarray,
    pinned: np.ndarray,
) -> SiteChoice:
    """The binaries of the no_migration workloads that still have a choice of sites
    (x columns given by their workload j, site s, bound x_hi in units, pin or NaN)."""
    flag = np.array([w.no_migration for w in snap.workloads], dtype=bool)
    free = flag[j] & np.isnan(pinned) & (x_hi > 0)
    n_s = len(snap.sites)
    keys, inverse = np.unique(j[free] * n_s + s[free], return_inverse=True)
    bw, bs = keys // n_s, keys % n_s
    choosing = np.unique(bw, return_counts=True)
    several = choosing[0][choosing[1] >= 2]
    keep = np.isin(bw, several)
    renumber = np.cumsum(keep) - 1
    cols = np.nonzero(free)[0]
    entry = keep[inverse]
    link_x, link_b = cols[entry], renumber[inverse[entry]]
    bw, bs = bw[keep], bs[keep]
    room = np.bincount(link_b, weights=(x_hi * unit)[link_x], minlength=len(bw))
    big_m = np.minimum(room, remaining[bw])
    choice = np.searchsorted(several, bw)
    return SiteChoice(bw, bs, big_m, link_x, link_b, choice)
