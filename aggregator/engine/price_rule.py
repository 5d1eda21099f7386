"""The market's price rule: one price vector, selected over the optimal dual face.

The clearing LP is degenerate, so many price vectors are optimal; which one a solver stops
at depends on the solver. The published prices are instead the ones this rule selects over
the optimal dual face of the pricing LP (`face.py`; the LP, or the fix-and-price LP of a
gang market), whatever solver produced the vertex it starts from:

- A. least uplift: Σ over workloads of max(0, firm pay − firm bid) at prices y (only where
  some allocation is fixed — a pin or a gang — can an optimal price break a bid);
- B. then least paid by buyers, over the horizon (Σ of price × quantity bought at x*);
- C. then least Σ compute shadow prices (JPY per CU-hour) + Σ area-cap rents (JPY/kWh);
- D. then lexicographically least published components, in the canonical order: compute
  prices by (site id, interval), supplier energy prices by (area id, interval), cap rents
  by (area id, interval). Minimising one component, fixing it, then the next, leaves one
  vector by construction.

Each stage keeps the previous stages' optimum exactly by fixing every nonbasic variable
with a non-zero reduced cost at its bound (that is the optimal face of an LP at an optimal
basis), not by an objective-level row with a tolerance. Stage D runs an LP only for the
components that can still move: from stage C's basis, the nonbasic variables with zero
reduced cost span every direction left on the face; a component moves only if one of those
directions touches it (found with one transposed solve over a fixed pseudo-random
combination of the basic components, then one solve over such a combination of the
directions that touch any), and those LPs run on the face LP restricted to the group of
variables those components can move (`_FaceLp.block`): the face is a product over such
groups, so the rest keeps its values whatever stage D selects, and the smaller LP's setup
is what each run costs (bench L: 129 k of 344 k columns).
Every stage is HiGHS's primal simplex, hot-started from the previous stage's basis; the
first starts from the basis x*'s own basis implies, which is feasible (its point is the
vertex's dual). The stages are solved by HiGHS whatever backend solved the clearing LP:
the rule's answer is unique, so the solver of the selection cannot change it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import highspy
import numpy as np

from aggregator.engine import highs_solver
from aggregator.engine.face import BASIC, LOWER, Face

logger = logging.getLogger(__name__)

# A reduced cost counts as non-zero (its variable is at its bound on the whole optimal face)
# above this, relative to the stage objective's largest coefficient.
_REDUCED_COST_TOL = 1e-9
# A tableau entry counts as non-zero above this (a direction touches a component).
_TABLEAU_TOL = 1e-9
_SEED = 20261204
# Rounds of the search for the moving components' block before stage D gives up on it and
# runs on the whole face LP (bench L: 60 rounds, M: 73).
_BLOCK_ROUNDS = 500


class SelectionError(RuntimeError):
    """The face LP could not be solved to optimality (numerical trouble, time limit)."""


@dataclass
class Selection:
    y: np.ndarray  # the selected duals of the pricing LP (HiGHS sign convention)
    stages: dict[str, float] = field(default_factory=dict)  # stage objective values
    moving: int = 0  # components stage D had to decide
    lp_solves: int = 0
    iterations: int = 0
    seconds: float = 0.0


def _statuses(values) -> np.ndarray:
    return highs_solver.codes(values)


class _FaceLp:
    def __init__(self, face: Face, time_limit_s: float | None) -> None:
        self.face = face
        options = {"solver": "simplex", "simplex_strategy": 4, "presolve": "off"}
        if time_limit_s is not None:
            options["time_limit"] = max(time_limit_s, 0.01)
        self.h = highs_solver.new_highs(options)
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = face.n_col, len(face.row_lo)
        lp.col_cost_ = np.zeros(face.n_col)
        lp.col_lower_, lp.col_upper_ = face.col_lo, face.col_hi
        lp.row_lower_, lp.row_upper_ = face.row_lo, face.row_hi
        m = face.matrix
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = m.indptr.astype(np.int32)
        lp.a_matrix_.index_ = m.indices.astype(np.int32)
        lp.a_matrix_.value_ = m.data.astype(np.float64)
        self.h.passModel(lp)
        if face.col_status is not None:
            self.h.setBasis(highs_solver.basis_of(face.col_status, face.row_status))
        self.lo, self.hi = face.col_lo.copy(), face.col_hi.copy()
        self.row_lo, self.row_hi = face.row_lo.copy(), face.row_hi.copy()
        self.solves = 0
        self.iterations = 0
        self.deadline = None if time_limit_s is None else time.perf_counter() + time_limit_s

    def minimise(self, cost: np.ndarray) -> float:
        if self.deadline is not None:
            left = self.deadline - time.perf_counter()
            if left <= 0:
                raise SelectionError("price selection ran out of its time budget")
            self.h.setOptionValue("time_limit", left)
        n = self.face.n_col
        self.h.changeColsCost(n, np.arange(n, dtype=np.int32), cost)
        self.h.run()
        self.solves += 1
        info = self.h.getInfo()
        self.iterations += max(int(info.simplex_iteration_count), 0)
        if self.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            raise SelectionError(f"face LP: {self.h.getModelStatus()}")
        return float(info.objective_function_value)

    def values(self) -> np.ndarray:
        return np.asarray(self.h.getSolution().col_value, dtype=np.float64)

    def fix_to_optimal_face(self, cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Fix every nonbasic variable (and row) with a non-zero reduced cost at its value;
        return the statuses (columns, rows) of the optimal basis."""
        sol = self.h.getSolution()
        basis = self.h.getBasis()
        cs, rs = _statuses(basis.col_status), _statuses(basis.row_status)
        tol = _REDUCED_COST_TOL * max(1.0, float(np.max(np.abs(cost), initial=0.0)))
        value = np.asarray(sol.col_value)
        cd = np.asarray(sol.col_dual)
        col = np.nonzero((cs != BASIC) & (np.abs(cd) > tol) & (self.lo < self.hi))[0]
        if len(col):
            self.lo[col] = self.hi[col] = value[col]
            self.h.changeColsBounds(len(col), col.astype(np.int32), value[col], value[col])
        act = np.asarray(sol.row_value)
        rd = np.asarray(sol.row_dual)
        row = np.nonzero((rs != BASIC) & (np.abs(rd) > tol) & (self.row_lo < self.row_hi))[0]
        if len(row):
            self.row_lo[row] = self.row_hi[row] = act[row]
            self.h.changeRowsBounds(len(row), row.astype(np.int32), act[row], act[row])
        return cs, rs

    def fix(self, col: int, value: float) -> None:
        self.lo[col] = self.hi[col] = value
        self.h.changeColBounds(col, value, value)

    def moving(self, candidates: np.ndarray, cost: np.ndarray, cs, rs) -> np.ndarray:
        """The candidates that some zero-reduced-cost direction of the current optimal basis
        touches (a superset of those that vary over the current optimal face)."""
        sol = self.h.getSolution()
        tol = _REDUCED_COST_TOL * max(1.0, float(np.max(np.abs(cost), initial=0.0)))
        free_col = (cs != BASIC) & (np.abs(np.asarray(sol.col_dual)) <= tol) & (self.lo < self.hi)
        free_row = (
            (rs != BASIC) & (np.abs(np.asarray(sol.row_dual)) <= tol) & (self.row_lo < self.row_hi)
        )
        out = np.zeros(self.face.n_col, dtype=bool)
        out[candidates[free_col[candidates]]] = True
        _, basic = self.h.getBasicVariables()
        basic = np.asarray(basic)
        is_cand = np.zeros(self.face.n_col, dtype=bool)
        is_cand[candidates] = True
        position = np.nonzero((basic >= 0) & is_cand[np.maximum(basic, 0)])[0]
        if not len(position) or not (free_col.any() or free_row.any()):
            return candidates[out[candidates]]
        rng = np.random.default_rng(_SEED)
        rhs = np.zeros(len(basic))
        rhs[position] = rng.uniform(1.0, 2.0, len(position))
        _, rho = self.h.getBasisTransposeSolve(rhs)
        rho = np.asarray(rho)
        col_entry = self.face.matrix.T @ rho
        dirs_col = np.nonzero(free_col & (np.abs(col_entry) > _TABLEAU_TOL))[0]
        dirs_row = np.nonzero(free_row & (np.abs(rho) > _TABLEAU_TOL))[0]
        # The basic entries these directions touch: the union of the supports of their
        # tableau columns B⁻¹a_z (a row's logical: B⁻¹e_r), found as the support of one
        # combination with fixed pseudo-random weights — one solve with B instead of one per
        # direction (bench L: thousands of solves of 777 k entries, 44 s). A false "not
        # touched" would need the weights to cancel exactly, as for ρ above.
        weight = rng.uniform(1.0, 2.0, len(dirs_col) + len(dirs_row))
        combined = self.face.matrix[:, dirs_col] @ weight[: len(dirs_col)]
        np.add.at(combined, dirs_row, weight[len(dirs_col) :])
        _, column = self.h.getBasisSolve(combined)
        touched = np.abs(np.asarray(column)) > _TABLEAU_TOL
        hit = basic[touched & (basic >= 0)]
        out[hit[is_cand[hit]]] = True
        return candidates[out[candidates]]

    def block(self, moving: np.ndarray, cost: np.ndarray, cs, rs):
        """(columns, rows) of the face LP that stage D can still move, as masks; None if
        the search does not close within _BLOCK_ROUNDS.

        From the current optimal basis the face is {basic = value − T·λ within bounds, λ
        within the free nonbasic variables' bounds} (T = B⁻¹N over the free directions).
        Each basic entry's row of T and each direction's column of T link directions and
        basic entries; the face is the product of the linked groups' faces. So stage D only
        has to look at the group of the moving components — every other free variable keeps
        its value whatever stage D selects. The group is closed under "a direction touching
        a basic entry in it" and "a basic entry touched by a direction in it", each step one
        solve with B (or Bᵀ) over a combination with fixed pseudo-random weights (the
        argument `moving` uses: a missed link would need the weights to cancel exactly)."""
        sol = self.h.getSolution()
        tol = _REDUCED_COST_TOL * max(1.0, float(np.max(np.abs(cost), initial=0.0)))
        free_col = (cs != BASIC) & (np.abs(np.asarray(sol.col_dual)) <= tol) & (self.lo < self.hi)
        free_row = (
            (rs != BASIC) & (np.abs(np.asarray(sol.row_dual)) <= tol) & (self.row_lo < self.row_hi)
        )
        _, basic = self.h.getBasicVariables()
        basic = np.asarray(basic, dtype=np.int64)
        n, m = self.face.n_col, len(basic)
        position = np.full(n, -1, dtype=np.int64)
        position[basic[basic >= 0]] = np.nonzero(basic >= 0)[0]
        in_basis = np.zeros(m, dtype=bool)
        at = position[moving]
        in_basis[at[at >= 0]] = True
        dir_col = np.zeros(n, dtype=bool)
        dir_col[moving[at < 0]] = True  # a moving nonbasic component is a direction itself
        dir_row = np.zeros(m, dtype=bool)
        rng = np.random.default_rng(_SEED + 1)
        matrix = self.face.matrix
        for _ in range(_BLOCK_ROUNDS):
            rhs = np.zeros(m)
            rhs[in_basis] = rng.uniform(1.0, 2.0, int(in_basis.sum()))
            _, rho = self.h.getBasisTransposeSolve(rhs)
            rho = np.asarray(rho)
            dir_col |= free_col & (np.abs(matrix.T @ rho) > _TABLEAU_TOL)
            dir_row |= free_row & (np.abs(rho) > _TABLEAU_TOL)
            cols = np.nonzero(dir_col)[0]
            weight = rng.uniform(1.0, 2.0, len(cols) + int(dir_row.sum()))
            combined = matrix[:, cols] @ weight[: len(cols)]
            combined[dir_row] += weight[len(cols) :]
            _, column = self.h.getBasisSolve(combined)
            touched = np.abs(np.asarray(column)) > _TABLEAU_TOL
            if not (touched & ~in_basis).any():
                break
            in_basis |= touched
        else:
            return None
        group = basic[in_basis]
        keep_col = dir_col.copy()
        keep_col[group[group >= 0]] = True
        group_row = dir_row.copy()
        group_row[-1 - group[group < 0]] = True
        return keep_col, group_row


def _restricted(lp: _FaceLp, keep_col, group_row, cs, rs) -> tuple[_FaceLp, np.ndarray]:
    """The face LP with every variable outside the moving group at its value, those columns
    substituted out: columns `keep_col`, the rows that touch them (a row outside the group
    keeps its activity: it is constant on the face). Starts from the current basis, given
    as an alien basis (HiGHS completes it where rows outside the group lost the basic column
    that balanced them). Returns it and the kept columns' indexes."""
    matrix = lp.face.matrix
    y = lp.values()
    cols = np.nonzero(keep_col)[0]
    by_row = matrix[:, cols].tocsr()
    rows = np.nonzero(np.diff(by_row.indptr) > 0)[0]
    sub = by_row[rows].tocsc()
    rest = (matrix @ np.where(keep_col, 0.0, y))[rows]
    activity = sub @ y[cols]
    in_group = group_row[rows]
    row_lo = np.where(in_group, lp.row_lo[rows] - rest, activity)
    row_hi = np.where(in_group, lp.row_hi[rows] - rest, activity)
    none = np.zeros(0, dtype=np.int64)
    face = Face(
        matrix=sub,
        col_lo=lp.lo[cols].copy(),
        col_hi=lp.hi[cols].copy(),
        row_lo=row_lo,
        row_hi=row_hi,
        n_y=len(cols),
        uplift_w=none,
        buyer_load=np.zeros(len(cols)),
        cap_y=none,
        balance_y=none,
        area_cap_y=none,
        hours=lp.face.hours,
        col_status=None,
        row_status=None,
    )
    left = None if lp.deadline is None else lp.deadline - time.perf_counter()
    if left is not None and left <= 0:
        raise SelectionError("price selection ran out of its time budget")
    small = _FaceLp(face, left)
    row_status = np.where(in_group | (rs[rows] == BASIC), rs[rows], LOWER).astype(np.int8)
    basis = highs_solver.basis_of(cs[cols], row_status)
    basis.alien = True
    if small.h.setBasis(basis) != highspy.HighsStatus.kOk:
        raise SelectionError("face LP: the restricted basis was refused")
    return small, cols


def _lexicographic(lp: _FaceLp, components: np.ndarray) -> None:
    """Stage D: maximise each component in turn (least published price = greatest dual,
    prices being −y) and fix it there."""
    n = lp.face.n_col
    for k in components:  # in the canonical order
        cost = np.zeros(n)
        cost[k] = -1.0
        lp.minimise(cost)
        lp.fix(int(k), float(lp.values()[k]))


def select(face: Face, *, time_limit_s: float | None = None) -> Selection:
    """Run stages A–D on `face`; raises SelectionError if a face LP does not solve."""
    started = time.perf_counter()
    lp = _FaceLp(face, time_limit_s)
    out = Selection(y=np.zeros(face.n_y))
    n = face.n_col
    if face.n_u:
        cost = np.zeros(n)
        cost[face.n_y :] = 1.0
        out.stages["uplift_jpy"] = lp.minimise(cost)
        lp.fix_to_optimal_face(cost)
    price = face.price_y()
    cost = np.zeros(n)
    cost[price] = -face.buyer_load[price]
    out.stages["buyers_b"] = lp.minimise(cost)
    lp.fix_to_optimal_face(cost)
    cost = np.zeros(n)
    cost[face.cap_y] = -1.0 / face.hours
    cost[face.area_cap_y] = -1.0
    out.stages["shadows_c"] = lp.minimise(cost)
    cs, rs = lp.fix_to_optimal_face(cost)
    moving = lp.moving(price, cost, cs, rs)
    out.moving = len(moving)
    y = lp.values()
    group = lp.block(moving, cost, cs, rs) if len(moving) else None
    if group is not None:
        # Stage D on the moving components' group alone (bench L: 129 k of 344 k columns):
        # the rest of the face keeps its values, and each LP's setup shrinks with the LP.
        try:
            small, cols = _restricted(lp, *group, cs, rs)
            where = np.full(n, -1, dtype=np.int64)
            where[cols] = np.arange(len(cols))
            _lexicographic(small, where[moving])
            y[cols] = small.values()
            lp.solves += small.solves
            lp.iterations += small.iterations
        except SelectionError:
            if lp.deadline is not None and time.perf_counter() >= lp.deadline:
                raise
            # Numerical trouble on the smaller LP: the whole face LP, untouched by it, decides.
            logger.warning("price rule: stage D on the moving group failed; on the whole face")
            group = None
    if group is None and len(moving):
        _lexicographic(lp, moving)
        y = lp.values()
    out.y = y[: face.n_y]
    out.lp_solves, out.iterations = lp.solves, lp.iterations
    out.seconds = time.perf_counter() - started
    logger.info(
        "price rule: %d face LPs, %d iterations, %d components decided lexicographically, %.2f s",
        out.lp_solves,
        out.iterations,
        out.moving,
        out.seconds,
    )
    return out
