"""What a clearing publishes when the exact solve cannot finish inside its time budget.

A clearing must be published before its interval starts, whatever the market's size or
the machine's load. With `SolveOptions(time_budget_s=…)` the exact solve gets the budget
less a reserve; if it stops on that limit, the engine publishes instead:

- the allocation: the *greedy* baseline's (SCENARIO_FORMAT.md; seconds at bench L), built
  around the snapshot's pins (they are dispatched facts) and keeping no_migration workloads
  at one site — always feasible by construction, and re-checked by publishing it exactly
  feasible like any other (publish.py);
- its prices: the price rule over the optimal dual face of the LP with that allocation
  fixed (the same rule as fix-and-price: least uplift first, so a participant the greedy
  allocation leaves short is made whole, then least paid by buyers, …);
- a `fallback` entry in the result saying why and what was published.

If the exact solve finished but the price rule did not, the optimal allocation is published
with the solver's own certified duals (idle rows at their first unit's cost), flagged the
same way.
"""

from __future__ import annotations

import numpy as np

from aggregator.engine.baselines import greedy
from aggregator.engine.feasibility import Indexed, Triples
from aggregator.engine.model import Model
from aggregator.engine.snapshot import Snapshot

# Share of the budget kept back for the fallback when the caller does not say.
DEFAULT_RESERVE = 0.25


def greedy_fixed_model(snap: Snapshot, idx: Indexed, tri: Triples, model: Model) -> Model:
    """`model` with every placement fixed at the greedy allocation (around the pins)."""
    alloc = greedy(snap, idx, pins=True)
    n_s, n_t = len(snap.sites), snap.n_intervals
    cu = np.zeros(len(tri))
    if len(alloc.j):
        keys = (tri.j * n_s + tri.s) * n_t + tri.t  # sorted: triples are in (j, s, t) order
        want = (alloc.j * n_s + alloc.s) * n_t + alloc.t
        pos = np.searchsorted(keys, want)
        ok = (pos < len(keys)) & (keys[np.minimum(pos, len(keys) - 1)] == want)
        np.add.at(cu, pos[ok], alloc.cu[ok])
    lo, hi = model.col_lo.copy(), model.col_hi.copy()
    modelled = model.tri_col >= 0
    x = np.zeros(model.n_x)
    x[model.tri_col[modelled]] = cu[modelled] / model.unit[model.tri_col[modelled]]
    lo[: model.n_x] = hi[: model.n_x] = x
    c = model.classes
    if c.n_y:
        # Aggregated workloads: their placements (z) and service (y) at the greedy totals.
        aggregated = ~modelled
        ja, sa, ta, cua = tri.j[aggregated], tri.s[aggregated], tri.t[aggregated], cu[aggregated]
        z = np.zeros(c.n_z)
        z_key = (c.z_c * n_s + c.z_s) * n_t + c.z_t
        order = np.argsort(z_key)
        want = (c.of_workload[ja] * n_s + sa) * n_t + ta
        np.add.at(z, order[np.searchsorted(z_key[order], want)], cua)
        y = np.zeros(c.n_y)
        y_key = c.y_j * n_t + c.y_t
        order = np.argsort(y_key)
        np.add.at(y, order[np.searchsorted(y_key[order], ja * n_t + ta)], cua)
        zs = slice(model.z0, model.z0 + c.n_z)
        ys = slice(model.z0 + c.n_z, model.z0 + c.n_z + c.n_y)
        lo[zs] = hi[zs] = z
        lo[ys] = hi[ys] = y
    # Site choices follow the allocation: chosen where it runs.
    ch = model.choice
    if ch.n:
        ran = np.bincount(ch.link_b, weights=x[ch.link_x] * model.unit[ch.link_x], minlength=ch.n)
        b = (ran > 0).astype(float)
        bs = slice(model.b0, model.b0 + ch.n)
        lo[bs] = hi[bs] = b
    integer = np.zeros(model.n_col, dtype=bool)
    return Model(**{**model.__dict__, "col_lo": lo, "col_hi": hi, "integer": integer})


def describe(allocation: str, prices: str, budget_s: float | None, elapsed_s: float) -> dict:
    """The result's `fallback` entry: `allocation` "greedy" (the exact solve did not finish)
    or "optimal" (it did, the price rule did not); `prices` "price_rule" or "solver_duals"."""
    parts = []
    if allocation == "greedy":
        parts.append(
            "the exact solve did not finish in the time budget: published the greedy "
            "allocation (pins kept)"
        )
    if prices == "price_rule":
        parts.append("priced by the price rule with that allocation fixed")
    else:
        parts.append(
            "the price rule did not finish in the time budget: prices are the solver's own "
            "optimal duals (idle rows at their first unit's cost)"
        )
    return {
        "reason": "time_budget",
        "allocation": allocation,
        "prices": prices,
        "detail": "; ".join(parts),
        "time_budget_s": None if budget_s is None else round(budget_s, 3),
        "elapsed_s": round(elapsed_s, 3),
    }
