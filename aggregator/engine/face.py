"""The optimal dual face of a pricing LP, written as an LP over the duals (the price rule's ground).

For an optimal primal vertex x*, a dual vector y is optimal exactly when it is dual feasible
and complementary to x* (any optimal x* will do: every optimal primal and dual pair is
complementary). So the face is an LP over y with one row per primal column j,
r_j = a_jᵀy, and the reduced cost d_j = c_j − r_j held to the sign x*_j allows:

| x*_j | face row |
|---|---|
| strictly between its bounds | d_j = 0 |
| at its lower bound only | d_j ≥ 0 |
| at its upper bound only | d_j ≤ 0 |
| fixed (pin, gang fixed by fix-and-price) | free |

and y_i bounded by row i's state (0 where x* leaves the row slack; one sign where it is
tight at one bound; free on equality rows). Tightness is read from the vertex's basis
(nonbasic = at the bound it names) and, for basic entries, from the value within 1e-9 of a
bound: at a vertex that is exact where an interior point is not (an interior x* sits 1e-9
inside bounds it should touch, which forced d_j = 0 where d_j > 0 is optimal — the face LP
came out infeasible). Erring towards "at the bound" only widens the face by what the 1e-9
slack is worth, which the dual-bound certificate still sees.

Idle rows take their published rule before any selection, so the selection never spends a
choice on them (docs/engine.md, "Prices"): an area-interval that consumed nothing has its
balance dual at the first kWh's cost and no cap rent; a stepped site-interval that sold
nothing has its row at the cheapest step's price. Both keep every reduced cost's sign.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from aggregator.engine.feasibility import Indexed, Triples
from aggregator.engine.model import Model
from aggregator.engine.snapshot import Snapshot

INF = np.inf
# HiGHS basis codes, used for every backend's basis (the backends translate theirs).
LOWER, BASIC, UPPER, ZERO = 0, 1, 2, 3
_TIGHT = 1e-9  # relative distance to a bound that counts as "at" it, for basic entries


@dataclass
class Face:
    """min obj·v s.t. row_lo ≤ M v ≤ row_hi, col_lo ≤ v ≤ col_hi, v = [y, u].

    y: one dual per pricing-LP row (HiGHS sign: ≤ rows have y ≤ 0); u: one uplift
    variable per workload with fixed columns (u ≥ firm pay − firm value at prices y).
    Rows: one per pricing-LP column (r_j = a_jᵀy), then one per uplift variable."""

    matrix: sp.csc_matrix
    col_lo: np.ndarray
    col_hi: np.ndarray
    row_lo: np.ndarray
    row_hi: np.ndarray
    n_y: int
    uplift_w: np.ndarray  # workload index of each u
    buyer_load: np.ndarray  # per y: CU (capacity rows) or kWh (energy rows) bought at x*
    cap_y: np.ndarray  # y index of site-capacity rows (sorted by site, interval)
    balance_y: np.ndarray  # y index of energy-balance rows (area, interval)
    area_cap_y: np.ndarray  # y index of area-cap rows (area, interval)
    hours: float
    col_status: np.ndarray | None  # a primal-feasible starting basis (from x*'s basis)
    row_status: np.ndarray | None

    @property
    def n_col(self) -> int:
        return len(self.col_lo)

    @property
    def n_u(self) -> int:
        return len(self.uplift_w)

    def price_y(self) -> np.ndarray:
        """y indexes of the published price components, in the canonical order."""
        return np.concatenate([self.cap_y, self.balance_y, self.area_cap_y])


def _at_bounds(value, lo, hi, status):
    """(at lower, at upper) per entry: from the basis where nonbasic, else by value."""
    scale_lo = _TIGHT * np.maximum(1.0, np.abs(np.where(np.isfinite(lo), lo, 0.0)))
    scale_hi = _TIGHT * np.maximum(1.0, np.abs(np.where(np.isfinite(hi), hi, 0.0)))
    at_lo = np.isfinite(lo) & (value <= lo + scale_lo)
    at_hi = np.isfinite(hi) & (value >= hi - scale_hi)
    if status is not None:
        nonbasic = status != BASIC
        at_lo = np.where(nonbasic, (status == LOWER) & np.isfinite(lo), at_lo)
        at_hi = np.where(nonbasic, (status == UPPER) & np.isfinite(hi), at_hi)
        fixed = lo == hi
        at_lo |= nonbasic & fixed
        at_hi |= nonbasic & fixed
    return at_lo, at_hi


def build_face(
    snap: Snapshot,
    idx: Indexed,
    tri: Triples,
    model: Model,
    x: np.ndarray,
    col_status: np.ndarray | None,
    row_status: np.ndarray | None,
    allocation: np.ndarray | None = None,
) -> Face:
    """The face of `model` (the pricing LP: the LP, or the fix-and-price LP) at vertex x
    (its basis: `col_status`, `row_status`; the face LP starts from the basis it implies).
    `allocation` (by
    default x) is the published optimum, whose quantities weigh the prices in stages A–B
    and decide which rows are idle."""
    alloc = x if allocation is None else allocation
    n, m = model.n_col, model.n_row
    a = model.matrix
    at_lo, at_hi = _at_bounds(x, model.col_lo, model.col_hi, col_status)
    fixed = model.col_lo == model.col_hi
    c = model.cost
    f_lo = np.where(at_hi & ~fixed, c, -INF)  # d ≤ 0 allowed only: r ≥ c
    f_hi = np.where(at_lo & ~fixed, c, INF)  # d ≥ 0 allowed only: r ≤ c
    inside = ~at_lo & ~at_hi & ~fixed
    f_lo[inside] = f_hi[inside] = c[inside]
    both = at_lo & at_hi & ~fixed  # a range narrower than the tolerance: either sign
    f_lo[both], f_hi[both] = -INF, INF

    act = a @ x
    r_lo, r_hi = _at_bounds(act, model.row_lo, model.row_hi, row_status)
    y_lo = np.where(r_hi, -INF, 0.0)
    y_hi = np.where(r_lo, INF, 0.0)

    n_t, n_a = snap.n_intervals, len(snap.areas)
    cap_y = model.cap_row0 + np.arange(len(model.cap_rows))
    balance_y = model.balance_row0 + np.arange(n_a * n_t)
    area_cap_y = model.area_cap_row0 + np.arange(len(model.area_cap_rows))
    buyer = np.zeros(n, dtype=bool)
    buyer[model.x_cols] = True
    buyer[model.z0 : model.z0 + model.n_z] = True
    load = a @ np.where(buyer, np.maximum(alloc, 0.0), 0.0)
    _fix_idle_rows(model, load, y_lo, y_hi, cap_y, balance_y)

    uplift_w, u_rows = _uplift_rows(snap, idx, tri, model, alloc)
    n_u = len(uplift_w)
    face_t = a.T.tocsc() if n_u == 0 else sp.vstack([a.T, u_rows[0]]).tocsc()
    if n_u:
        u_block = sp.vstack([sp.csc_matrix((n, n_u)), sp.identity(n_u, format="csc")], format="csc")
        face_t = sp.hstack([face_t, u_block], format="csc")
    col_lo = np.concatenate([y_lo, np.zeros(n_u)])
    col_hi = np.concatenate([y_hi, np.full(n_u, INF)])
    row_lo = np.concatenate([f_lo, u_rows[1]])
    row_hi = np.concatenate([f_hi, np.full(n_u, INF)])
    cs = rs = None
    if col_status is not None and row_status is not None:
        cs, rs = _starting_basis(col_status, row_status, col_lo, col_hi, row_lo, row_hi, n_u)
    return Face(
        matrix=face_t,
        col_lo=col_lo,
        col_hi=col_hi,
        row_lo=row_lo,
        row_hi=row_hi,
        n_y=m,
        uplift_w=uplift_w,
        buyer_load=load,
        cap_y=cap_y,
        balance_y=balance_y,
        area_cap_y=area_cap_y,
        hours=snap.hours,
        col_status=cs,
        row_status=rs,
    )


def _fix_idle_rows(model, load, y_lo, y_hi, cap_y, balance_y) -> None:
    """An idle area-interval's balance dual is its first kWh's cost — the cheapest energy
    column (offer or grid) of that row, at its LP cost (so that raising
    the dual to it keeps every reduced cost's sign exactly) — under a cap of 0 kW too:
    nothing else bounds it there (where no site can draw, every price below the cheapest
    source is optimal, down to −∞). Its cap rent is left to the rule: 0 where the cap is
    slack (the face fixes it), the scarcity that keeps sites idle under a 0 kW cap. An idle
    stepped site-interval's row likewise takes its cheapest step's cost."""
    first = _first_unit_cost(model)
    rows = balance_y[np.abs(load[balance_y]) <= 1e-9]
    rows = np.concatenate([rows, cap_y[model.cap_multi & (np.abs(load[cap_y]) <= 1e-9)]])
    rows = rows[np.isfinite(first[rows])]
    y_lo[rows] = y_hi[rows] = -first[rows]


def _first_unit_cost(model: Model) -> np.ndarray:
    """Per row: the least cost of its supply columns (energy offers and grid on balance
    rows, steps on stepped capacity rows; each has a single −1 entry), +inf elsewhere."""
    supply = np.r_[
        model.n_x + model.n_m : model.g0 + model.n_g, model.n_col - model.n_q : model.n_col
    ]
    a = model.matrix
    first = np.full(model.n_row, np.inf)
    if len(supply):
        rows = a.indices[a.indptr[supply]]
        np.minimum.at(first, rows, model.cost[supply])
    return first


def _uplift_rows(snap, idx, tri, model, x):
    """One row per workload with a fixed column (pin or fixed gang): u_w + Σ x·(price part of
    a_col)ᵀy ≥ Σ x·(capacity price part − value), over its firm-interval columns — i.e.
    u_w ≥ what it pays at prices y − what it bid, in the intervals settlement pays."""
    n_x = model.n_x
    modelled = model.tri_col >= 0
    xj, xs, xt = tri.j[modelled], tri.s[modelled], tri.t[modelled]
    fixed = model.col_lo[:n_x] == model.col_hi[:n_x]
    workloads = np.unique(xj[fixed])
    firm = (xt < snap.firm_intervals) & np.isin(xj, workloads) & (x[:n_x] > 0)
    empty = (sp.csr_matrix((0, model.n_row)), np.zeros(0))
    if not len(workloads) or not firm.any():
        return np.zeros(0, dtype=np.int64), empty
    cols = np.nonzero(firm)[0]
    u_of = np.searchsorted(workloads, xj[cols])
    price_rows = np.zeros(model.n_row, dtype=bool)
    price_rows[model.cap_row0 : model.cap_row0 + len(model.cap_rows)] = True
    price_rows[model.balance_row0 : model.balance_row0 + len(snap.areas) * snap.n_intervals] = True
    price_rows[model.area_cap_row0 : model.area_cap_row0 + len(model.area_cap_rows)] = True
    sub = model.matrix[:, cols].tocoo()
    keep = price_rows[sub.row]
    weights = x[cols][sub.col[keep]]
    coef = sp.csr_matrix(
        (sub.data[keep] * weights, (u_of[sub.col[keep]], sub.row[keep])),
        shape=(len(workloads), model.n_row),
    )
    h = snap.hours
    unit = model.unit[cols]
    per_unit = (idx.x_price[xs[cols], xt[cols]] - idx.limit[xj[cols], xt[cols]]) * h * unit
    lower = np.bincount(u_of, weights=per_unit * x[cols], minlength=len(workloads))
    return workloads, (coef, lower)


def _starting_basis(col_status, row_status, col_lo, col_hi, row_lo, row_hi, n_u):
    """The face basis that x*'s basis implies (it is primal feasible: its point is x*'s own
    dual vector): a basic primal row makes its y nonbasic at 0, a nonbasic one makes it
    basic; a basic primal column makes its face row nonbasic (d = 0), a nonbasic one basic.
    Uplift variables start basic (their rows nonbasic at the bound)."""
    n_y = len(row_status)
    y_status = np.full(n_y, BASIC, dtype=np.int8)
    nb = row_status == BASIC
    lo, hi = col_lo[:n_y], col_hi[:n_y]
    y_status[nb] = np.where(np.isfinite(lo[nb]), LOWER, np.where(np.isfinite(hi[nb]), UPPER, ZERO))
    f_status = np.full(len(col_status), BASIC, dtype=np.int8)
    nb = col_status == BASIC
    flo, fhi = row_lo[: len(col_status)], row_hi[: len(col_status)]
    f_status[nb] = np.where(
        np.isfinite(fhi[nb]), UPPER, np.where(np.isfinite(flo[nb]), LOWER, ZERO)
    )
    cs = np.concatenate([y_status, np.full(n_u, BASIC, dtype=np.int8)])
    rs = np.concatenate([f_status, np.full(n_u, LOWER, dtype=np.int8)])
    return cs, rs
