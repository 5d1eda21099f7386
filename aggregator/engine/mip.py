"""Gang (integer) clearing: LP bound, round-down-and-repair heuristic, then HiGHS MIP if needed."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from aggregator.engine import backends, highs_solver
from aggregator.engine.backends import Backend
from aggregator.engine.model import Model
from aggregator.engine.polish import polish

logger = logging.getLogger(__name__)


@dataclass
class MipOutcome:
    status: str
    lp_bound: float  # min-form objective of the LP relaxation (a bound on the MIP)
    lp_welfare: float  # the relaxation's welfare (what is reported as the bound)
    objective: float
    gap: float  # relative gap of `objective` against the LP bound (or HiGHS' own bound)
    method: str
    solve_s: float
    priced: highs_solver.Solution | None  # the LP with the integers fixed: values and duals
    priced_model: Model | None


def _relative_gap(objective: float, bound: float) -> float:
    return max(0.0, objective - bound) / max(1.0, abs(bound))


class _FixedLp:
    """The relaxation's own HiGHS instance, re-solved with the integer columns fixed: a
    bound change keeps its basis dual feasible, so the dual simplex hot-starts
    (fix-and-price)."""

    def __init__(self, model: Model, relaxation: highs_solver.Solution) -> None:
        self.model = model
        self.session = relaxation.session
        self.cols = np.nonzero(model.integer)[0]

    def solve(self, fixed: np.ndarray) -> tuple[highs_solver.Solution, Model]:
        self.session.fix(self.cols, fixed)
        sol = self.session.solve()
        logger.info("fixed re-solve: %s in %.2f s", sol.status, sol.solve_s)
        lo, hi = self.model.col_lo.copy(), self.model.col_hi.copy()
        lo[self.cols] = hi[self.cols] = fixed
        return sol, Model(**{**self.model.__dict__, "col_lo": lo, "col_hi": hi})


def round_and_repair(
    model: Model, relaxed: np.ndarray, fixed_lp: _FixedLp
) -> tuple[highs_solver.Solution, Model] | None:
    """Round every gang column down (always feasible: the limit rows are ≤ with non-negative
    coefficients on x, and grid energy absorbs the balance), re-solve the continuous rest.
    Then bump the most fractional columns up by one gang while the limit rows (capacity,
    rate, remaining work, area caps) hold for the fixed columns alone; the continuous rest is
    re-solved around them, and the bump is kept only if welfare improves. A no_migration
    workload's site is chosen first (`choose_sites`); its gangs elsewhere round to 0."""
    integer = model.integer
    floor = np.floor(relaxed[integer] + 1e-7)
    cols = np.nonzero(integer)[0]
    is_choice = (cols >= model.b0) & (cols < model.b0 + model.choice.n)
    chosen = choose_sites(model, relaxed)
    floor[is_choice] = chosen
    c = model.choice
    away = c.link_x[(chosen[c.link_b] == 0) & integer[c.link_x]]
    floor[np.searchsorted(cols, away)] = 0.0
    frac = np.where(is_choice, 0.0, np.maximum(relaxed[integer] - floor, 0.0))
    frac[np.searchsorted(cols, away)] = 0.0
    best = fixed_lp.solve(floor)
    if best[0].status != "optimal":
        return None
    # Equal fractions go by column: solvers agree on a vertex only to ~1e-12, and a tie
    # ordered by that noise would bump different gangs on different backends.
    order = np.lexsort((np.arange(len(frac)), -np.round(frac, 9)))
    candidates = order[np.round(frac[order], 9) > 0.3]
    if len(candidates):
        trial = floor.copy()
        fixed_cols = integer | (model.col_lo == model.col_hi)
        activity = model.matrix @ np.where(fixed_cols, best[0].values, 0.0)
        hard = np.zeros(model.n_row, dtype=bool)
        hard[: model.balance_row0] = True
        hard[model.area_cap_row0 : model.area_cap_row0 + len(model.area_cap_rows)] = True
        hard[model.site_row0 :] = True  # no_migration: a gang only at its chosen site
        a = model.matrix
        for k in candidates:
            col = cols[k]
            if trial[k] + 1 > model.col_hi[col] + 1e-9:
                continue
            rows = a.indices[a.indptr[col] : a.indptr[col + 1]]
            coef = a.data[a.indptr[col] : a.indptr[col + 1]]
            new = activity[rows] + coef
            # x_room, not row_hi: a step row's room is its steps' CU (row_hi is 0 there).
            if np.all(~hard[rows] | (new <= model.x_room[rows] + 1e-7)):
                activity[rows] = new
                trial[k] += 1
        if np.any(trial != floor):
            bumped = fixed_lp.solve(trial)
            if bumped[0].status == "optimal" and bumped[0].objective < best[0].objective:
                best = bumped
            else:  # leave the instance at the floor solution (its duals are `best`'s)
                best = fixed_lp.solve(floor)
    return best


def choose_sites(model: Model, relaxed: np.ndarray) -> np.ndarray:
    """Per no_migration workload, its site: where the relaxation ran most of it (ties: the
    lower site id); where it ran nowhere, where its site variable is largest, if above 0.
    Rounded before comparing, so that 1e-12 of solver noise cannot pick another site."""
    c = model.choice
    out = np.zeros(c.n)
    ran = np.bincount(c.link_b, weights=(relaxed[c.link_x] * model.unit[c.link_x]), minlength=c.n)
    b = relaxed[model.b0 : model.b0 + c.n]
    for row in range(c.n_rows):
        mine = np.nonzero(c.choice == row)[0]
        key = np.round(ran[mine], 6)
        if key.max() <= 0:
            key = np.round(b[mine], 9)
        if key.max() <= 0:
            continue
        out[mine[np.lexsort((c.s[mine], -key))[0]]] = 1.0
    return out


def solve_mip(
    model: Model,
    *,
    backend: Backend | None = None,
    lp_options: dict,
    time_limit_s: float,
    rel_gap: float,
    exact_limit: int,
    deadline_s: float | None = None,
) -> MipOutcome:
    """`deadline_s`: seconds every step must finish in (the time budget's exact share); a
    step stopped by it ends the outcome with status "time_limit"."""
    started = time.perf_counter()
    deadline = None if deadline_s is None else started + deadline_s
    # The LP solves (relaxation, fix-and-price re-solves) are the backend's; branch and cut,
    # where the heuristic's gap is too wide, is HiGHS's for every backend.
    backend = backend or backends.get(backends.DEFAULT)
    relaxation = backend.session(model, lp_options, deadline_s).solve()
    logger.info("relaxation: %s in %.2f s", relaxation.status, relaxation.solve_s)
    if relaxation.status != "optimal":
        return MipOutcome(
            relaxation.status,
            np.nan,
            np.nan,
            np.nan,
            np.nan,
            "lp-relaxation",
            time.perf_counter() - started,
            None,
            None,
        )
    bound = relaxation.objective
    lp_welfare = -float(model.welfare_cost @ relaxation.values)
    fixed_lp = _FixedLp(model, relaxation)
    # Rounded from the allocation rule's vertex (polish.py), not the solver's: so that every
    # backend rounds the same relaxation and makes the same integer decisions.
    heuristic = round_and_repair(model, polish(model, relaxation).values, fixed_lp)
    if heuristic is None:
        late = deadline is not None and time.perf_counter() >= deadline
        return MipOutcome(
            "time_limit" if late else "infeasible",
            bound,
            lp_welfare,
            np.nan,
            np.nan,
            "lp-round-repair",
            time.perf_counter() - started,
            None,
            None,
        )
    priced, priced_model = heuristic
    objective, method = priced.objective, "lp-round-repair"
    gap = _relative_gap(objective, bound)
    status = "optimal" if gap <= rel_gap else "feasible"
    spent = time.perf_counter() - started
    n_int = int(model.integer.sum())
    budget = time_limit_s - spent
    if deadline is not None:
        budget = min(budget, deadline - time.perf_counter())
    if gap > rel_gap and n_int <= exact_limit and budget > 0.5:
        exact = highs_solver.solve(
            model,
            integer=True,
            start=priced.values,
            options={**lp_options, "time_limit": budget, "mip_rel_gap": rel_gap},
        )
        if exact.status in ("optimal", "feasible") and exact.objective < objective - 1e-9:
            priced, priced_model = fixed_lp.solve(np.round(exact.values[model.integer]))
            objective, method = exact.objective, "highs-mip"
            gap = _relative_gap(objective, bound)
            status = "optimal" if exact.status == "optimal" else "feasible"
            if exact.mip_gap is not None and exact.status == "optimal":
                gap = min(gap, exact.mip_gap)
        elif exact.status == "optimal":
            status = "optimal"  # HiGHS proved the heuristic within the gap of its own bound
            if exact.mip_gap is not None:
                gap = min(gap, max(exact.mip_gap, 0.0))
    return MipOutcome(
        status,
        bound,
        lp_welfare,
        objective,
        float(gap),
        method,
        time.perf_counter() - started,
        priced,
        priced_model,
    )
