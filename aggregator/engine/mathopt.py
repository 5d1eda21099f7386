"""A `Model` solved by OR-Tools through MathOpt (GLOP, or OR-Tools' bundled HiGHS).

The `ModelProto` is filled from the model's numpy arrays (each repeated field extended from
an array once; no Python call per variable or row) and solved by MathOpt's C++ solver
directly. Its duals follow HiGHS's sign convention for a minimisation (checked by the dual
bound: bench M certifies to 3e-12), and its basis is translated to HiGHS's codes so that
the price rule can read the face from it.
"""

from __future__ import annotations

import logging
import time

import numpy as np
from ortools.math_opt import (
    callback_pb2,
    model_parameters_pb2,
    model_pb2,
    parameters_pb2,
    result_pb2,
)
from ortools.math_opt.core.python import solver as core

from aggregator.engine.highs_solver import Solution
from aggregator.engine.model import Model

logger = logging.getLogger(__name__)

_SOLVER = {"glop": parameters_pb2.SOLVER_TYPE_GLOP, "highs": parameters_pb2.SOLVER_TYPE_HIGHS}
_TOLERANCE = 1e-9  # as the highspy backend's (highs_solver._BASE_OPTIONS)
# MathOpt BasisStatusProto (1 free, 2 at lower, 3 at upper, 4 fixed, 5 basic) → HiGHS codes
# (0 lower, 1 basic, 2 upper, 3 zero); a fixed variable sits at its (equal) lower bound.
_TO_HIGHS = np.array([0, 3, 0, 2, 0, 1], dtype=np.int8)


def _proto(model: Model) -> model_pb2.ModelProto:
    m = model_pb2.ModelProto()
    v = m.variables
    v.ids.extend(np.arange(model.n_col, dtype=np.int64))
    v.lower_bounds.extend(model.col_lo)
    v.upper_bounds.extend(model.col_hi)
    v.integers.extend(np.zeros(model.n_col, dtype=bool))
    nz = np.nonzero(model.cost)[0]
    m.objective.linear_coefficients.ids.extend(nz)
    m.objective.linear_coefficients.values.extend(model.cost[nz])
    c = m.linear_constraints
    c.ids.extend(np.arange(model.n_row, dtype=np.int64))
    c.lower_bounds.extend(model.row_lo)
    c.upper_bounds.extend(model.row_hi)
    csr = model.matrix.tocsr()
    csr.sort_indices()  # MathOpt wants the matrix in (row, column) order
    mat = m.linear_constraint_matrix
    mat.row_ids.extend(np.repeat(np.arange(model.n_row, dtype=np.int64), np.diff(csr.indptr)))
    mat.column_ids.extend(csr.indices.astype(np.int64))
    mat.coefficients.extend(csr.data)
    return m


def _dense(vector, n: int) -> np.ndarray:
    out = np.zeros(n)
    ids = np.asarray(vector.ids, dtype=np.int64)
    if len(ids):
        out[ids] = np.asarray(vector.values, dtype=np.float64)
    return out


def _statuses(sparse, n: int) -> np.ndarray:
    out = np.full(n, 1, dtype=np.int8)
    ids = np.asarray(sparse.ids, dtype=np.int64)
    if len(ids):
        out[ids] = _TO_HIGHS[np.asarray(sparse.values, dtype=np.int64)]
    return out


class MathOptLp:
    """One LP on MathOpt; `fix` + `solve` re-solve with columns fixed, warm-started from the
    previous optimal basis where the solver takes one."""

    def __init__(self, model: Model, solver: str, time_limit_s: float | None, version: str):
        self.model = model
        self.solver = solver
        self.version = version
        self.proto = _proto(model)
        self.lo, self.hi = model.col_lo.copy(), model.col_hi.copy()
        self.deadline = None if time_limit_s is None else time.perf_counter() + time_limit_s
        self.basis = None

    def fix(self, cols: np.ndarray, values: np.ndarray) -> None:
        self.lo[cols] = self.hi[cols] = values
        v = self.proto.variables
        del v.lower_bounds[:]
        del v.upper_bounds[:]
        v.lower_bounds.extend(self.lo)
        v.upper_bounds.extend(self.hi)

    def _parameters(self) -> parameters_pb2.SolveParametersProto:
        p = parameters_pb2.SolveParametersProto()
        p.lp_algorithm = parameters_pb2.LP_ALGORITHM_DUAL_SIMPLEX
        if self.solver == "glop":
            p.threads = 1
            p.glop.random_seed = 0
            p.glop.primal_feasibility_tolerance = _TOLERANCE
            p.glop.dual_feasibility_tolerance = _TOLERANCE
        else:  # MathOpt refuses the generic `threads` for HiGHS: pass HiGHS's own options
            p.highs.int_options["threads"] = 1
            p.highs.int_options["random_seed"] = 0
            p.highs.double_options["primal_feasibility_tolerance"] = _TOLERANCE
            p.highs.double_options["dual_feasibility_tolerance"] = _TOLERANCE
        if self.deadline is not None:
            p.time_limit.FromMilliseconds(
                max(10, int(1000 * (self.deadline - time.perf_counter())))
            )
        return p

    def solve(self) -> Solution:
        started = time.perf_counter()
        model_params = model_parameters_pb2.ModelSolveParametersProto()
        if self.basis is not None and self.solver == "glop":
            model_params.initial_basis.CopyFrom(self.basis)
        res = core.solve(
            self.proto,
            _SOLVER[self.solver],
            parameters_pb2.SolverInitializerProto(),
            self._parameters(),
            model_params,
            None,
            callback_pb2.CallbackRegistrationProto(),
            None,
            None,
        )
        elapsed = time.perf_counter() - started
        reason = res.termination.reason
        status = {
            result_pb2.TERMINATION_REASON_OPTIMAL: "optimal",
            result_pb2.TERMINATION_REASON_INFEASIBLE: "infeasible",
            result_pb2.TERMINATION_REASON_UNBOUNDED: "unbounded",
            result_pb2.TERMINATION_REASON_INFEASIBLE_OR_UNBOUNDED: "infeasible",
        }.get(reason, "")
        timed_out = res.termination.limit == result_pb2.LIMIT_TIME
        if not status and timed_out:
            status = "time_limit"
        if not status:
            status = (
                result_pb2.TerminationReasonProto.Name(reason)
                .removeprefix("TERMINATION_REASON_")
                .lower()
            )
        n, m = self.model.n_col, self.model.n_row
        values, duals = np.zeros(n), np.zeros(m)
        col_status = row_status = None
        if status == "optimal" and res.solutions:
            sol = res.solutions[0]
            values = _dense(sol.primal_solution.variable_values, n)
            duals = _dense(sol.dual_solution.dual_values, m)
            if sol.HasField("basis"):
                self.basis = sol.basis
                col_status = _statuses(sol.basis.variable_status, n)
                row_status = _statuses(sol.basis.constraint_status, m)
        logger.info("mathopt %s: %s in %.2f s", self.solver, status, elapsed)
        return Solution(
            status=status,
            values=values,
            row_dual=duals,
            objective=float(self.model.cost @ values),
            solve_s=elapsed,
            mip_gap=None,
            solver=f"ortools-{self.version} {self.solver} (dual simplex, 1 thread)",
            session=self,
            col_status=col_status,
            row_status=row_status,
        )
