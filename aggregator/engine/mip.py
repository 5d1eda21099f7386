"""Gang (integer) clearing: LP bound, round-down-and-repair heuristic, then HiGHS MIP if needed."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from aggregator.engine import highs_solver
from aggregator.engine.model import Model


@dataclass
class MipOutcome:
    values: np.ndarray
    status: str
    lp_bound: float  # min-form objective of the LP relaxation (a bound on the MIP)
    objective: float
    gap: float  # relative gap of `objective` against the LP bound (or HiGHS' own bound)
    method: str
    solve_s: float


def _objective(model: Model, values: np.ndarray) -> float:
    return float(model.cost @ values)


def _relative_gap(objective: float, bound: float) -> float:
    return max(0.0, objective - bound) / max(1.0, abs(bound))


def round_and_repair(model: Model, relaxed: np.ndarray, options: dict) -> np.ndarray | None:
    """Round every gang column down (always feasible: rows are ≤ with non-negative
    coefficients on x, and grid energy absorbs the balance), then re-solve the continuous
    rest. Then try rounding up, in order of fractional part, where the rows still allow it.
    """
    integer = model.integer
    floor = np.floor(relaxed[integer] + 1e-7)
    frac = relaxed[integer] - floor
    values = _fixed_resolve(model, floor, options)
    if values is None:
        return None
    # Repair: bump the most fractional columns up by one unit while the limit rows (capacity,
    # rate, remaining work, area caps) hold for the fixed columns alone; the continuous rest
    # is re-solved around them, and the bump is kept only if welfare improves.
    cols = np.nonzero(integer)[0]
    order = np.argsort(-frac, kind="stable")
    candidates = order[frac[order] > 0.3]
    if len(candidates):
        trial = floor.copy()
        fixed_cols = integer | (model.col_lo == model.col_hi)
        activity = model.matrix @ np.where(fixed_cols, values, 0.0)
        hard = np.zeros(model.n_row, dtype=bool)
        hard[: model.balance_row0] = True
        hard[model.area_cap_row0 : model.area_cap_row0 + len(model.area_cap_rows)] = True
        a = model.matrix
        for k in candidates:
            col = cols[k]
            if trial[k] + 1 > model.col_hi[col] + 1e-9:
                continue
            rows = a.indices[a.indptr[col] : a.indptr[col + 1]]
            coef = a.data[a.indptr[col] : a.indptr[col + 1]]
            new = activity[rows] + coef
            if np.all(~hard[rows] | (new <= model.row_hi[rows] + 1e-7)):
                activity[rows] = new
                trial[k] += 1
        if np.any(trial != floor):
            bumped = _fixed_resolve(model, trial, options)
            if bumped is not None and _objective(model, bumped) < _objective(model, values):
                values = bumped
    return values


def _fixed_resolve(model: Model, fixed: np.ndarray, options: dict) -> np.ndarray | None:
    lo, hi = model.col_lo.copy(), model.col_hi.copy()
    lo[model.integer] = hi[model.integer] = fixed
    restricted = Model(**{**model.__dict__, "col_lo": lo, "col_hi": hi})
    sol = highs_solver.solve(restricted, options=options)
    return sol.values if sol.status == "optimal" else None


def solve_mip(
    model: Model, *, lp_options: dict, time_limit_s: float, rel_gap: float, exact_limit: int
) -> MipOutcome:
    started = time.perf_counter()
    relaxation = highs_solver.solve(model, options=lp_options)
    if relaxation.status != "optimal":
        return MipOutcome(
            relaxation.values,
            relaxation.status,
            np.nan,
            np.nan,
            np.nan,
            "lp-relaxation",
            time.perf_counter() - started,
        )
    bound = relaxation.objective
    values = round_and_repair(model, relaxation.values, lp_options)
    method = "lp-round-repair"
    if values is None:
        values = relaxation.values
        objective, gap, status = np.nan, np.nan, "infeasible"
    else:
        objective = _objective(model, values)
        gap = _relative_gap(objective, bound)
        status = "optimal" if gap <= rel_gap else "feasible"
    spent = time.perf_counter() - started
    n_int = int(model.integer.sum())
    if gap > rel_gap and n_int <= exact_limit and time_limit_s - spent > 0.5:
        exact = highs_solver.solve(
            model,
            integer=True,
            start=values,
            options={**lp_options, "time_limit": time_limit_s - spent, "mip_rel_gap": rel_gap},
        )
        if exact.status in ("optimal", "feasible") and exact.objective <= objective + 1e-9:
            values, objective, method = exact.values, exact.objective, "highs-mip"
            gap = _relative_gap(objective, bound)
            status = "optimal" if exact.status == "optimal" else "feasible"
            if exact.mip_gap is not None and exact.status == "optimal":
                gap = min(gap, exact.mip_gap)
    return MipOutcome(
        values, status, bound, objective, float(gap), method, time.perf_counter() - started
    )
