"""The allocation rule: among the LP's optimal allocations, the least tie-break weight.

The clearing LP has many optimal allocations (exact ties between equal jobs or sites), and
which one a solver returns is its own business. The published one is selected over the LP's
optimal face:

    minimise Σ weight_j · v_j  (tiebreak.py: hashed per placement, by rank per offer/step)

the face being the LP with every nonbasic column of the solver's vertex whose reduced cost
is non-zero (above 1e-9 JPY per unit, the solvers' tolerance) held at its bound and every
row whose dual is non-zero held tight — complementary slackness with the vertex's own
optimal duals. HiGHS solves it (whatever backend found the vertex): presolve first removes
every held column (most of them), then the simplex; should presolve fail, the primal
simplex from the vertex's basis (primal feasible: it is the vertex). The result is an
optimal vertex of the clearing LP too. Weights of order 1 separate allocations 10³ times above the
tolerances, where a tie-break inside the LP's cost (engine v5: 10⁻⁶ JPY) did not (bench M:
12 of 95 k columns differed between HiGHS and GLOP, 2.3e-9 JPY apart) and slowed the
interior point's crossover (tiebreak.py).
"""

from __future__ import annotations

import logging
import time

import highspy
import numpy as np

from aggregator.engine import highs_solver
from aggregator.engine.face import BASIC
from aggregator.engine.highs_solver import Solution
from aggregator.engine.model import Model

logger = logging.getLogger(__name__)

# A reduced cost or dual (JPY per unit) counts as non-zero above this: the solvers' own
# tolerance. The near-ties below it are what the polish decides; everything it moves along
# costs less than this per unit, so the polished vertex is optimal to the same tolerance.
_NONZERO = 1e-9


def polish(model: Model, sol: Solution, *, time_limit_s: float | None = None) -> Solution:
    """The least-weight optimal vertex, as a Solution (duals: `sol`'s, still optimal). The
    price rule still reads the optimal face from `sol`'s vertex, which is optimal exactly
    (face.py); the polished allocation gives the quantities prices are weighed by."""
    if sol.col_status is None or sol.row_status is None:
        return sol
    started = time.perf_counter()
    y = sol.row_dual
    d = model.cost - model.matrix.T @ y
    tol = _NONZERO
    lo, hi = model.col_lo.copy(), model.col_hi.copy()
    hold = (sol.col_status != BASIC) & (np.abs(d) > tol)
    lo[hold] = hi[hold] = sol.values[hold]
    r_lo, r_hi = model.row_lo.copy(), model.row_hi.copy()
    act = model.matrix @ sol.values
    tight = (sol.row_status != BASIC) & (np.abs(y) > tol)
    r_lo[tight] = r_hi[tight] = act[tight]
    weight = model.tie_weight
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = model.n_col, model.n_row
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = weight, lo, hi
    lp.row_lower_, lp.row_upper_ = r_lo, r_hi
    a = model.matrix
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data.astype(np.float64)
    # Cold with presolve first: holding every column with a reduced cost leaves a small LP
    # once presolve removes them (bench L: 5 s, where the simplex hot-started on the whole
    # face took 278 s of degenerate pivots). From the vertex's basis where presolve fails.
    h = None
    for presolve in ("on", "off"):
        options = {"solver": "simplex", "presolve": presolve}
        if presolve == "off":
            options["simplex_strategy"] = 4
        if time_limit_s is not None:
            options["time_limit"] = max(time_limit_s - (time.perf_counter() - started), 0.01)
        h = highs_solver.new_highs(options)
        h.passModel(lp)
        if presolve == "off":
            h.setBasis(highs_solver.basis_of(sol.col_status, sol.row_status))
        h.run()
        if h.getModelStatus() == highspy.HighsModelStatus.kOptimal:
            break
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        logger.warning("allocation polish: %s; keeping the solver's vertex", h.getModelStatus())
        return sol
    out = highs_solver.collect(h, model, integer=False, solve_s=sol.solve_s)
    moved = int(np.sum(np.abs(out.values - sol.values) > 1e-9))
    logger.info(
        "allocation polish: %d iterations, %d columns moved, %.2f s",
        h.getInfo().simplex_iteration_count,
        moved,
        time.perf_counter() - started,
    )
    return Solution(
        status=sol.status,
        values=out.values,
        row_dual=sol.row_dual,
        objective=float(model.cost @ out.values),
        solve_s=sol.solve_s,
        mip_gap=sol.mip_gap,
        solver=sol.solver,
        session=sol.session,
        col_status=out.col_status,
        row_status=out.row_status,
    )
