"""Solve a `Model` with HiGHS through highspy (correct duals), single-threaded and pinned."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import sys
import time
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np

from aggregator.engine.model import Model

# Fixed options: one thread, fixed seed, so a snapshot always gives the same vertex and duals.
_BASE_OPTIONS = {
    "output_flag": False,
    "threads": 1,
    "random_seed": 0,
    "mip_rel_gap": 1e-5,
    "primal_feasibility_tolerance": 1e-9,
    "dual_feasibility_tolerance": 1e-9,
}


def _quiet_first_instance() -> None:
    """HiGHS prints a licence banner to fd 1 when the first instance is created; that would
    corrupt `solve` output on stdout, so create that first instance with fd 1 muted."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 1)
            highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


_quiet_first_instance()

logger = logging.getLogger(__name__)


def _malloc_trim():
    """glibc's malloc_trim, or None (another C library)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):
        return None


_MALLOC_TRIM = _malloc_trim()


def release_freed_memory() -> None:
    """Give the heap that a freed HiGHS instance leaves behind back to the system. glibc
    keeps freed blocks for reuse (its mmap threshold grows with every large block freed,
    so later vectors come from the heap and stay there): at bench L the interior point
    left ~550 MiB resident after its instance was gone, under the face LP's own peak."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


@dataclass
class Solution:
    status: str  # "optimal" | "feasible" | "infeasible" | "time_limit" | …
    values: np.ndarray
    row_dual: np.ndarray  # HiGHS convention for min: d(objective)/d(row bound)
    objective: float
    solve_s: float
    mip_gap: float | None
    solver: str
    session: Any = None  # the DirectLp that produced it (fix-and-price re-solves on it)
    # The vertex's basis in HiGHS codes (0 lower, 1 basic, 2 upper, 3 zero), None without
    # one (an interior point): the price rule reads tightness from it (face.py).
    col_status: np.ndarray | None = None
    row_status: np.ndarray | None = None


def new_highs(options: dict) -> highspy.Highs:
    h = highspy.Highs()
    for key, value in {**_BASE_OPTIONS, **options}.items():
        h.setOptionValue(key, value)
    return h


def pass_model(h: highspy.Highs, model: Model, integer: bool) -> None:
    a = model.matrix
    lp = highspy.HighsLp()
    lp.num_col_ = model.n_col
    lp.num_row_ = model.n_row
    lp.col_cost_ = model.cost
    lp.col_lower_ = model.col_lo
    lp.col_upper_ = model.col_hi
    lp.row_lower_ = model.row_lo
    lp.row_upper_ = model.row_hi
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data.astype(np.float64)
    if integer and model.integer.any():
        kinds = np.where(
            model.integer, highspy.HighsVarType.kInteger, highspy.HighsVarType.kContinuous
        )
        lp.integrality_ = list(kinds)
    h.passModel(lp)


_STATUS = {
    highspy.HighsModelStatus.kOptimal: "optimal",
    highspy.HighsModelStatus.kInfeasible: "infeasible",
    highspy.HighsModelStatus.kUnbounded: "unbounded",
    highspy.HighsModelStatus.kUnboundedOrInfeasible: "infeasible",
    highspy.HighsModelStatus.kTimeLimit: "time_limit",
    highspy.HighsModelStatus.kModelEmpty: "optimal",
}


def solve(
    model: Model,
    *,
    integer: bool = False,
    options: dict | None = None,
    start: np.ndarray | None = None,
) -> Solution:
    """Solve once. LP: dual simplex by default (certified duals). MIP: branch and cut."""
    h = new_highs(options or {})
    pass_model(h, model, integer)
    if start is not None:
        h.setSolution(model.n_col, np.arange(model.n_col, dtype=np.int32), start)
    started = time.perf_counter()
    h.run()
    return collect(h, model, integer=integer, solve_s=time.perf_counter() - started)


def collect(h: highspy.Highs, model: Model, *, integer: bool, solve_s: float) -> Solution:
    status = _STATUS.get(h.getModelStatus(), str(h.getModelStatus()))
    sol = h.getSolution()
    info = h.getInfo()
    gap = None
    mip = bool(integer and model.integer.any())
    if mip:
        gap = float(info.mip_gap) if np.isfinite(info.mip_gap) else None
        if status != "optimal" and info.primal_solution_status == 2:
            status = "feasible"
    col_status = row_status = None
    if not mip and info.basis_validity == 1:
        basis = h.getBasis()
        col_status = codes(basis.col_status)
        row_status = codes(basis.row_status)
    return Solution(
        status=status,
        values=np.asarray(sol.col_value, dtype=np.float64),
        row_dual=np.asarray(sol.row_dual, dtype=np.float64),
        objective=float(info.objective_function_value),
        solve_s=solve_s,
        mip_gap=gap,
        solver=_describe(h, mip),
        col_status=col_status,
        row_status=row_status,
    )


def codes(statuses) -> np.ndarray:
    """HiGHS basis statuses (a list of enums) as int8 codes."""
    return np.fromiter(
        map(highspy.HighsBasisStatus.__index__, statuses), dtype=np.int8, count=len(statuses)
    )


_STATUS_OF_CODE = [highspy.HighsBasisStatus(code) for code in range(5)]


def basis_of(col_status: np.ndarray, row_status: np.ndarray) -> highspy.HighsBasis:
    """A valid HiGHS basis from int8 codes (one enum per entry, by table: at bench L a
    constructor call per entry took ~0.5 s)."""
    basis = highspy.HighsBasis()
    basis.col_status = list(map(_STATUS_OF_CODE.__getitem__, col_status.tolist()))
    basis.row_status = list(map(_STATUS_OF_CODE.__getitem__, row_status.tolist()))
    basis.valid = True
    return basis


def _describe(h: highspy.Highs, mip: bool) -> str:
    version = f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"
    algo = "mip" if mip else _option(h, "solver")
    if algo == "ipm" and _option(h, "run_crossover") == "on":
        algo = "ipm + crossover"
    return f"highs-{version} ({algo}, 1 thread)"


def _option(h: highspy.Highs, name: str) -> Any:
    value = h.getOptionValue(name)
    return value[-1] if isinstance(value, tuple) else value  # some highspy return (status, value)


class DirectLp:
    """The whole LP in one HiGHS instance; `fix` + `solve` hot-start from its basis."""

    def __init__(
        self, model: Model, options: dict | None = None, deadline: float | None = None
    ) -> None:
        self.model = model
        self.h = new_highs(options or {})
        pass_model(self.h, model, integer=False)
        self.deadline = deadline  # time.perf_counter() by which every run must have stopped

    def _run(self) -> None:
        if self.deadline is not None:
            self.h.setOptionValue("time_limit", max(self.deadline - time.perf_counter(), 0.001))
        self.h.run()

    def fix(self, cols: np.ndarray, values: np.ndarray) -> None:
        # After a first solve, bound changes keep the basis dual feasible: dual simplex
        # (also after a hot start, which chose the primal: `start_from`).
        self.h.setOptionValue("solver", "simplex")
        self.h.setOptionValue("simplex_strategy", 1)
        self.h.changeColsBounds(len(cols), cols.astype(np.int32), values, values)

    def start_from(self, col_status: np.ndarray, row_status: np.ndarray) -> None:
        """Hot-start the next solve from this primal feasible basis: the primal simplex (the
        dual simplex first repairs the added columns' dual infeasibility — bench L: 56 k
        iterations, 69 s, for 86 added pairs)."""
        self.h.setOptionValue("solver", "simplex")
        self.h.setOptionValue("simplex_strategy", 4)
        self.h.setBasis(basis_of(col_status, row_status))

    def solve(self) -> Solution:
        started = time.perf_counter()
        self._run()
        if self._interior_not_confirmed():
            # Postsolving an interior point has no basis to carry the duals back through
            # presolve's reductions, and HiGHS then finds dual infeasibilities above the
            # tolerance and calls the optimum "unknown" (bench S: 0.39 JPY on 9 columns).
            # Crossover ends at a vertex, which postsolves exactly: same optimum, certified.
            logger.warning("interior point not confirmed optimal after postsolve; crossover")
            self.h.setOptionValue("run_crossover", "on")
            self._run()
        elif self._interior_without_basis():
            # The price rule reads the optimal dual face from a vertex (face.py): an interior
            # point leaves no basis, so options that skip crossover get it on a second run.
            logger.warning("interior point without a basis: solving again with crossover")
            self.h.setOptionValue("run_crossover", "on")
            self._run()
        sol = collect(self.h, self.model, integer=False, solve_s=time.perf_counter() - started)
        sol.session = self
        return sol

    def _interior_without_basis(self) -> bool:
        return (
            self.h.getModelStatus() == highspy.HighsModelStatus.kOptimal
            and self.h.getInfo().basis_validity != 1
        )

    def _interior_not_confirmed(self) -> bool:
        return (
            self.h.getModelStatus() == highspy.HighsModelStatus.kUnknown
            and _option(self.h, "solver") == "ipm"
            and _option(self.h, "run_crossover") == "off"
        )
