"""The price rule (price_rule.py): one price vector whatever the solver path, the least
uplift any optimal dual vector allows, and prices that still certify the optimum."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from aggregator.engine import SolveOptions, highs_solver, parse_snapshot, price_rule, solve
from aggregator.engine.face import build_face
from aggregator.engine.feasibility import feasible_triples, index
from aggregator.engine.mip import solve_mip
from aggregator.engine.model import build
from aggregator.engine.price_rule import select
from aggregator.engine.pricing import dual_bound
from tests.engine.builders import scenario
from tests.engine.checks import check_bids_after_uplift, check_constraints
from tests.engine.generators import snapshots

# Other exact routes to an optimal vertex (each a different vertex on degenerate markets).
PATHS = {
    "primal simplex": {"solver": "simplex", "simplex_strategy": 4},
    "ipm + crossover": {"solver": "ipm", "run_crossover": "on"},
    "ipm, crossover on demand": {"solver": "ipm", "run_crossover": "off"},
}


def _prices(result) -> dict:
    out = {("c", p["site"], p["interval"]): p["jpy_per_cu_h"] for p in result.prices["compute"]}
    for p in result.prices["energy"]:
        for key in ("jpy_per_kwh", "supplier_jpy_per_kwh", "cap_rent_jpy_per_kwh"):
            out[(key, p["area"], p["interval"])] = p[key]
    return out


def assert_same_clearing(a, b) -> None:
    """Identical allocations; prices equal to the published rounding (a price exactly on a
    rounding boundary may flip by one unit of the last decimal)."""
    assert a.allocations == b.allocations
    assert a.capacity == b.capacity and a.energy == b.energy
    pa, pb = _prices(a), _prices(b)
    assert pa.keys() == pb.keys()
    worst = max((abs(pa[k] - pb[k]) for k in pa), default=0.0)
    assert worst <= 1e-4 + 1e-9, worst


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(snapshots(allow_gang=False))
def test_every_solver_path_publishes_the_same_prices_and_allocations(doc):
    reference = solve(doc, SolveOptions(baselines=False))
    assert reference.status == "optimal"
    assert reference.stats["dual_bound_gap"] < 1e-7
    for options in PATHS.values():
        other = solve(doc, SolveOptions(baselines=False, lp_options=options))
        assert other.stats["dual_bound_gap"] < 1e-7
        assert_same_clearing(reference, other)


def _lp_uplift(face, y: np.ndarray) -> float:
    """Firm uplift at duals y, as the face measures it (before the prices are rounded)."""
    if not face.n_u:
        return 0.0
    rows = face.matrix[-face.n_u :, : face.n_y]
    return float(np.sum(np.maximum(0.0, face.row_lo[-face.n_u :] - rows @ y)))


def _fix_and_price_vertices(doc):
    """The fix-and-price LP of a gang market and the optimal vertices solvers reach on it."""
    snap = parse_snapshot(doc)
    idx = index(snap)
    tri = feasible_triples(snap, idx)
    model = build(snap, idx, tri)
    outcome = solve_mip(
        model, lp_options={"solver": "simplex"}, time_limit_s=10, rel_gap=1e-4, exact_limit=2000
    )
    fixed = outcome.priced_model
    vertices = [outcome.priced]
    for options in ({"solver": "simplex"}, *PATHS.values()):
        vertices.append(highs_solver.DirectLp(fixed, options).solve())
    return snap, idx, tri, fixed, vertices


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(snapshots(allow_gang=True))
def test_selected_uplift_is_the_least_of_any_optimal_price_vector(doc):
    snap, idx, tri, fixed, vertices = _fix_and_price_vertices(doc)
    first = vertices[0]
    face = build_face(snap, idx, tri, fixed, first.values, first.col_status, first.row_status)
    selected = select(face)
    assert abs(dual_bound(fixed, selected.y) - first.objective) <= 1e-7 * max(
        1.0, abs(first.objective)
    )
    least = _lp_uplift(face, selected.y)
    for vertex in vertices:
        assert vertex.status == "optimal"
        # Every vertex's duals are optimal for the same fixed LP, so on the same face.
        assert least <= _lp_uplift(face, vertex.row_dual) + 1e-6


def test_kyushu_curtailment_pays_no_uplift_whichever_vertex():
    # The example: priced from the hot-started basis this market owed 0 JPY, from a
    # cold simplex or interior point 86,376 JPY; the rule selects the least.
    doc = scenario("kyushu-curtailment")
    result = solve(doc)
    assert result.uplift == []
    assert result.settlement["uplift_jpy"] == 0
    check_constraints(doc, result)
    check_bids_after_uplift(doc, result)


def test_prices_report_how_they_were_selected():
    result = solve(scenario("bench-s"), SolveOptions(baselines=False))
    rule = result.stats["price_rule"]
    assert rule["face_lps"] >= 2  # stages B and C at least (A only with fixed columns)
    assert rule["lexicographic_components"] >= 0
    assert result.stats["dual_bound_gap"] < 1e-9
    assert "uplift_horizon_jpy" in result.settlement


@pytest.mark.parametrize("name", ["pair-small", "bench-s"])
def test_shared_scenarios_publish_the_same_bytes_on_every_path(name):
    doc = scenario(name)
    reference = solve(doc, SolveOptions(baselines=False))
    for options in PATHS.values():
        other = solve(doc, SolveOptions(baselines=False, lp_options=options))
        assert other.deterministic_bytes() == reference.deterministic_bytes()


def _per_direction_moving(lp, candidates, cost, cs, rs) -> np.ndarray:
    """The components some zero-reduced-cost direction touches, each direction's tableau
    column solved on its own (how `moving` first found them): the reference for its one
    combined solve."""
    sol = lp.h.getSolution()
    tol = price_rule._REDUCED_COST_TOL * max(1.0, float(np.max(np.abs(cost), initial=0.0)))
    free_col = (cs != 1) & (np.abs(np.asarray(sol.col_dual)) <= tol) & (lp.lo < lp.hi)
    free_row = (rs != 1) & (np.abs(np.asarray(sol.row_dual)) <= tol) & (lp.row_lo < lp.row_hi)
    out = np.zeros(lp.face.n_col, dtype=bool)
    out[candidates[free_col[candidates]]] = True
    _, basic = lp.h.getBasicVariables()
    basic = np.asarray(basic)
    touched = np.zeros(len(basic), dtype=bool)
    for z in np.nonzero(free_col)[0]:
        _, column = lp.h.getReducedColumn(int(z))
        touched |= np.abs(np.asarray(column)) > price_rule._TABLEAU_TOL
    for r in np.nonzero(free_row)[0]:
        e = np.zeros(len(basic))
        e[r] = 1.0
        _, column = lp.h.getBasisSolve(e)
        touched |= np.abs(np.asarray(column)) > price_rule._TABLEAU_TOL
    hit = basic[touched & (basic >= 0)]
    out[hit] = True
    return candidates[out[candidates]]


def _moving_both_ways(face):
    """Stages A–C on `face`, then the moving components by `moving` and by the reference."""
    lp = price_rule._FaceLp(face, None)
    n = face.n_col
    if face.n_u:
        cost = np.zeros(n)
        cost[face.n_y :] = 1.0
        lp.minimise(cost)
        lp.fix_to_optimal_face(cost)
    price = face.price_y()
    cost = np.zeros(n)
    cost[price] = -face.buyer_load[price]
    lp.minimise(cost)
    lp.fix_to_optimal_face(cost)
    cost = np.zeros(n)
    cost[face.cap_y] = -1.0 / face.hours
    cost[face.area_cap_y] = -1.0
    lp.minimise(cost)
    cs, rs = lp.fix_to_optimal_face(cost)
    return lp.moving(price, cost, cs, rs), _per_direction_moving(lp, price, cost, cs, rs)


def _lp_face(doc):
    snap = parse_snapshot(doc)
    idx = index(snap)
    tri = feasible_triples(snap, idx)
    model = build(snap, idx, tri)
    vertex = highs_solver.DirectLp(model, {"solver": "simplex"}).solve()
    return build_face(snap, idx, tri, model, vertex.values, vertex.col_status, vertex.row_status)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(snapshots(allow_gang=True))
def test_one_combined_solve_finds_every_component_a_direction_touches(doc):
    # `moving` finds the basic entries the face's free directions touch from one solve with
    # B over a random combination of the directions. Every component a direction touches
    # (each solved on its own) must be among them, or stage D would skip a component that
    # can still move; and no more, here, or stage D would run LPs it need not.
    snap, idx, tri, fixed, vertices = _fix_and_price_vertices(doc)
    first = vertices[0]
    face = build_face(snap, idx, tri, fixed, first.values, first.col_status, first.row_status)
    combined, reference = _moving_both_ways(face)
    np.testing.assert_array_equal(combined, reference)


@pytest.mark.parametrize("name", ["pair-small", "bench-s"])
def test_combined_solve_finds_the_moving_components_of_the_shared_scenarios(name):
    combined, reference = _moving_both_ways(_lp_face(scenario(name)))
    np.testing.assert_array_equal(combined, reference)
    if name == "bench-s":
        assert len(reference) > 0  # bench S's stage D has components to decide


def _select_on_the_whole_face(face):
    """Stage D run on the whole face LP (as before the group restriction)."""
    with pytest.MonkeyPatch.context() as m:
        m.setattr(price_rule._FaceLp, "block", lambda self, *args: None)
        return select(face)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(snapshots(allow_gang=True))
def test_stage_d_on_the_moving_group_selects_what_the_whole_face_selects(doc):
    # Stage D runs on the group of the face that its components can move, everything else
    # held at its value: the published components must come out as on the whole face LP,
    # and the assembled dual vector must still certify the optimum.
    snap, idx, tri, fixed, vertices = _fix_and_price_vertices(doc)
    first = vertices[0]
    face = build_face(snap, idx, tri, fixed, first.values, first.col_status, first.row_status)
    whole = _select_on_the_whole_face(face)
    grouped = select(face)
    price = face.price_y()
    np.testing.assert_allclose(grouped.y[price], whole.y[price], rtol=0, atol=1e-9)
    assert abs(dual_bound(fixed, grouped.y) - first.objective) <= 1e-7 * max(
        1.0, abs(first.objective)
    )
    assert _lp_uplift(face, grouped.y) <= _lp_uplift(face, whole.y) + 1e-6


def test_bench_s_stage_d_runs_on_a_smaller_lp_and_publishes_the_same_bytes():
    doc = scenario("bench-s")
    face = _lp_face(doc)
    lp = price_rule._FaceLp(face, None)
    price = face.price_y()
    cost = np.zeros(face.n_col)
    cost[price] = -face.buyer_load[price]
    lp.minimise(cost)
    lp.fix_to_optimal_face(cost)
    cost = np.zeros(face.n_col)
    cost[face.cap_y] = -1.0 / face.hours
    cost[face.area_cap_y] = -1.0
    lp.minimise(cost)
    cs, rs = lp.fix_to_optimal_face(cost)
    moving = lp.moving(price, cost, cs, rs)
    keep_col, _ = lp.block(moving, cost, cs, rs)
    assert np.all(keep_col[moving])  # every component stage D decides is in the group
    assert 0 < keep_col.sum() < face.n_col  # and the group is smaller than the face
    reference = solve(doc, SolveOptions(baselines=False))
    with pytest.MonkeyPatch.context() as m:
        m.setattr(price_rule._FaceLp, "block", lambda self, *args: None)
        whole = solve(doc, SolveOptions(baselines=False))
    assert reference.deterministic_bytes() == whole.deterministic_bytes()
    assert reference.stats["dual_bound_gap"] < 1e-9


def test_stage_d_falls_back_to_the_whole_face_if_the_group_lp_fails(caplog):
    face = _lp_face(scenario("bench-s"))
    whole = _select_on_the_whole_face(face)

    def refuse(*args):
        raise price_rule.SelectionError("face LP: kSolveError")

    with pytest.MonkeyPatch.context() as m:
        m.setattr(price_rule, "_restricted", refuse)
        fallen_back = select(face)
    assert "on the whole face" in caplog.text
    np.testing.assert_array_equal(fallen_back.y, whole.y)
