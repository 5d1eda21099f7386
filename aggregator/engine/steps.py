"""Capacity offers as price steps of their site's supply: which step sells what.

A site may have several capacity offers (SCENARIO_FORMAT.md); each is one step, and the
cheapest steps are used first (equal prices: the lower offer id first). One rule serves
the published `capacity[]` (on integer micro-CU), the welfare of baselines and the greedy
baseline's choice (on floats), so they can never disagree about who sold.
"""

from __future__ import annotations

import numpy as np

from aggregator.engine.feasibility import Indexed


def fill_order(idx: Indexed) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(offer, interval, site) of every step with CU, grouped by site-interval and ordered
    cheapest first, ties by offer id (offers are indexed in id order)."""
    o, t = np.nonzero(idx.step_cu > 0)
    s = idx.step_site[o]
    order = np.lexsort((o, idx.step_price[o, t], t, s))
    return o[order], t[order], s[order]


def fill(idx: Indexed, sold: np.ndarray, room: np.ndarray) -> np.ndarray:
    """Split each site-interval's `sold` (S × T) over its steps' `room` (O × T), cheapest
    first. Works on integers exactly. What exceeds every step's room (only pinned load
    beyond the offers, model.build's pin rule) goes to the site's last step, so the steps
    always add up to what the site sold."""
    o, t, s = fill_order(idx)
    out = np.zeros(idx.step_cu.shape, dtype=np.result_type(sold, room))
    if not len(o):
        return out
    r = room[o, t]
    start = np.ones(len(o), dtype=bool)
    start[1:] = (s[1:] != s[:-1]) | (t[1:] != t[:-1])
    end = np.ones(len(o), dtype=bool)
    end[:-1] = start[1:]
    c = np.cumsum(r)
    before = c - r
    before = before - before[start][np.cumsum(start) - 1]  # room of cheaper steps, per group
    want = sold[s, t]
    take = np.clip(want - before, 0, r)
    take[end] = np.maximum(want[end] - before[end], take[end])
    out[o, t] = take
    return out


def step_cost_jpy(idx: Indexed, site_cu: np.ndarray, hours: float) -> float:
    """What the steps cost for CU sold per site-interval (S × T) where a site-interval has
    several steps; single-step site-intervals are priced on the allocation (x_price)."""
    sold = np.where(idx.multi, site_cu, 0.0)
    if not sold.any():
        return 0.0
    per_step = fill(idx, sold, idx.step_cu)
    return float(np.sum(per_step * idx.step_price) * hours)


def offers_by_site(idx: Indexed, n_sites: int) -> list[np.ndarray]:
    """Offer indexes of each site (for the baselines' per-site loops)."""
    return [np.nonzero(idx.step_site == site)[0] for site in range(n_sites)]


def cheapest_with_room(
    idx: Indexed, left: np.ndarray, offers: np.ndarray, t: int
) -> tuple[float, int]:
    """Price and offer of the cheapest of `offers` (one site's) with CU left at t; ties by
    offer id. (inf, -1) when none has room."""
    best = (np.inf, -1)
    for o in offers:
        if left[o, t] > 1e-9 and (idx.step_price[o, t], o) < best:
            best = (float(idx.step_price[o, t]), int(o))
    return best


def use_steps(idx: Indexed, left: np.ndarray, offers: np.ndarray, t: int, cu: float) -> None:
    """Take `cu` from one site's steps at t, cheapest first."""
    while cu > 1e-9:
        _, o = cheapest_with_room(idx, left, offers, t)
        if o < 0:
            return
        used = min(left[o, t], cu)
        left[o, t] -= used
        cu -= used
