"""The time budget (SolveOptions.time_budget_s): a clearing always returns in about its
budget — the exact one if it finished, else the documented fallback, flagged."""

from __future__ import annotations

import time

import pytest

from aggregator.engine import SolveOptions, baseline, parse_snapshot, price_rule, solve
from tests.engine.builders import scenario
from tests.engine.checks import check_bids_after_uplift, check_constraints


def _national_lp() -> dict:
    doc = scenario("national-medium")  # 54 k columns as an LP: ~5–10 s exact here
    for w in doc["workloads"]:
        w.pop("gang", None)
    return doc


def _assert_greedy_fallback(doc, result, budget: float, elapsed: float) -> None:
    result.to_json_bytes()  # the document stays valid JSON (no NaN bound, no inf)
    fallback = result.to_dict()["fallback"]
    assert fallback["reason"] == "time_budget"
    assert fallback["allocation"] == "greedy"
    assert fallback["prices"] == "price_rule"  # the fallback's rule is never cut short
    assert fallback["time_budget_s"] == budget
    assert result.status == "feasible"
    # Late by at most what building the model and the greedy allocation take here.
    assert elapsed < budget + 4.0
    check_constraints(doc, result)  # published exactly feasible, pins kept
    check_bids_after_uplift(doc, result)  # uplift is the firm make-whole at these prices
    greedy_welfare, _ = baseline(parse_snapshot(doc), "greedy")
    assert result.welfare_jpy == pytest.approx(greedy_welfare, rel=1e-6)


def test_a_tiny_budget_on_a_large_market_publishes_the_greedy_fallback():
    doc = _national_lp()
    started = time.perf_counter()
    result = solve(doc, SolveOptions(time_budget_s=1.0, baselines=False))
    _assert_greedy_fallback(doc, result, 1.0, time.perf_counter() - started)
    assert result.stats["dual_bound_gap"] < 1e-7  # certified for the LP with it fixed


def test_a_tiny_budget_with_pair_generation_falls_back_the_same_way():
    doc = _national_lp()
    started = time.perf_counter()
    opts = SolveOptions(time_budget_s=1.0, baselines=False, pair_generation=True)
    result = solve(doc, opts)
    _assert_greedy_fallback(doc, result, 1.0, time.perf_counter() - started)
    # The greedy allocation needs every placement's column: the whole model, not the pairs'.
    assert "migration_pairs" in result.stats
    assert (
        result.deterministic_bytes()
        == solve(
            doc, SolveOptions(time_budget_s=1.0, baselines=False, pair_generation=False)
        ).deterministic_bytes()
    )


def test_a_gang_market_falls_back_too():
    doc = scenario("national-medium")
    started = time.perf_counter()
    result = solve(doc, SolveOptions(time_budget_s=1.0, baselines=False))
    _assert_greedy_fallback(doc, result, 1.0, time.perf_counter() - started)


def test_a_budget_that_suffices_changes_nothing():
    doc = scenario("kyushu-curtailment")
    result = solve(doc, SolveOptions(time_budget_s=120.0))
    assert "fallback" not in result.to_dict()
    assert result.deterministic_bytes() == solve(doc).deterministic_bytes()


def test_a_fallback_replays_byte_for_byte_on_any_backend():
    doc = _national_lp()
    run = solve(doc, SolveOptions(time_budget_s=1.0, baselines=False))
    assert run.to_dict()["fallback"]["allocation"] == "greedy"
    for backend in ("highs", "ortools-glop"):
        again = solve(doc, SolveOptions(force_fallback=True, baselines=False, solver=backend))
        assert again.to_dict()["fallback"]["reason"] == "forced"
        assert again.deterministic_bytes() == run.deterministic_bytes()


def test_the_fallback_keeps_pins():
    doc = scenario("pair-small")
    pin = next(
        {"workload": w["id"], "site": s["id"], "interval": 0, "cu": 2}
        for w in doc["workloads"]
        for s in doc["sites"]
        if w["accelerator"] == s["accelerator"] and not w.get("gang")
    )
    doc["fixed"] = [pin]
    result = solve(doc, SolveOptions(force_fallback=True))
    key = (pin["workload"], pin["site"], 0)
    got = {(a["workload"], a["site"], a["interval"]): a["cu"] for a in result.allocations}
    assert got[key] == 2
    check_constraints(doc, result)
    check_bids_after_uplift(doc, result)


def test_prices_come_from_the_solver_when_the_rule_runs_out_of_time(monkeypatch):
    def out_of_time(face, *, time_limit_s=None):
        raise price_rule.SelectionError("price selection ran out of its time budget")

    monkeypatch.setattr(price_rule, "select", out_of_time)
    doc = scenario("pair-small")
    result = solve(doc, SolveOptions(time_budget_s=60.0))
    fallback = result.to_dict()["fallback"]
    assert (fallback["allocation"], fallback["prices"]) == ("optimal", "solver_duals")
    assert result.status == "optimal"
    assert result.stats["dual_bound_gap"] < 1e-7  # still optimal duals, just not the rule's
    check_constraints(doc, result)
    check_bids_after_uplift(doc, result)
