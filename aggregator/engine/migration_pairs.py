"""Pair generation: the clearing LP without the workload-site pairs that cannot pay their move.

Every batch workload with a home site and a migration cost has, at each other feasible site,
a pair of columns per interval (x its CU, m what it adds there) and one migration row
(`model.py`). Bench L has 9,276 such workload-site pairs and 278 k migration rows — 81 % of
its rows — but at its optimum only 423 pairs are used and 997 are worth their cost. The
clearing LP is solved over the pairs that may pay, and the others are proved not to:

- A pair left out has its placements at 0. Given the duals y of an LP that leaves it out,
  each of its x columns would earn g_t = −(c_t − a_tᵀy) per CU (its rows other than
  migration are in every model, `Model.left_out`), and a block of consecutive intervals
  at one level pays the migration cost once (a level that rises twice pays twice). So the
  pair can improve the LP only if some block's Σ g_t exceeds the migration cost: the best
  block is a maximum-subarray sum (`surplus`).
- If every left-out pair's best block is *strictly* below its cost, y extends to a dual of
  the whole LP under which every left-out column has a strictly positive reduced cost
  (migration-row duals μ_t: the best block from t onward, raised by ε·(intervals left),
  with ε small enough to stay below the cost). So the restricted
  optimum is the whole LP's optimum (certified by that dual), and every optimal allocation
  of the whole LP has those pairs at 0: the optimal face is the restricted LP's, and the
  allocation rule (polish.py) and the price rule (price_rule.py), which select on that
  face, select the same as on the whole LP. The rule's prices are checked once more after
  selection (`solve.py`): a pair they would make pay goes into the model without a
  re-solve (`extended`: it is 0 in every optimum already), and the rule selects again.

Which pairs to start with only changes the time, never the result. Measured at bench L:
the duals of the LP with every pair left out (dual simplex, 3.5 s) flag 3,797 pairs; the
duals of the LP with those pairs at a per-interval migration charge and no migration rows
(14.7 s) flag 3,211; the LP over those is solved exactly, and the pairs its duals still flag
are added and solved hot from its basis until none is left. A rolling exchange clears the
same market every 30 minutes: the pairs one run ends worth their cost (`CARRY_JPY`) start
the next run's first exact LP instead (`first`, `SolveOptions.pair_start`).
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

import numpy as np

from aggregator.engine.face import BASIC, LOWER
from aggregator.engine.feasibility import Indexed, Triples
from aggregator.engine.highs_solver import release_freed_memory
from aggregator.engine.model import LeftOut, Model, build
from aggregator.engine.snapshot import Snapshot

logger = logging.getLogger(__name__)

# A left-out pair's best block must fall short of its migration cost by more than this
# (JPY per CU): duals are exact to ~1e-9 relative, and "strictly" is what makes the optimal
# face the restricted LP's.
STRICT_JPY = 1e-6
# Placements in leavable pairs from which generation is on by default. Below, the gain is
# small (bench M, 24.8 k: 3.6–3.8 s end to end against 4.6 s, the same bytes; bench S: the
# same 0.08 s) and everyday markets keep the whole LP, the path replays have always taken.
DEFAULT_FROM_ROWS = 50_000
# Left-out pairs within this of paying at the solver's duals (JPY per CU) go into the model
# before the price rule, unsolved (`extended`): the rule moves the duals within the face,
# and a pair its prices make pay costs a second selection (bench L: 4 pairs, 2.0–2.63 JPY/CU
# short at the solver's duals; a second pass of 16.7 s). 3 JPY puts 650 pairs in there.
# Cold starts only: a given start already holds them (`SolveOptions.pair_margin_jpy`).
NEAR_JPY = 3.0
# Pairs within this of paying at the end (JPY per CU), at the solver's duals or at the
# published prices, are the ones worth starting the next rolling run from
# (`Result.pair_start_next`): bench L's previous slot gives 1,217 (1,043 within 1e-6 at the
# solver's duals), and the LP over them is near the next optimum (docs/engine.md).
CARRY_JPY = 0.5
_ROUNDS = 50


@dataclass
class Pairs:
    """The workload-site pairs that may be left out: continuous, unpinned pairs away from a
    home site, of workloads with a migration cost and no site choice (no_migration)."""

    of_triple: np.ndarray  # pair id per feasible triple, −1 where not in a leavable pair
    n: int
    migration_cost: np.ndarray  # JPY per CU moved, per pair
    key: np.ndarray  # workload index × sites + site index, per pair

    def named(self, snap: Snapshot, which: np.ndarray) -> frozenset[tuple[str, str]]:
        """(workload id, site id) of the pairs `which` (bool per pair)."""
        n_s = len(snap.sites)
        return frozenset(
            (snap.workloads[k // n_s].id, snap.sites[k % n_s].id) for k in self.key[which].tolist()
        )

    def of_names(self, snap: Snapshot, names: Iterable[tuple[str, str]]) -> np.ndarray:
        """Bool per pair: named in `names` (unknown names are ignored)."""
        workload = {w.id: j for j, w in enumerate(snap.workloads)}
        site = {x.id: s for s, x in enumerate(snap.sites)}
        n_s = len(snap.sites)
        keys = [workload[w] * n_s + site[x] for w, x in names if w in workload and x in site]
        return np.isin(self.key, np.array(keys, dtype=np.int64))

    def left_out(self, included: np.ndarray) -> np.ndarray:
        """Bool per triple: in a pair that is not included."""
        return (self.of_triple >= 0) & ~included[np.maximum(self.of_triple, 0)]


def leavable_pairs(snap: Snapshot, idx: Indexed, tri: Triples) -> Pairs:
    n_s = len(snap.sites)
    cost = np.array([w.migration_cost for w in snap.workloads], dtype=np.float64)
    no_migration = np.array([w.no_migration for w in snap.workloads], dtype=bool)
    home = idx.home[tri.j]
    candidate = (
        (cost[tri.j] > 0)
        & (home >= 0)
        & (tri.s != home)
        & (idx.unit[tri.j] == 1)
        & ~no_migration[tri.j]
    )
    key = tri.j * n_s + tri.s
    pinned_keys = np.unique(key[~np.isnan(tri.pinned)])
    candidate &= ~np.isin(key, pinned_keys)
    keys, inverse = np.unique(key[candidate], return_inverse=True)
    of_triple = np.full(len(tri), -1, dtype=np.int64)
    of_triple[candidate] = inverse
    return Pairs(of_triple=of_triple, n=len(keys), migration_cost=cost[keys // n_s], key=keys)


def surplus(pairs: Pairs, pricing: LeftOut, tri: Triples, y: np.ndarray) -> np.ndarray:
    """Per pair: its best block's earnings at duals y less its migration cost (JPY per CU);
    a pair may be left out where this is below −STRICT_JPY. `pricing` must hold every
    pair's columns (the model that leaves them all out)."""
    n_rows = pricing.matrix.shape[0]
    gain = -(pricing.cost - pricing.matrix.T @ y[:n_rows]) / pricing.unit
    pair = pairs.of_triple[pricing.triple]
    t = tri.t[pricing.triple]
    run_start = np.ones(len(pair), dtype=bool)
    run_start[1:] = (pair[1:] != pair[:-1]) | (t[1:] != t[:-1] + 1)
    best = np.full(pairs.n, -np.inf)
    bounds = np.append(np.nonzero(run_start)[0], len(pair))
    for a, b in itertools.pairwise(bounds.tolist()):
        prefix = np.cumsum(gain[a:b])
        low = np.minimum.accumulate(np.concatenate([[0.0], prefix[:-1]]))
        best_here = float(np.max(prefix - np.minimum(low, 0.0)))
        p = pair[a]
        if best_here > best[p]:
            best[p] = best_here
    return best - pairs.migration_cost


@dataclass
class Generation:
    """The restricted clearing LP and how it was reached."""

    pairs: Pairs
    pricing: LeftOut
    included: np.ndarray  # bool per pair
    model: Model
    solution: object  # the backend's Solution on `model`
    rounds: list[dict] = field(default_factory=list)

    def violated(self, tri: Triples, y: np.ndarray) -> np.ndarray:
        """Bool per pair: left out, but duals y do not prove it unprofitable."""
        return ~self.included & (surplus(self.pairs, self.pricing, tri, y) >= -STRICT_JPY)

    def stats(self) -> dict:
        return {
            "pairs": self.pairs.n,
            "included": int(self.included.sum()),
            "migration_rows": self.model.n_m,
            "rounds": self.rounds,
        }


def _penalised(model: Model, pairs: Pairs, flagged: np.ndarray) -> Model:
    """`model` with the flagged pairs' migration rows dropped (made free, m fixed at 0)
    and their full migration cost charged on every interval instead — a cheap LP whose
    duals say which pairs may pay better than those of the LP without any."""
    cost = model.cost.copy()
    col_hi = model.col_hi.copy()
    row_hi = model.row_hi.copy()
    x_trip = _x_triples(model)
    in_flagged = flagged[np.maximum(pairs.of_triple[x_trip], 0)] & (pairs.of_triple[x_trip] >= 0)
    cost[: model.n_x][in_flagged] += (
        pairs.migration_cost[pairs.of_triple[x_trip[in_flagged]]] * model.unit[in_flagged]
    )
    col_hi[model.n_x : model.n_x + model.n_m] = 0.0
    row_hi[model.mig_row0 : model.mig_row0 + model.n_m] = np.inf
    return replace(model, cost=cost, col_hi=col_hi, row_hi=row_hi)


def _x_triples(model: Model) -> np.ndarray:
    """The triple of each x column."""
    cols = model.tri_col
    out = np.empty(model.n_x, dtype=np.int64)
    mask = cols >= 0
    out[cols[mask]] = np.nonzero(mask)[0]
    return out


def carried(old: Model, new: Model) -> tuple[np.ndarray, np.ndarray]:
    """(new column of each old column, new row of each old row), for `new` a model of the
    same snapshot with more pairs: only x, m and migration rows differ between them."""
    old_trip, new_trip = _x_triples(old), _x_triples(new)
    col = np.empty(old.n_col, dtype=np.int64)
    row = np.empty(old.n_row, dtype=np.int64)
    col[: old.n_x] = new.tri_col[old_trip]
    # m columns and migration rows, keyed by their x column's triple.
    m_of_triple = np.full(len(new.tri_col), -1, dtype=np.int64)
    m_of_triple[new_trip[new.mig_x]] = np.arange(new.n_m)
    m_new = m_of_triple[old_trip[old.mig_x]]
    col[old.n_x : old.n_x + old.n_m] = new.n_x + m_new
    tail_old, tail_new = old.n_x + old.n_m, new.n_x + new.n_m
    col[tail_old:] = np.arange(tail_new, new.n_col)
    row[: old.mig_row0] = np.arange(old.mig_row0)
    row[old.mig_row0 : old.mig_row0 + old.n_m] = new.mig_row0 + m_new
    row[old.mig_row0 + old.n_m :] = np.arange(new.mig_row0 + new.n_m, new.n_row)
    return col, row


def mapped_basis(old: Model, new: Model, col_status: np.ndarray, row_status: np.ndarray):
    """The basis of `old` carried to `new` (`carried`): the added pairs' columns nonbasic at
    0 and their migration rows basic, so the basis stays primal feasible, and square."""
    col, row = carried(old, new)
    cs = np.full(new.n_col, LOWER, dtype=np.int8)
    rs = np.full(new.n_row, BASIC, dtype=np.int8)
    cs[col] = col_status
    rs[row] = row_status
    return cs, rs


def _move_duals(gen: Generation, model: Model, tri: Triples, added: np.ndarray, y) -> None:
    """Set the added pairs' migration-row duals in y (of `model`) to the extension that
    proves them unprofitable: μ_t = the best block from t on (≥ 0), so that every x column's
    reduced cost stays ≥ 0 and every m column's (cost − μ_t) > 0 — y stays an optimal dual,
    certified by the dual bound (the fallback's "solver duals" too)."""
    pricing = gen.pricing
    n = pricing.matrix.shape[0]
    gain = np.full(len(tri), np.nan)
    gain[pricing.triple] = -(pricing.cost - pricing.matrix.T @ y[:n]) / pricing.unit
    trip = _x_triples(model)[model.mig_x]
    pair = gen.pairs.of_triple[trip]
    rows = np.nonzero((pair >= 0) & added[np.maximum(pair, 0)])[0]
    mu_next, last = 0.0, None
    for k in rows[::-1]:  # backwards: runs of one pair, consecutive intervals
        if last is None or pair[k] != pair[last] or tri.t[trip[k]] + 1 != tri.t[trip[last]]:
            mu_next = 0.0
        mu = max(0.0, gain[trip[k]] + mu_next)
        y[model.mig_row0 + k] = -mu  # HiGHS sign: a ≤ row's dual is ≤ 0
        mu_next, last = mu, k


def extended(
    gen: Generation,
    snap,
    idx,
    tri,
    *,
    aggregate: bool,
    add: np.ndarray,
    values: np.ndarray | None,
    kind: str = "added for the prices",
):
    """`gen` with pairs `add` in its model but not re-solved: where the solver's duals have
    already proved those pairs strictly unprofitable (every generation ends so), its optimum
    and optimal allocations are the whole LP's, with them at 0. Only the price rule, whose
    selection may leave the whole LP's dual face, needs them. Returns (the generation, the
    allocation `values` carried over, None without)."""
    included = gen.included | add
    model = build(snap, idx, tri, aggregate=aggregate, left_out=gen.pairs.left_out(included))
    col, row = carried(gen.model, model)
    old = gen.solution
    cs, rs = mapped_basis(gen.model, model, old.col_status, old.row_status)
    x = np.zeros(model.n_col)
    x[col] = old.values
    y = np.zeros(model.n_row)
    y[row] = old.row_dual
    _move_duals(gen, model, tri, included & ~gen.included, y)
    alloc = None
    if values is not None:
        alloc = np.zeros(model.n_col)
        alloc[col] = values
    sol = replace(old, values=x, row_dual=y, col_status=cs, row_status=rs, session=None)
    rounds = [*gen.rounds, {"kind": kind, "pairs": int(add.sum())}]
    return Generation(gen.pairs, gen.pricing, included, model, sol, rounds), alloc


def generate(
    snap: Snapshot,
    idx: Indexed,
    tri: Triples,
    *,
    aggregate: bool,
    session: Callable[[Model, dict | None], object],
    pairs: Pairs,
    start: Generation | None = None,
    add: np.ndarray | None = None,
    first: np.ndarray | None = None,
) -> Generation:
    """Solve the clearing LP over the pairs that may pay (module docstring). `session(model,
    options)` opens the backend's session (options None: the size rule's). With `start`
    (a finished generation) and `add` (pairs to include), it goes on from there. With
    `first` (bool per pair, e.g. the previous rolling run's pairs worth their cost), the
    first exact LP is over those, without the two cheap LPs that flag pairs."""
    started = time.perf_counter()
    rounds: list[dict] = []
    if start is None and first is not None:
        model0 = build(
            snap, idx, tri, aggregate=aggregate, left_out=pairs.left_out(np.zeros(pairs.n, bool))
        )
        pricing = model0.left_out
        del model0
        release_freed_memory()
        included, previous = first.copy(), None
        rounds.append({"kind": "given", "pairs": int(included.sum())})
    elif start is None:
        model0 = build(
            snap, idx, tri, aggregate=aggregate, left_out=pairs.left_out(np.zeros(pairs.n, bool))
        )
        pricing = model0.left_out
        sol0 = session(model0, {"solver": "simplex"}).solve()
        if sol0.status != "optimal":
            return Generation(pairs, pricing, np.zeros(pairs.n, bool), model0, sol0, rounds)
        flagged = surplus(pairs, pricing, tri, sol0.row_dual) >= -STRICT_JPY
        rounds.append(_round("without pairs", 0, model0, sol0, started, int(flagged.sum())))
        del model0, sol0
        release_freed_memory()
        t0 = time.perf_counter()
        model_f = build(snap, idx, tri, aggregate=aggregate, left_out=pairs.left_out(flagged))
        penal = _penalised(model_f, pairs, flagged)
        sol_p = session(penal, {"solver": "simplex"}).solve()
        if sol_p.status != "optimal":
            return Generation(pairs, pricing, flagged, model_f, sol_p, rounds)
        included = surplus(pairs, pricing, tri, sol_p.row_dual) >= -STRICT_JPY
        rounds.append(
            _round(
                "charged per interval", int(flagged.sum()), penal, sol_p, t0, int(included.sum())
            )
        )
        del penal, model_f
        release_freed_memory()
        previous = None
    else:
        pricing, included = start.pricing, start.included | add
        previous = start
    while True:
        t0 = time.perf_counter()
        model = build(snap, idx, tri, aggregate=aggregate, left_out=pairs.left_out(included))
        if previous is None:
            sess = session(model, None)
        else:
            sol_prev = previous.solution
            sol_prev.session = None  # its HiGHS instance: one LP of this size alive at a time
            release_freed_memory()
            sess = session(model, {"solver": "simplex"})
            if hasattr(sess, "start_from") and sol_prev.col_status is not None:
                sess.start_from(
                    *mapped_basis(previous.model, model, sol_prev.col_status, sol_prev.row_status)
                )
        sol = sess.solve()
        gen = Generation(pairs, pricing, included, model, sol, rounds)
        if sol.status != "optimal":
            return gen  # the caller handles time limits and failures
        more = gen.violated(tri, sol.row_dual)
        rounds.append(_round("exact", int(included.sum()), model, sol, t0, int(more.sum())))
        if not more.any():
            logger.info(
                "pair generation: %d of %d pairs in %.2f s, %d rounds",
                included.sum(),
                pairs.n,
                time.perf_counter() - started,
                len(rounds),
            )
            return gen
        # Past the round cap, every pair goes in: the whole LP, hot, proves itself.
        included = included | more if len(rounds) < _ROUNDS else np.ones(pairs.n, dtype=bool)
        previous = gen


def _round(kind: str, pairs_in: int, model: Model, sol, t0: float, flagged: int) -> dict:
    return {
        "kind": kind,
        "pairs": pairs_in,
        "rows": model.n_row,
        "columns": model.n_col,
        "seconds": round(time.perf_counter() - t0, 3),
        "flagged": flagged,
        "solver": sol.solver,
    }
