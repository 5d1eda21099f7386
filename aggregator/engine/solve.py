"""`solve(snapshot)`: build, solve, price, settle and compare with the baselines."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from aggregator.engine import backends, migration_pairs, price_rule, pricing
from aggregator.engine.baselines import baseline_welfare
from aggregator.engine.canonical import (
    CU_DECIMALS,
    JPY_DECIMALS,
    PRICE_DECIMALS,
    rounded,
)
from aggregator.engine.face import build_face
from aggregator.engine.fallback import DEFAULT_RESERVE, describe, greedy_fixed_model
from aggregator.engine.feasibility import Indexed, feasible_triples, index
from aggregator.engine.highs_solver import release_freed_memory
from aggregator.engine.mip import solve_mip
from aggregator.engine.model import Model, build
from aggregator.engine.parse import parse_snapshot
from aggregator.engine.polish import polish
from aggregator.engine.publish import publish
from aggregator.engine.result import Result
from aggregator.engine.settlement import Cleared, settle
from aggregator.engine.snapshot import Snapshot

# Bumped whenever the same snapshot could clear differently (model, tie-break, solver rule,
# pricing); recorded in every result's stats so a replay can tell a changed engine from a
# changed record. 2: inference classes aggregated (ties within a class now go by id).
# 3: an interior point that postsolve cannot confirm is crossed over to a vertex (it used to
# end the clearing "unknown" with nothing allocated).
# 4: several capacity offers at a site are price steps (they used to be refused); results
# are rounded feasibly (publish.py): an allocation that rounded past a capacity, demand,
# max_cu, remaining-work or area-cap limit (by 1e-6) is now reduced to fit, so it differs.
# 5: prices follow the published rule over the optimal dual face (price_rule.py: least
# uplift, least paid by buyers, least shadow prices, then lexicographically least) instead
# of whichever optimal vertex HiGHS stopped at; the tie-break is hashed per placement
# (tiebreak.py), so exact ties resolve the same for every solver; large LPs cross over to a
# vertex; idle areas under a 0 kW cap are priced at their first kWh too; `uplift` covers the
# firm intervals only (what settlement pays); `no_migration` is modelled (it was ignored:
# such a workload could move between sites), in the greedy baseline too.
# 6: the LP's cost carries no tie-break (it slowed bench L's crossover 2×): the allocation
# rule alone picks among optimal allocations (polish.py, same weights); batch workloads with
# one site set and no migration cost are aggregated into classes like inference; prices
# are snapped to 9 decimals before the published 4 (a half no longer rounds by solver noise).
ENGINE_VERSION = 6


logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SolveOptions:
    """Solver settings; the defaults are what a clearing run uses (and what replay uses)."""

    # None: choose by size (measured, docs/engine.md): the interior point (with crossover)
    # from `ipm_from_columns` columns *and* `ipm_from_rows` rows, the dual simplex below
    # either. Rows are the simplex's basis: the migration-free national market (310 k
    # columns, 34 k rows) solves in 10-13 s by the dual simplex against 31 s by the
    # interior point, bench L (777 k × 344 k) in 297 s by the interior point, 658 s by
    # the simplex. Pair generation's exact LPs at L put the switch between 104 k rows
    # (297 k columns: simplex 45.1 s, interior point 55.2 s) and 164 k (417 k: interior
    # point 122–136 s, simplex 252.6 s).
    lp_options: dict[str, Any] | None = None
    ipm_from_columns: int = 20_000
    ipm_from_rows: int = 120_000
    mip_time_limit_s: float = 30.0
    mip_rel_gap: float = 1e-4
    mip_exact_limit: int = 20_000  # integer columns above which only the heuristic runs
    baselines: bool = True
    # Aggregate interchangeable inference workloads into classes (exact; `classes.py`).
    aggregate: bool = True
    # The backend that solves the clearing LP (`backends.py`; `python -m aggregator.engine
    # solvers` lists them). Every backend publishes the same result (the price rule);
    # `lp_options` apply to `highs` only.
    solver: str = backends.DEFAULT
    # Wall-clock seconds the whole clearing may take (None: no limit). The exact solve gets
    # it less `fallback_reserve_s` (default: a quarter of it); if it cannot finish, the
    # documented fallback is published and flagged (`fallback.py`, result `fallback`).
    time_budget_s: float | None = None
    fallback_reserve_s: float | None = None
    # Skip the exact solve and publish the fallback directly: how a replay reproduces a run
    # that fell back (its result's `fallback.allocation` is "greedy"); deterministic.
    force_fallback: bool = False
    # Solve the LP over the workload-site pairs that may pay their migration cost, and prove
    # the rest cannot (`migration_pairs.py`; the same result, faster at national scale).
    # None: from `pair_generation_from` leavable placements, on LP markets.
    pair_generation: bool | None = None
    pair_generation_from: int = migration_pairs.DEFAULT_FROM_ROWS
    # Left-out pairs within this of paying at the solver's duals (JPY per CU) go into the
    # model before the price rule; the time only changes. None: `migration_pairs.NEAR_JPY`
    # from a cold start, 0 from a `pair_start`, which already holds the pairs the previous
    # run's prices needed (bench L rolling: 80.1 s at 0, 84.5 s at 1, 87.8 s at 3 JPY).
    pair_margin_jpy: float | None = None
    # The pairs to solve the first exact LP over — the previous rolling run's
    # `Result.pair_start_next`, (workload id, site id) — instead of the pairs two cheap LPs
    # flag; unknown names are ignored. The time only changes, never the result.
    pair_start: frozenset[tuple[str, str]] | None = None


def as_snapshot(source: Snapshot | str | bytes | Path | Mapping[str, Any]) -> Snapshot:
    return source if isinstance(source, Snapshot) else parse_snapshot(source)


def solve(
    source: Snapshot | str | bytes | Path | Mapping[str, Any],
    options: SolveOptions | None = None,
) -> Result:
    """Clear one snapshot. Raises SnapshotError on bad input; never on an infeasible model.
    With a time budget it always returns in about that time: the exact clearing if it
    finished, else the documented fallback (`fallback.py`), flagged in `result.fallback`."""
    opts = options or SolveOptions()
    snap = as_snapshot(source)
    started = time.perf_counter()
    clock = _Clock(started, opts)
    idx = index(snap)
    tri = feasible_triples(snap, idx)
    backend = backends.get(opts.solver)
    pairs = _leavable_pairs(snap, idx, tri, opts)
    if pairs is not None:
        return _solve_with_pairs(snap, idx, tri, pairs, backend, opts, clock, started)
    model = build(snap, idx, tri, aggregate=opts.aggregate)
    build_s = time.perf_counter() - started

    lp_options = opts.lp_options or _lp_options(model, opts)
    stats = _stats_before_solving(snap, tri, model, backend, lp_options, build_s, opts)
    if opts.force_fallback:
        status, priced, priced_model = "time_limit", None, model
    else:
        status, priced, priced_model = _solve_exact(model, backend, lp_options, opts, clock, stats)
    return _finish(
        snap, idx, tri, model, priced, priced_model, status, backend, opts, clock, stats, started
    )


def _finish(
    snap,
    idx,
    tri,
    model,
    priced,
    priced_model,
    status,
    backend,
    opts,
    clock,
    stats,
    started,
    generation=None,
    polished=None,
):
    """From the exact solve (or its failure) to the published result: the fallback where
    the budget ran out, the allocation rule, the price rule, publishing."""
    allocation = "optimal"
    if status == "time_limit" and (clock.deadline is not None or opts.force_fallback):
        if generation is not None:  # the greedy allocation needs every placement's column
            model = build(snap, idx, tri, aggregate=opts.aggregate)
        status, priced, priced_model = _greedy_fallback(snap, idx, tri, model, backend, stats)
        allocation = "greedy"
    if status not in ("optimal", "feasible") or priced is None or priced.status != "optimal":
        return _empty_result(snap, idx, status, stats, opts)
    # The solver's instance is done with: free it before the polish and the face LP build
    # instances of the same size (bench L: 2.6 GiB peak with all three alive, v5 first cut).
    priced.session = None
    release_freed_memory()
    t0 = time.perf_counter()
    if polished is None:
        values = polish(
            priced_model, priced, time_limit_s=None if allocation == "greedy" else clock.left()
        ).values
        release_freed_memory()
        stats["polish_s"] = round(time.perf_counter() - t0, 4)
    else:
        values = polished
    t0 = time.perf_counter()
    face = build_face(
        snap,
        idx,
        tri,
        priced_model,
        priced.values,
        priced.col_status,
        priced.row_status,
        allocation=values,
    )
    stats["face_s"] = round(time.perf_counter() - t0, 4)
    y, price_source = _select_prices(face, priced, allocation, clock, stats, snap.run_id)
    worth_at_prices = None
    if generation is not None and allocation == "optimal" and price_source == "price_rule":
        gain = migration_pairs.surplus(generation.pairs, generation.pricing, tri, y)
        more = ~generation.included & (gain >= -migration_pairs.STRICT_JPY)
        if more.any():
            return _RedoWith(more, values)
        worth_at_prices = generation.pairs.named(snap, gain >= -migration_pairs.CARRY_JPY)
    prices = pricing.from_duals(snap, idx, model, y)
    bound = pricing.dual_bound(priced_model, y)
    stats["dual_bound_gap"] = abs(bound - priced.objective) / max(1.0, abs(priced.objective))
    result = _assemble(snap, idx, tri, model, values, prices, status, stats, opts, clock)
    result.pair_start_next = worth_at_prices
    if (allocation, price_source) != ("optimal", "price_rule"):
        result.extra["fallback"] = describe(
            allocation, price_source, opts.time_budget_s, time.perf_counter() - started
        )
        if opts.force_fallback:
            result.extra["fallback"]["reason"] = "forced"
    return result


class _RedoWith:
    """The selected prices would make these left-out pairs pay: put them in the model (at 0:
    the solver's duals proved them unprofitable) and select the prices again."""

    def __init__(self, pairs: np.ndarray, values: np.ndarray) -> None:
        self.pairs = pairs
        self.values = values  # the allocation rule's optimum, which stays the same


def _leavable_pairs(snap, idx, tri, opts: SolveOptions):
    """The pairs to generate over, or None where the whole LP is solved (a MIP: its
    rounding is not certified by duals; too few placements to pay)."""
    if opts.pair_generation is False or opts.force_fallback or opts.lp_options is not None:
        return None
    if (idx.unit > 1).any() or any(w.no_migration for w in snap.workloads):
        return None
    pairs = migration_pairs.leavable_pairs(snap, idx, tri)
    if pairs.n == 0:
        return None
    if opts.pair_generation is None and (pairs.of_triple >= 0).sum() < opts.pair_generation_from:
        return None
    return pairs


def _solve_with_pairs(snap, idx, tri, pairs, backend, opts: SolveOptions, clock, started):
    """The exact clearing over the pairs that may pay (`migration_pairs.py`), published as
    the whole LP's; where the selected prices would make a left-out pair pay, that pair
    goes into the model without a re-solve (`migration_pairs.extended`) and the price rule
    selects again."""

    def session(model, options):
        chosen = options if options is not None else _lp_options(model, opts)
        return backend.session(model, chosen, clock.left(exact=True))

    t0 = time.perf_counter()
    first = None if opts.pair_start is None else pairs.of_names(snap, opts.pair_start)
    generation = migration_pairs.generate(
        snap, idx, tri, aggregate=opts.aggregate, session=session, pairs=pairs, first=first
    )
    solve_s = time.perf_counter() - t0
    carry_next = None
    if generation.solution.status == "optimal":
        gain = migration_pairs.surplus(pairs, generation.pricing, tri, generation.solution.row_dual)
        carry_next = pairs.named(snap, gain >= -migration_pairs.CARRY_JPY)
        margin = opts.pair_margin_jpy
        if margin is None:
            margin = migration_pairs.NEAR_JPY if opts.pair_start is None else 0.0
        near = ~generation.included & (gain >= -margin)
        if margin > 0 and near.any():
            generation, _ = migration_pairs.extended(
                generation, snap, idx, tri, aggregate=opts.aggregate, add=near, values=None,
                kind="near paying, for the prices",
            )  # fmt: skip
    polished = None
    carry: dict = {}
    while True:
        model, priced = generation.model, generation.solution
        stats = _stats_before_solving(
            snap, tri, model, backend, _lp_options(model, opts), 0.0, opts
        )
        stats["migration_pairs"] = generation.stats()
        solvers = [r["solver"] for r in generation.rounds if r["kind"] == "exact"]
        hot = " (hot rounds: the primal simplex)" if len(solvers) > 1 else ""
        stats["solver"] = f"{solvers[0] if solvers else priced.solver}{hot}; pair generation"
        stats["solve_s"] = round(solve_s, 4)
        stats.update(carry)
        out = _finish(
            snap, idx, tri, model, priced, model, priced.status, backend, opts, clock, stats,
            started, generation, polished,
        )  # fmt: skip
        if not isinstance(out, _RedoWith):
            # Worth their cost at the solver's duals or at the published prices: the next
            # run's rule needs the latter in its LP, or it selects twice.
            if carry_next is not None:
                out.pair_start_next = carry_next | (out.pair_start_next or frozenset())
            return out
        at_solver = migration_pairs.surplus(pairs, generation.pricing, tri, priced.row_dual)
        logger.info(
            "clearing %s: the selected prices would make %d left-out pairs pay (at the "
            "solver's duals they fell short by %.4g–%.4g JPY/CU); selecting again with them "
            "in the LP", snap.run_id, out.pairs.sum(), -at_solver[out.pairs].max(),
            -at_solver[out.pairs].min(),
        )  # fmt: skip
        release_freed_memory()  # the first selection's face LP (bench L: its peak)
        carry = {"polish_s": stats.get("polish_s"), "face_s": stats.get("face_s")}
        generation, polished = migration_pairs.extended(
            generation, snap, idx, tri, aggregate=opts.aggregate, add=out.pairs, values=out.values
        )
        generation.rounds[-1]["price_rule_s"] = stats["price_rule"]["seconds"]


def _stats_before_solving(snap, tri, model, backend, lp_options, build_s, opts) -> dict[str, Any]:
    """The result's stats as far as the model goes, logged: a national clearing solves for
    minutes, so the log says what is being solved, and how."""
    stats: dict[str, Any] = {
        "engine_version": ENGINE_VERSION,
        "backend": backend.name,
        "variables": model.n_col,
        "constraints": model.n_row,
        "nonzeros": int(model.matrix.nnz),
        "feasible_triples": len(tri),
        "integer_variables": int(model.integer.sum()),
        "build_s": round(build_s, 4),
        "mip_gap": None,
    }
    if opts.time_budget_s is not None:
        stats["time_budget_s"] = opts.time_budget_s
    logger.info(
        "clearing %s: %d triples, %d inference classes -> %d columns, %d rows, %d integer; "
        "built in %.2f s; solving with %s %s",
        snap.run_id,
        len(tri),
        model.classes.n_classes,
        model.n_col,
        model.n_row,
        stats["integer_variables"],
        build_s,
        backend.name,
        lp_options,
    )
    return stats


def _greedy_fallback(snap, idx, tri, model, backend, stats):
    """(status, priced solution, its model) of the greedy allocation around the pins, with
    every placement fixed: what is published when the exact solve ran out of its budget."""
    priced_model = greedy_fixed_model(snap, idx, tri, model)
    # No limit on this LP: with every placement fixed it is small, and a late result
    # beats none.
    priced = backend.session(priced_model, {"solver": "simplex"}, None).solve()
    status = "feasible" if priced.status == "optimal" else priced.status
    stats["solver"] = f"{priced.solver}; greedy allocation fixed"
    stats.setdefault("solve_s", 0.0)
    logger.warning("clearing %s: time budget spent, publishing the greedy allocation", snap.run_id)
    return status, priced, priced_model


def _select_prices(face, priced, allocation: str, clock: _Clock, stats, run_id: str):
    """(dual vector, its source): the price rule's selection on the face, or — where the
    budget ran out even for that — the solver's own optimal duals."""
    try:
        # The fallback's own face LPs have everything fixed (small): no limit, so that its
        # prices are the rule's and replay deterministically.
        limit = None if allocation == "greedy" else clock.left()
        selection = price_rule.select(face, time_limit_s=limit)
    except price_rule.SelectionError:
        if clock.deadline is None:
            raise
        # The solver's own optimal duals, idle rows at their first unit (the face's bounds).
        n_y = face.n_y
        logger.warning("clearing %s: time budget spent, prices from the solver", run_id)
        return np.clip(priced.row_dual, face.col_lo[:n_y], face.col_hi[:n_y]), "solver_duals"
    stats["price_rule"] = {
        "face_lps": selection.lp_solves,
        "iterations": selection.iterations,
        "lexicographic_components": selection.moving,
        "seconds": round(selection.seconds, 4),
    }
    return selection.y, "price_rule"


class _Clock:
    """The time budget: a deadline for everything, and an earlier one for the exact solve
    that leaves the fallback its reserve."""

    def __init__(self, started: float, opts: SolveOptions) -> None:
        self.deadline = self.exact_deadline = None
        if opts.time_budget_s is not None:
            reserve = opts.fallback_reserve_s
            if reserve is None:
                reserve = DEFAULT_RESERVE * opts.time_budget_s
            self.deadline = started + opts.time_budget_s
            self.exact_deadline = self.deadline - reserve

    def left(self, exact: bool = False) -> float | None:
        end = self.exact_deadline if exact else self.deadline
        return None if end is None else max(end - time.perf_counter(), 0.0)


def _solve_exact(model, backend, lp_options, opts, clock: _Clock, stats):
    """The exact clearing: (status, priced solution, the model it prices)."""
    if model.integer.any():
        outcome = solve_mip(
            model,
            backend=backend,
            lp_options=lp_options,
            time_limit_s=opts.mip_time_limit_s,
            rel_gap=opts.mip_rel_gap,
            exact_limit=opts.mip_exact_limit,
            deadline_s=clock.left(exact=True),
        )
        status, solve_s = outcome.status, outcome.solve_s
        stats["mip_gap"] = None if np.isnan(outcome.gap) else float(outcome.gap)
        stats["mip_method"] = outcome.method
        bound = outcome.lp_welfare  # NaN where the relaxation did not finish
        stats["lp_bound_jpy"] = None if np.isnan(bound) else rounded(bound, JPY_DECIMALS)
        priced, priced_model = outcome.priced, outcome.priced_model
        solver = outcome.method
        if priced is not None:
            solver = f"{priced.solver}; integers: {outcome.method}, fix-and-price"
    else:
        priced = backend.session(model, lp_options, clock.left(exact=True)).solve()
        priced_model = model
        status, solve_s, solver = priced.status, priced.solve_s, priced.solver
    stats["solver"] = solver
    stats["solve_s"] = round(solve_s, 4)
    logger.info("clearing: %s in %.2f s (%s)", status, solve_s, solver)
    return status, priced, priced_model


def _lp_options(model: Model, opts: SolveOptions) -> dict[str, Any]:
    """Measured (docs/engine.md): the dual simplex unless the LP is large in columns and in
    rows (its basis), the interior point with crossover there (the price rule and the
    allocation rule read the face from a vertex; a MIP's rounding and hot-started
    fix-and-price need a basis too)."""
    if model.n_col < opts.ipm_from_columns or model.n_row < opts.ipm_from_rows:
        return {"solver": "simplex"}
    return {"solver": "ipm", "run_crossover": "on"}


def _assemble(snap, idx: Indexed, tri, model: Model, values, prices, status, stats, opts, clock):
    pub = publish(snap, idx, tri, model, values)  # raises PublishError rather than oversell
    stats["publish_s"] = round(pub.seconds, 4)
    stats["repaired_rows"] = pub.repaired_rows
    stats["repaired_by_kind"] = pub.repaired
    j, s, t, cu = pub.j, pub.s, pub.t, pub.cu
    grid = pub.grid_kwh
    compute_p = _price_round(prices.compute)
    energy_p = _price_round(prices.energy)
    balance_p = _price_round(prices.balance)
    rent_p = _price_round(prices.cap_rent)
    cleared = Cleared(
        j=j,
        s=s,
        t=t,
        cu=cu,
        offer=pub.offer,
        offer_t=pub.offer_t,
        offer_kwh=pub.offer_kwh,
        grid_kwh=grid,
        capacity_cu=pub.capacity_cu,
        compute_price=compute_p,
        energy_price=energy_p,
        balance_price=balance_p,
        cap_rent=rent_p,
    )
    uplift, money = settle(snap, idx, cleared)
    welfare = -float(model.welfare_cost @ values)
    return Result(
        run_id=snap.run_id,
        input_sha256=snap.input_sha256,
        status=status,
        welfare_jpy=rounded(welfare, JPY_DECIMALS),
        allocations=_allocation_rows(snap, j, s, t, cu),
        energy=[
            {"offer": snap.energy_offers[o].id, "interval": int(tt), "kwh": rounded(v, 3)}
            for o, tt, v in zip(cleared.offer, cleared.offer_t, cleared.offer_kwh, strict=True)
        ],
        grid=[
            {"area": snap.areas[a].id, "interval": int(tt), "kwh": rounded(grid[a, tt], 3)}
            for a, tt in zip(*np.nonzero(grid > 0), strict=True)
        ],
        prices=_price_rows(snap, idx, compute_p, energy_p, balance_p, rent_p),
        uplift=uplift,
        baselines=_baselines(snap, idx, opts, clock, stats),
        stats=stats,
        settlement={k: rounded(v, JPY_DECIMALS) for k, v in money.items()},
        capacity=_capacity_rows(snap, pub.capacity_cu),
    )


def _price_round(values: np.ndarray) -> np.ndarray:
    """To the published 4 decimals, after snapping to 9: a price can sit exactly on a
    half (12.345 JPY/kWh × 0.91 kW = 11.23395), and solvers reach it only to ~1e-12, on
    either side — the snap makes every backend round the same number."""
    return np.round(np.round(values, 9), PRICE_DECIMALS)


def _capacity_rows(snap: Snapshot, sold: np.ndarray) -> list[dict[str, Any]]:
    """CU sold per capacity offer and interval (offers are in id order, so rows sort)."""
    return [
        {
            "offer": snap.capacity_offers[o].id,
            "interval": int(tt),
            "cu": rounded(sold[o, tt], CU_DECIMALS),
        }
        for o, tt in zip(*np.nonzero(sold > 0), strict=True)
    ]


def _allocation_rows(snap: Snapshot, j, s, t, cu) -> list[dict[str, Any]]:
    rows = [
        {
            "workload": snap.workloads[a].id,
            "site": snap.sites[b].id,
            "interval": int(c),
            "cu": rounded(d, CU_DECIMALS),
        }
        for a, b, c, d in zip(j, s, t, cu, strict=True)
    ]
    # Triples are already in (workload id, site id, interval) order.
    return rows


def _price_rows(snap, idx, compute_p, energy_p, balance_p, rent_p) -> dict[str, list[dict]]:
    compute = [
        {"site": snap.sites[a].id, "interval": int(b), "jpy_per_cu_h": rounded(compute_p[a, b], 4)}
        for a, b in zip(*np.nonzero(idx.offer_cu > 0), strict=True)
    ]
    energy = [
        {
            "area": area.id,
            "interval": tt,
            "jpy_per_kwh": rounded(energy_p[a, tt], 4),
            "supplier_jpy_per_kwh": rounded(balance_p[a, tt], 4),
            "cap_rent_jpy_per_kwh": rounded(rent_p[a, tt], 4),
        }
        for a, area in enumerate(snap.areas)
        for tt in range(snap.n_intervals)
    ]
    return {"compute": compute, "energy": energy}


def _baselines(
    snap: Snapshot, idx: Indexed, opts: SolveOptions, clock=None, stats=None
) -> dict[str, dict[str, float]]:
    if not opts.baselines:
        return {}
    if clock is not None and clock.deadline is not None and clock.left() <= 0:
        if stats is not None:
            stats["baselines_skipped"] = "time budget spent"
        return {}
    return {
        name: {"welfare_jpy": rounded(baseline_welfare(snap, idx, name)[1], JPY_DECIMALS)}
        for name in ("stay", "greedy")
    }


def _empty_result(snap, idx, status, stats, opts) -> Result:
    return Result(
        run_id=snap.run_id,
        input_sha256=snap.input_sha256,
        status=status,
        welfare_jpy=0.0,
        allocations=[],
        energy=[],
        grid=[],
        prices={"compute": [], "energy": []},
        uplift=[],
        baselines=_baselines(snap, idx, opts),
        stats=stats,
    )
