"""Pair generation is exact: clearing over the workload-site pairs that may pay their
migration cost publishes the same result, byte for byte, as clearing the whole LP."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aggregator.engine import SolveOptions, backends, parse_snapshot, solve
from aggregator.engine.face import BASIC
from aggregator.engine.feasibility import feasible_triples, index
from aggregator.engine.migration_pairs import (
    generate,
    leavable_pairs,
    mapped_basis,
    surplus,
)
from aggregator.engine.model import build
from tests.engine.builders import cap, document, site
from tests.engine.generators import snapshots

PROPS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
WHOLE = SolveOptions(pair_generation=False)
PAIRS = SolveOptions(pair_generation=True)
HIGHS = backends.get("highs")


def _ground(doc: dict):
    """(snapshot, index, feasible triples, leavable pairs) of a document."""
    snap = parse_snapshot(doc)
    idx = index(snap)
    tri = feasible_triples(snap, idx)
    return snap, idx, tri, leavable_pairs(snap, idx, tri)


def _session(model, options):
    """HiGHS, the dual simplex where `generate` leaves the choice to the size rule."""
    return HIGHS.session(model, options or {"solver": "simplex"}, None)


def _same(doc) -> None:
    whole = solve(doc, WHOLE)
    generated = solve(doc, PAIRS)
    assert generated.status == whole.status
    assert generated.deterministic_bytes() == whole.deterministic_bytes()
    if whole.status == "optimal":
        assert generated.stats["dual_bound_gap"] < 1e-7


@PROPS
@given(snapshots(allow_gang=False, movers=True))
def test_generated_and_whole_clearings_publish_the_same_bytes(doc):
    _same(doc)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_pairs_to_start_from_publish_the_same_bytes(data):
    """`pair_start` (the previous rolling run's pairs) changes the time only: whatever pairs
    it names — none, some, all, unknown ones — the result is the whole LP's."""
    doc = data.draw(snapshots(allow_gang=False, movers=True))
    names = [(w["id"], x["id"]) for w in doc["workloads"] for x in doc["sites"]]
    start = data.draw(st.sets(st.sampled_from([*names, ("nobody", "nowhere")])))
    whole = solve(doc, WHOLE)
    started = solve(doc, SolveOptions(pair_generation=True, pair_start=frozenset(start)))
    assert started.status == whole.status
    assert started.deterministic_bytes() == whole.deterministic_bytes()


def _movers_doc(move_cost: float) -> dict:
    """Two batch workloads at home in tokyo, where energy is dear in the first two
    intervals; kansai is cheap then. Moving pays for a long enough block only."""

    def batch(wid, home):
        return {
            "id": wid,
            "kind": "batch",
            "accelerator": "h100",
            "remaining_cu_intervals": 24,
            "earliest": 0,
            "deadline": 4,
            "max_cu": 6,
            "limit_price": 400,
            "residency": ["jp"],
            "migration_cost": move_cost,
            "home_site": home,
        }

    return document(
        areas=[
            {"id": "tokyo", "price": [60, 60, 10, 10], "carbon": 0, "cap_kw": None},
            {"id": "kansai", "price": [10, 10, 10, 10], "carbon": 0, "cap_kw": None},
        ],
        sites=[
            site("tky-1", "tokyo", latency={"tokyo": 2, "osaka": 9}),
            site("osk-1", "kansai", latency={"tokyo": 12, "osaka": 2}),
        ],
        capacity=[cap("tky-1", [6, 6, 6, 6], 100), cap("osk-1", [6, 6, 6, 6], 100)],
        workloads=[batch("b-1", "tky-1"), batch("b-2", "osk-1")],
        intervals=4,
    )


@pytest.mark.parametrize("move_cost", [0.5, 20.0, 29.9, 30.1, 200.0])
def test_markets_around_the_break_even_move_clear_the_same(move_cost):
    _same(_movers_doc(move_cost))


def test_surplus_is_the_best_block_less_the_move():
    """Checked against every block of every pair, priced with the whole model's columns."""
    snap, idx, tri, pairs = _ground(_movers_doc(5.0))
    assert pairs.n == 2  # each workload at the other's home
    model = build(snap, idx, tri, left_out=pairs.left_out(np.zeros(pairs.n, bool)))
    sol = HIGHS.session(model, {"solver": "simplex"}, None).solve()
    whole = build(snap, idx, tri)
    y = sol.row_dual[: model.mig_row0]
    a = whole.matrix[: model.mig_row0].tocsc()
    expected = []
    for p in range(pairs.n):
        cols = whole.tri_col[pairs.of_triple == p]  # intervals 0-3 in order
        gain = -(whole.cost[cols] - a[:, cols].T @ y) / whole.unit[cols]
        blocks = [gain[i:k].sum() for i in range(4) for k in range(i + 1, 5)]
        expected.append(max(blocks) - pairs.migration_cost[p])
    got = surplus(pairs, model.left_out, tri, sol.row_dual)
    assert got == pytest.approx(expected, abs=1e-9)
    # Tokyo's dear energy makes the move pay at these duals (home-only: kansai idle).
    assert got.max() > 0


def test_the_hot_started_round_reaches_the_whole_optimum():
    doc = _movers_doc(5.0)
    snap, idx, tri, pairs = _ground(doc)
    first = generate(snap, idx, tri, aggregate=True, session=_session, pairs=pairs)
    whole = HIGHS.session(build(snap, idx, tri), {"solver": "simplex"}, None).solve()
    assert first.solution.objective == pytest.approx(whole.objective, abs=1e-6)
    assert not first.violated(tri, first.solution.row_dual).any()
    # Adding every remaining pair, hot from the basis, keeps the optimum.
    rest = ~first.included
    if rest.any():
        more = generate(
            snap, idx, tri, aggregate=True, session=_session, pairs=pairs, start=first, add=rest
        )
        assert more.included.all()
        assert more.solution.objective == pytest.approx(whole.objective, abs=1e-6)


def test_a_mapped_basis_is_square_and_keeps_the_old_statuses():
    doc = _movers_doc(5.0)
    snap, idx, tri, pairs = _ground(doc)
    none = np.zeros(pairs.n, bool)
    old = build(snap, idx, tri, left_out=pairs.left_out(none))
    new = build(snap, idx, tri, left_out=pairs.left_out(~none))
    sol = HIGHS.session(old, {"solver": "simplex"}, None).solve()
    cs, rs = mapped_basis(old, new, sol.col_status, sol.row_status)
    assert (cs == BASIC).sum() + (rs == BASIC).sum() == new.n_row
    assert (sol.col_status == BASIC).sum() + (sol.row_status == BASIC).sum() == old.n_row
    assert new.n_m == old.n_m + 8 and new.n_row == old.n_row + 8


def test_rows_other_than_migration_are_the_same_in_every_model():
    snap, idx, tri, pairs = _ground(_movers_doc(5.0))
    whole = build(snap, idx, tri)
    restricted = build(snap, idx, tri, left_out=pairs.left_out(np.zeros(pairs.n, bool)))
    n = whole.mig_row0
    assert restricted.mig_row0 == n
    assert np.array_equal(whole.row_hi[:n], restricted.row_hi[:n])
    # The left-out columns priced through `left_out` are the whole model's own columns.
    cols = whole.tri_col[restricted.left_out.triple]
    assert (whole.matrix[:n, cols] != restricted.left_out.matrix).nnz == 0
    assert np.array_equal(whole.cost[cols], restricted.left_out.cost)


def test_leavable_pairs_skip_pinned_pairs_and_home_sites():
    doc = _movers_doc(5.0)
    doc["fixed"] = [{"workload": "b-1", "site": "osk-1", "interval": 0, "cu": 2}]
    doc["firm_intervals"] = 1
    *_, pairs = _ground(doc)
    assert pairs.n == 1  # b-1 at osk-1 is pinned; b-2 at tky-1 is left
    assert (pairs.of_triple >= 0).sum() == 4  # its four intervals


def _national(seed: int):
    """Real JEPX prices, 40 sites, 400 workloads."""
    from bench._engine_scenarios import ACCELERATORS, load_prices, national

    prices = load_prices()
    day = sorted(prices)[seed % len(prices)]
    doc = national(
        prices[day], seed=seed, sites=40, workloads=400, accelerators=ACCELERATORS["S"],
        run_id=f"pairs-{seed}",
    )  # fmt: skip
    return parse_snapshot(doc)


def _national_generated(seed: int, margin_jpy: float):
    """(a national market's result with pair generation at this margin, its rounds' kinds);
    asserts the bytes are the whole LP's."""
    snap = _national(seed)
    whole = solve(snap, SolveOptions(pair_generation=False, baselines=False))
    generated = solve(
        snap, SolveOptions(pair_generation=True, pair_margin_jpy=margin_jpy, baselines=False)
    )
    assert generated.deterministic_bytes() == whole.deterministic_bytes()
    return generated, [r["kind"] for r in generated.stats["migration_pairs"]["rounds"]]


@pytest.mark.parametrize("seed", [0, 5])
def test_a_national_market_clears_the_same_when_prices_add_pairs(seed):
    """The rule's prices on the restricted face make a few left-out pairs pay (measured:
    seeds 0 and 5, with no pair put in beforehand for being near), and adding them without
    re-solving gives the whole LP's prices."""
    generated, rounds = _national_generated(seed, margin_jpy=0.0)
    assert "added for the prices" in rounds
    assert "near paying, for the prices" not in rounds
    left_out = generated.stats["migration_pairs"]
    assert left_out["included"] < left_out["pairs"] / 2


def test_pairs_near_paying_go_in_before_the_rule_and_the_result_is_the_same():
    """With a margin, the pairs within it of paying at the solver's duals go into the model
    unsolved before the price rule: here enough of them that the rule's prices add none,
    and the bytes are the whole LP's."""
    _, rounds = _national_generated(0, margin_jpy=50.0)
    assert "near paying, for the prices" in rounds
    assert "added for the prices" not in rounds


def test_pairs_added_without_a_re_solve_keep_a_certified_dual():
    """`extended`: the added pairs' migration rows get the duals that prove them
    unprofitable, so the solver's duals still certify the optimum on the larger model."""
    from aggregator.engine import pricing
    from aggregator.engine.migration_pairs import extended

    snap, idx, tri, pairs = _ground(_movers_doc(1e5))  # a move costs more than any block earns
    gen = generate(snap, idx, tri, aggregate=True, session=_session, pairs=pairs)
    assert not gen.included.any()  # nothing pays at 100,000 JPY/CU
    wider, alloc = extended(
        gen, snap, idx, tri, aggregate=True, add=~gen.included, values=gen.solution.values
    )
    sol = wider.solution
    assert wider.included.all() and wider.model.n_m == 8
    bound = pricing.dual_bound(wider.model, sol.row_dual)
    assert bound == pytest.approx(sol.objective, abs=1e-6)
    # Without the migration-row duals the same vector is not dual feasible there.
    bare = sol.row_dual.copy()
    bare[wider.model.mig_row0 : wider.model.mig_row0 + wider.model.n_m] = 0.0
    assert pricing.dual_bound(wider.model, bare) < sol.objective - 1.0
    assert float(wider.model.cost @ alloc) == pytest.approx(sol.objective, abs=1e-6)


def test_gang_and_no_migration_workloads_keep_their_pairs_and_markets_with_them_solve_whole():
    doc = _movers_doc(5.0)
    doc["workloads"][0]["gang"] = 2  # b-1 runs in gangs of 2 CU
    doc["workloads"][1]["no_migration"] = True
    *_, pairs = _ground(doc)
    assert pairs.n == 0
    result = solve(doc, PAIRS)
    assert "migration_pairs" not in result.stats  # a MIP: the whole model
    assert result.deterministic_bytes() == solve(doc, WHOLE).deterministic_bytes()


def test_a_rolling_run_starts_from_the_pairs_the_previous_one_found_worth_their_cost():
    """The pairs worth their cost at one run's end start the next run's first exact LP (no
    flagging LPs), with the same result; they are not in the published document, which
    would name other participants' workloads."""
    snap = _national(0)
    first = solve(snap, SolveOptions(pair_generation=True, baselines=False))
    carried = first.pair_start_next
    assert carried and all(isinstance(w, str) and isinstance(s, str) for w, s in carried)
    assert b"pair_start" not in first.to_json_bytes()
    again = solve(snap, SolveOptions(pair_generation=True, baselines=False, pair_start=carried))
    rounds = again.stats["migration_pairs"]["rounds"]
    assert rounds[0] == {"kind": "given", "pairs": len(carried)}
    kinds = [r["kind"] for r in rounds]
    assert "without pairs" not in kinds
    # The start holds the pairs the run before needed for its prices: no margin by default.
    assert "near paying, for the prices" not in kinds
    assert again.deterministic_bytes() == first.deterministic_bytes()
    whole = solve(snap, SolveOptions(pair_generation=False, baselines=False))
    assert whole.pair_start_next is None  # nothing to carry without generation
