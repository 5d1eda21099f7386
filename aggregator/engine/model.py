"""The clearing LP/MIP of DESIGN §5 as sparse arrays (minimise −welfare), built without loops."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from aggregator.engine.classes import Classes, disaggregate, inference_classes
from aggregator.engine.feasibility import Indexed, Triples, pair_masks, static_pairs
from aggregator.engine.site_choice import SiteChoice, site_choices
from aggregator.engine.snapshot import Snapshot
from aggregator.engine.tiebreak import PLACEMENT_KEYS, SERVE_KEYS, weights


@dataclass
class Model:
    """min cost·v  s.t.  row_lo ≤ A v ≤ row_hi,  col_lo ≤ v ≤ col_hi.

    v = [x, m, e, g, z, y, b, q]: x per triple of the workloads modelled one by one, m
    migration, e energy offers, g grid, z/y the placement/serve columns of aggregated
    inference classes (`classes.py`), b the site choices of no_migration workloads
    (`site_choice.py`), q the capacity steps of site-intervals with several offers."""

    cost: np.ndarray
    col_lo: np.ndarray
    col_hi: np.ndarray
    row_lo: np.ndarray
    row_hi: np.ndarray
    matrix: sp.csc_matrix
    integer: np.ndarray  # bool per column
    welfare_cost: np.ndarray  # −welfare per unit of each column (= cost since engine v6)
    tie_weight: np.ndarray  # the allocation rule's weight per column (polish.py)
    n_x: int
    n_m: int
    n_e: int
    n_g: int
    unit: np.ndarray  # CU per unit of each x column
    e_offer: np.ndarray  # energy column -> offer index
    e_t: np.ndarray
    cap_rows: np.ndarray  # site-interval rows: flat s*T+t
    cap_row0: int
    balance_row0: int  # A*T balance rows, flat a*T+t
    area_cap_rows: np.ndarray  # flat a*T+t of area cap rows
    area_cap_row0: int
    row_kind_counts: dict[str, int]
    mig_x: np.ndarray  # x column of each migration column / row
    mig_row0: int  # migration rows come last, one per migration column
    tri_col: np.ndarray  # per feasible triple: its x column, or -1 (aggregated class)
    classes: Classes
    n_s: int
    q_offer: np.ndarray  # step columns (last): capacity offer and interval of each
    q_t: np.ndarray
    cap_multi: np.ndarray  # per site-capacity row: priced by step columns (≥ 2 offers)
    x_room: np.ndarray  # per row: the most x/z columns may load it (step rows: + Σ steps)
    choice: SiteChoice  # no_migration binaries (columns b, rows from `site_row0`)
    site_row0: int
    # The x columns built `left_out` (`migration_pairs.py`), priced but not in the LP.
    left_out: LeftOut | None = None

    @property
    def n_z(self) -> int:
        return self.classes.n_z

    @property
    def n_y(self) -> int:
        return self.classes.n_y

    @property
    def n_col(self) -> int:
        return len(self.cost)

    @property
    def n_row(self) -> int:
        return len(self.row_lo)

    @property
    def x_cols(self) -> slice:
        return slice(0, self.n_x)

    @property
    def g0(self) -> int:
        return self.n_x + self.n_m + self.n_e

    @property
    def grid_cols(self) -> slice:
        return slice(self.g0, self.g0 + self.n_g)

    @property
    def z0(self) -> int:
        return self.g0 + self.n_g

    @property
    def n_q(self) -> int:
        return len(self.q_offer)

    @property
    def b0(self) -> int:
        return self.z0 + self.n_z + self.n_y

    def triple_cu(self, values: np.ndarray, tri: Triples) -> np.ndarray:
        """CU per feasible triple: x columns directly, aggregated classes disaggregated."""
        modelled = self.tri_col >= 0
        out = np.zeros(len(tri))
        out[modelled] = values[self.tri_col[modelled]] * self.unit
        z = values[self.z0 : self.z0 + self.n_z]
        y = values[self.z0 + self.n_z : self.z0 + self.n_z + self.n_y]
        return out + disaggregate(self.classes, z, y, tri, self.n_s)


@dataclass
class LeftOut:
    """The x columns of the placements a model leaves out (whole workload-site pairs away
    from home, `migration_pairs.py`), as they would be: their cost and their entries in the
    model's rows (all of them before the migration rows, which are the same in every
    model of the snapshot), so that a dual vector prices them."""

    triple: np.ndarray  # index into the feasible triples
    cost: np.ndarray
    matrix: sp.csc_matrix  # rows: the model's first `mig_row0` rows
    unit: np.ndarray


def energy_unit_cost(snap: Snapshot) -> tuple[np.ndarray, np.ndarray]:
    """JPY per kWh incl. carbon: grid (A × T) and offers (O × T)."""
    carbon_jpy_per_g = snap.carbon_price_jpy_per_t / 1e6
    grid = np.array([a.price + carbon_jpy_per_g * a.carbon for a in snap.areas]).reshape(
        len(snap.areas), snap.n_intervals
    )
    offers = np.array([o.price + carbon_jpy_per_g * o.carbon for o in snap.energy_offers])
    return grid, offers.reshape(len(snap.energy_offers), snap.n_intervals)


def _rows_for_groups(keys: np.ndarray, min_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Group column entries by key; return (row index per entry or -1, unique keys kept)."""
    uniq, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    kept = counts >= min_size
    new_index = np.cumsum(kept) - 1
    row = np.where(kept[inverse], new_index[inverse], -1)
    return row, uniq[kept]


def _classes(snap: Snapshot, idx: Indexed, tri: Triples) -> Classes:
    """Workloads that can be aggregated exactly: continuous, unpinned, no migration cost
    (it is per workload and site, so it would not survive aggregation: a member leaving a
    site while another arrives would cost nothing at the class's level), no site choice.
    Inference and batch alike: a batch member keeps its remaining-work row on its serve
    columns, and its window is where it has them (engine v6)."""
    pinned_w = np.zeros(len(snap.workloads), dtype=bool)
    pinned_w[tri.j[~np.isnan(tri.pinned)]] = True
    mig_cost = np.array([w.migration_cost for w in snap.workloads], dtype=np.float64)
    no_migration = np.array([w.no_migration for w in snap.workloads], dtype=bool)
    eligible = (
        (idx.unit == 1)
        & ~pinned_w
        & ((mig_cost == 0) | (idx.home < 0))
        & ~no_migration  # its site choice is per workload
    )
    masks = pair_masks(snap, idx)
    pairs = static_pairs(masks) & masks["window"]
    return inference_classes(idx, pairs, eligible, snap.n_intervals)


class _OutEntries:
    """The entries the left-out x columns would have, row kind by row kind (`LeftOut`)."""

    def __init__(self, kept: np.ndarray) -> None:
        self.out = ~kept
        self.col = np.cumsum(self.out) - 1
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.vals: list[np.ndarray] = []

    def add(self, first: int, row: np.ndarray, value: np.ndarray) -> None:
        """Entries of every modelled triple (row −1: none in this kind); keeps the left-out."""
        sel = self.out & (row >= 0)
        self.rows.append(row[sel] + first)
        self.cols.append(self.col[sel])
        self.vals.append(np.asarray(value, dtype=np.float64)[sel])

    def left_out(self, modelled, cost_all, unit_all, n_rows: int) -> LeftOut:
        n = int(self.out.sum())
        matrix = sp.csc_matrix(
            (np.concatenate(self.vals), (np.concatenate(self.rows), np.concatenate(self.cols))),
            shape=(n_rows, n),
        )
        return LeftOut(
            triple=np.nonzero(modelled)[0][self.out],
            cost=cost_all[self.out],
            matrix=matrix,
            unit=unit_all[self.out],
        )


class _Rows:
    """The constraint rows as they are added, kind by kind: COO triplets and row bounds."""

    def __init__(self) -> None:
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.vals: list[np.ndarray] = []
        self.lo: list[np.ndarray] = []
        self.hi: list[np.ndarray] = []
        self.counts: dict[str, int] = {}
        self.n = 0

    def add(self, kind: str, r: np.ndarray, c: np.ndarray, v: np.ndarray, lo, hi) -> int:
        """Rows of one kind (r numbered from 0 within it); returns the first one's index."""
        first = self.n
        self.rows.append(r + first)
        self.cols.append(c)
        self.vals.append(v)
        self.lo.append(np.asarray(lo, dtype=np.float64))
        self.hi.append(np.asarray(hi, dtype=np.float64))
        self.counts[kind] = len(self.lo[-1])
        self.n += len(self.lo[-1])
        return first

    def matrix(self, n_col: int) -> sp.csc_matrix:
        return sp.csc_matrix(
            (np.concatenate(self.vals), (np.concatenate(self.rows), np.concatenate(self.cols))),
            shape=(self.n, n_col),
        )

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return np.concatenate(self.lo), np.concatenate(self.hi)


def _widened_for_pins(
    pinned_load: np.ndarray,
    row_lo: np.ndarray,
    row_hi: np.ndarray,
    *,
    first_held_row: int,
    step_rows: np.ndarray,
    step_cu: np.ndarray,
) -> np.ndarray:
    """Row upper bounds that the pins (dispatched facts) cannot violate.

    A pin's CU is rounded to 6 decimals, which may overshoot a binding limit by ~1e-7, and a
    limit row must never make a dispatched fact infeasible: an upper-only row is widened to
    the pinned load. Rows from `first_held_row` on (migration, site link and choice) hold
    through their own m / b column instead. A step row's room is its steps' CU: pins beyond
    them widen it by the excess.
    """
    upper_only = np.isfinite(row_hi) & ~np.isfinite(row_lo)
    upper_only[first_held_row:] = False
    upper_only[step_rows] = False
    out = np.where(upper_only, np.maximum(row_hi, pinned_load), row_hi)
    out[step_rows] = np.maximum(0.0, pinned_load[step_rows] - step_cu)
    return out


def _step_columns(
    idx: Indexed, cap_keys: np.ndarray, n_t: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(offer, interval, capacity row) of each price-step column q: every step with CU at a
    site-interval that has several offers and a capacity row (without a row there is no
    buyer, and the step would sell nothing)."""
    q_o, q_t = np.nonzero(idx.step_cu > 0)
    q_key = idx.step_site[q_o] * n_t + q_t
    q_row = np.searchsorted(cap_keys, q_key)
    has_row = q_row < len(cap_keys)
    has_row[has_row] = cap_keys[q_row[has_row]] == q_key[has_row]
    keep = has_row & idx.multi.ravel()[q_key]
    return q_o[keep], q_t[keep], q_row[keep]


def build(
    snap: Snapshot,
    idx: Indexed,
    tri: Triples,
    *,
    aggregate: bool = True,
    left_out: np.ndarray | None = None,
) -> Model:
    """The clearing LP (or MIP) of a snapshot over its feasible triples: columns for
    placements (x), migration (m), energy offers (e), grid energy (g), aggregated classes
    (z placements, y served), site choices (b) and capacity steps (q); rows added kind by kind
    (`Model.row_kind_counts`); the welfare cost and the allocation rule's tie-weights.

    `left_out` (bool per triple, whole workload-site pairs away from home): those x columns,
    with their migration columns and rows, are not built — as if their placements were 0 —
    while every other row is shaped as with them, so that every model of a snapshot has
    the same rows before the migration rows and one dual vector prices them all
    (`Model.left_out`; `migration_pairs.py`)."""
    n_t, n_a, n_s = snap.n_intervals, len(snap.areas), len(snap.sites)
    h = snap.hours
    n_w = len(snap.workloads)
    if aggregate:
        classes = _classes(snap, idx, tri)
    else:
        classes = inference_classes(idx, np.zeros((n_w, n_s), bool), np.zeros(n_w, bool), n_t)
    modelled = classes.of_workload[tri.j] < 0
    # Rows are shaped by every modelled triple ("_all"); columns exist for the kept ones.
    j_all, s_all, t_all = tri.j[modelled], tri.s[modelled], tri.t[modelled]
    unit_all = idx.unit[j_all]
    x_hi_all = tri.ub[modelled].astype(np.float64)
    kept = np.ones(len(j_all), dtype=bool) if left_out is None else ~left_out[modelled]
    tri_col = np.full(len(tri), -1, dtype=np.int64)
    tri_col[np.nonzero(modelled)[0][kept]] = np.arange(int(kept.sum()))
    j, s, t = j_all[kept], s_all[kept], t_all[kept]
    n_x = len(j)
    unit = unit_all[kept]
    kwh_all = idx.site_kwh_per_cu[s_all] * unit_all  # kWh per allocation unit
    kwh = kwh_all[kept]
    zs, zt, n_z, n_y = classes.z_s, classes.z_t, classes.n_z, classes.n_y
    z_kwh = idx.site_kwh_per_cu[zs]
    out = _OutEntries(kept)

    # Column bounds of x; pins fix both bounds.
    x_lo = np.zeros(n_x)
    x_hi = x_hi_all[kept]
    tri_pinned = tri.pinned[modelled][kept]
    pinned = ~np.isnan(tri_pinned)
    x_lo[pinned] = x_hi[pinned] = tri_pinned[pinned] / unit[pinned]
    margin_all = (idx.limit[j_all, t_all] - idx.x_price[s_all, t_all]) * h * unit_all
    margin = margin_all[kept]
    # Hashed per placement (tiebreak.py), keyed the same whether or not classes aggregate.
    x_tie = weights((j * n_s + s) * n_t + t)

    # Migration: m_k ≥ unit·(x_k − x_prev) for triples away from home with a cost.
    mig_cost = np.array([w.migration_cost for w in snap.workloads])
    has_m = (mig_cost[j] > 0) & (s != idx.home[j])
    mk = np.nonzero(has_m)[0]
    n_m = len(mk)
    prev_ok = np.zeros(n_x, dtype=bool)
    prev_ok[1:] = (j[1:] == j[:-1]) & (s[1:] == s[:-1]) & (t[1:] == t[:-1] + 1)

    grid_cost, offer_cost = energy_unit_cost(snap)
    eo, et = np.nonzero(np.array([o.kwh for o in snap.energy_offers]).reshape(-1, n_t) > 0)
    n_e, n_g = len(eo), n_a * n_t
    e_hi = np.array([o.kwh for o in snap.energy_offers]).reshape(-1, n_t)[eo, et]

    rows = _Rows()
    add = rows.add

    x_index = np.arange(n_x)
    z_cols = n_x + n_m + n_e + n_g + np.arange(n_z)
    y_cols = n_x + n_m + n_e + n_g + n_z + np.arange(n_y)
    # Site capacity per site-interval (its dual is the compute price's shadow part). Where a
    # site-interval has one offer, its price is on the x columns and the row is Σ x ≤ cu —
    # the formulation of one offer per site, unchanged. Where it has several (price steps),
    # each step is a column q ∈ [0, cu] at its own price and the row is Σ x − Σ q ≤ 0, so
    # the cheapest steps fill first and the row's dual is the marginal step's price.
    cap_r_all, cap_keys = _rows_for_groups(np.concatenate([s_all * n_t + t_all, zs * n_t + zt]), 1)
    cap_r = np.concatenate([cap_r_all[: len(j_all)][kept], cap_r_all[len(j_all) :]])
    cap_multi = idx.multi.ravel()[cap_keys]
    q_o, q_t, q_row = _step_columns(idx, cap_keys, n_t)
    n_q = len(q_o)
    choice = site_choices(snap, idx.remaining, j, s, x_hi, unit, tri_pinned)
    n_b = choice.n
    b_cols = n_x + n_m + n_e + n_g + n_z + n_y + np.arange(n_b)
    q_cols = n_x + n_m + n_e + n_g + n_z + n_y + n_b + np.arange(n_q)
    cap_cu = idx.offer_cu.ravel()[cap_keys]
    cap0 = add(
        "site_capacity",
        np.concatenate([cap_r, q_row]),
        np.concatenate([x_index, z_cols, q_cols]),
        np.concatenate([unit.astype(np.float64), np.ones(n_z), -np.ones(n_q)]),
        np.full(len(cap_keys), -np.inf),
        np.where(cap_multi, 0.0, cap_cu),
    )
    out.add(cap0, cap_r_all[: len(j_all)], unit_all)
    # Per workload-interval rate (demand / max_cu); one placement only → its bound suffices.
    jt_r_all, jt_keys = _rows_for_groups(j_all * n_t + t_all, 2)
    jt_r = jt_r_all[kept]
    sel = jt_r >= 0
    rate0 = add(
        "workload_rate",
        jt_r[sel],
        x_index[sel],
        unit[sel],
        np.full(len(jt_keys), -np.inf),
        idx.rate_cap.ravel()[jt_keys],
    )
    out.add(rate0, jt_r_all, unit_all)
    # Batch remaining work over the window, only where the bounds alone could exceed it: on
    # its x columns, or on its serve columns where the workload is in a class.
    room = np.bincount(j_all, weights=x_hi_all * unit_all, minlength=n_w).astype(np.float64)
    room += np.bincount(classes.y_j, weights=classes.y_hi, minlength=n_w)
    need = np.isfinite(idx.remaining) & (room > idx.remaining + 1e-9)
    rem_map = np.cumsum(need) - 1
    sel = need[j]
    y_sel = need[classes.y_j]
    rem0 = add(
        "remaining_work",
        np.concatenate([rem_map[j[sel]], rem_map[classes.y_j[y_sel]]]),
        np.concatenate([x_index[sel], y_cols[y_sel]]),
        np.concatenate([unit[sel], np.ones(int(y_sel.sum()))]),
        np.full(int(need.sum()), -np.inf),
        idx.remaining[need],
    )
    out.add(rem0, np.where(need[j_all], rem_map[j_all], -1), unit_all)
    # Area energy balance: site kWh − offers − grid = 0, every area-interval.
    a_of_all = idx.site_area[s_all] * n_t + t_all
    a_of_x = a_of_all[kept]
    a_of_z = idx.site_area[zs] * n_t + zt
    e_cols = n_x + n_m + np.arange(n_e)
    g_cols = n_x + n_m + n_e + np.arange(n_g)
    bal0 = add(
        "energy_balance",
        np.concatenate([a_of_x, a_of_z, eo_area(snap, eo) * n_t + et, np.arange(n_g)]),
        np.concatenate([x_index, z_cols, e_cols, g_cols]),
        np.concatenate([kwh, z_kwh, -np.ones(n_e), -np.ones(n_g)]),
        np.zeros(n_g),
        np.zeros(n_g),
    )
    out.add(bal0, a_of_all, kwh_all)
    # Area caps (kW × hours) where signalled and something could load the area.
    caps = np.array([a.cap_kw for a in snap.areas]).reshape(n_a, n_t).ravel()
    capped = np.isfinite(caps)
    loads = np.concatenate([a_of_x, a_of_z])
    capped &= np.bincount(np.concatenate([a_of_all, a_of_z]), minlength=n_g) > 0
    ac_map = np.cumsum(capped) - 1
    sel = capped[loads]
    ac0 = add(
        "area_cap",
        ac_map[loads[sel]],
        np.concatenate([x_index, z_cols])[sel],
        np.concatenate([kwh, z_kwh])[sel],
        np.full(int(capped.sum()), -np.inf),
        caps[capped] * h,
    )
    out.add(ac0, np.where(capped[a_of_all], ac_map[a_of_all], -1), kwh_all)
    # Migration rows: unit·x_k − unit·x_prev − m_k ≤ 0.
    m_rows = np.arange(n_m)
    has_prev = prev_ok[mk]
    mig0 = add(
        "migration",
        np.concatenate([m_rows, m_rows[has_prev], m_rows]),
        np.concatenate([mk, mk[has_prev] - 1, n_x + m_rows]),
        np.concatenate([unit[mk], -unit[mk[has_prev]], -np.ones(n_m)]),
        np.full(n_m, -np.inf),
        np.zeros(n_m),
    )
    # Aggregated inference classes: placements = served, per class-interval.
    n_k = len(classes.row_key)
    add(
        "class_balance",
        np.concatenate([classes.z_row(), classes.y_row()]),
        np.concatenate([z_cols, y_cols]),
        np.concatenate([np.ones(n_z), -np.ones(n_y)]),
        np.zeros(n_k),
        np.zeros(n_k),
    )
    # no_migration: Σ_t unit·x − M·b ≤ 0 per candidate site, Σ_s b ≤ 1 per workload.
    site0 = add(
        "site_link",
        np.concatenate([choice.link_b, np.arange(n_b)]),
        np.concatenate([choice.link_x, b_cols]),
        np.concatenate([unit[choice.link_x], -choice.big_m]),
        np.full(n_b, -np.inf),
        np.zeros(n_b),
    )
    add(
        "site_choice",
        choice.choice,
        b_cols,
        np.ones(n_b),
        np.full(choice.n_rows, -np.inf),
        np.ones(choice.n_rows),
    )
    n_col = n_x + n_m + n_e + n_g + n_z + n_y + n_b + n_q
    matrix = rows.matrix(n_col)
    welfare_cost = np.concatenate(
        [
            -margin,
            mig_cost[j[mk]],
            offer_cost[eo, et],
            grid_cost.ravel(),
            idx.x_price[zs, zt] * h,
            -idx.limit[classes.y_j, classes.y_t] * h,
            np.zeros(n_b),
            idx.step_price[q_o, q_t] * h,
        ]
    )
    # The allocation rule's weights (tiebreak.py; minimised over the optimal face by
    # polish.py, not part of the LP's cost): hashed per placement; energy offers and the
    # steps of a site by rank, so that equal prices sell the lower offer id first.
    tie_weight = np.concatenate(
        [
            x_tie * unit,
            np.zeros(n_m),
            (np.arange(n_e) + 1.0) / max(n_e, 1),
            np.zeros(n_g),
            weights((classes.z_c * n_s + zs) * n_t + zt, PLACEMENT_KEYS),
            weights(classes.y_j * n_t + classes.y_t, SERVE_KEYS),
            np.zeros(n_b),
            (q_o * n_t + q_t + 1.0) / max(idx.step_cu.size, 1),
        ]
    )
    row_lo_all, row_hi_all = rows.bounds()
    if pinned.any():
        fixed_values = np.zeros(n_col)
        fixed_values[:n_x][pinned] = x_lo[pinned]
        row_hi_all = _widened_for_pins(
            matrix @ fixed_values, row_lo_all, row_hi_all,
            first_held_row=mig0, step_rows=cap0 + np.nonzero(cap_multi)[0],
            step_cu=cap_cu[cap_multi],
        )  # fmt: skip
    x_room = row_hi_all.copy()
    x_room[cap0 + np.nonzero(cap_multi)[0]] += cap_cu[cap_multi]
    integer = np.zeros(n_col, dtype=bool)
    integer[:n_x] = (unit > 1) & ~pinned
    integer[b_cols] = True
    return Model(
        cost=welfare_cost,
        col_lo=np.concatenate([x_lo, np.zeros(n_m + n_e + n_g + n_z + n_y + n_b + n_q)]),
        col_hi=np.concatenate(
            [
                x_hi,
                np.full(n_m, np.inf),
                e_hi,
                np.full(n_g + n_z, np.inf),
                classes.y_hi,
                np.ones(n_b),
                idx.step_cu[q_o, q_t],
            ]
        ),
        row_lo=row_lo_all,
        row_hi=row_hi_all,
        matrix=matrix,
        integer=integer,
        welfare_cost=welfare_cost,
        n_x=n_x,
        n_m=n_m,
        n_e=n_e,
        n_g=n_g,
        unit=unit,
        e_offer=eo,
        e_t=et,
        cap_rows=cap_keys,
        cap_row0=cap0,
        balance_row0=bal0,
        area_cap_rows=np.nonzero(capped)[0],
        area_cap_row0=ac0,
        row_kind_counts=rows.counts,
        mig_x=mk,
        mig_row0=mig0,
        tri_col=tri_col,
        classes=classes,
        n_s=n_s,
        q_offer=q_o,
        q_t=q_t,
        cap_multi=cap_multi,
        x_room=x_room,
        choice=choice,
        site_row0=site0,
        tie_weight=tie_weight,
        left_out=None if left_out is None else out.left_out(modelled, -margin_all, unit_all, mig0),
    )


def eo_area(snap: Snapshot, eo: np.ndarray) -> np.ndarray:
    area_pos = {a.id: i for i, a in enumerate(snap.areas)}
    offer_area = np.array([area_pos[o.area] for o in snap.energy_offers], dtype=np.int64)
    return offer_area[eo] if len(eo) else np.zeros(0, dtype=np.int64)
