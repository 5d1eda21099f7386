"""The generic baseline of the scale benchmark: one `scipy.optimize.linprog` (HiGHS) call over
the per-triple matrix of a snapshot, as a team would write it without the engine's
reformulations (inference and batch classes), solver strategy or price rule."""

from __future__ import annotations

import time

import numpy as np
from scipy.optimize import linprog

from aggregator.engine.feasibility import feasible_triples, index
from aggregator.engine.model import build


def linprog_per_triple(snap) -> dict:
    """Build the per-triple LP (one column per feasible workload × site × interval) and
    solve it with one linprog call; timings and the optimum's welfare."""
    started = time.perf_counter()
    idx = index(snap)
    model = build(snap, idx, feasible_triples(snap, idx), aggregate=False)
    a = model.matrix.tocsr()
    eq = model.row_lo == model.row_hi
    upper = ~eq & np.isfinite(model.row_hi)
    lower = ~eq & np.isfinite(model.row_lo)
    a_ub = a[np.nonzero(upper)[0]]
    b_ub = model.row_hi[upper]
    if lower.any():
        from scipy.sparse import vstack

        a_ub = vstack([a_ub, -a[np.nonzero(lower)[0]]]).tocsr()
        b_ub = np.concatenate([b_ub, -model.row_lo[lower]])
    bounds = np.column_stack([model.col_lo, model.col_hi])
    build_s = time.perf_counter() - started
    started = time.perf_counter()
    res = linprog(
        model.cost,
        A_ub=a_ub,
        b_ub=b_ub,
        A_eq=a[np.nonzero(eq)[0]],
        b_eq=model.row_lo[eq],
        bounds=bounds,
        method="highs",
    )
    solve_s = time.perf_counter() - started
    welfare = -float(model.welfare_cost @ res.x) if res.x is not None else float("nan")
    return {
        "generic_status": res.message,
        "generic_columns": model.n_col,
        "generic_rows": model.n_row,
        "generic_build_s": build_s,
        "generic_solve_s": solve_s,
        "generic_welfare_jpy": welfare,
    }
