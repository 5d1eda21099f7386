"""Solver backends (backends.py): with the price rule every backend publishes the same
clearing, so a replay can check a run with another solver."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings

from aggregator.engine import SolveOptions, backend_of, independent_backend, solve
from tests.engine.builders import SCENARIOS, scenario
from tests.engine.checks import check_bids_after_uplift, check_constraints
from tests.engine.generators import snapshots
from tests.engine.golden import CASES, assert_matches_golden
from tests.engine.test_price_rule import assert_same_clearing

OTHERS = ("ortools-glop", "ortools-highs")


def _every_backend_agrees(doc) -> None:
    reference = solve(doc, SolveOptions(baselines=False))
    assert reference.stats["backend"] == "highs"
    for name in OTHERS:
        other = solve(doc, SolveOptions(baselines=False, solver=name))
        assert other.stats["backend"] == name
        assert other.status == reference.status
        assert other.stats["dual_bound_gap"] < 1e-7
        assert_same_clearing(reference, other)
        check_constraints(doc, other)
        check_bids_after_uplift(doc, other)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(snapshots(allow_gang=False))
def test_every_backend_publishes_the_same_lp_clearing(doc):
    _every_backend_agrees(doc)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(snapshots(allow_gang=True))
def test_every_backend_publishes_the_same_gang_clearing(doc):
    _every_backend_agrees(doc)


@pytest.mark.parametrize("name", ["tiny-two-areas", "pair-small", "kyushu-curtailment", "bench-s"])
def test_glop_reproduces_the_published_bytes(name):
    result = solve(scenario(name), SolveOptions(solver="ortools-glop", **CASES[name]))
    assert "glop" in result.stats["solver"]
    assert_matches_golden(name, result)


def test_replay_picks_a_backend_other_than_the_runs():
    run = solve(scenario("tiny-two-areas")).to_dict()
    assert backend_of(run) == "highs"
    assert independent_backend(run) == "ortools-glop"
    replayed = solve(scenario("tiny-two-areas"), SolveOptions(solver=independent_backend(run)))
    assert replayed.deterministic_bytes() == solve(scenario("tiny-two-areas")).deterministic_bytes()
    assert independent_backend(replayed.to_dict()) == "highs"
    assert independent_backend({"stats": {"solver": "highs-1.16.0 (simplex, 1 thread)"}}) == (
        "ortools-glop"
    )  # results before engine v5 name no backend: they were HiGHS's


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="unknown solver backend"):
        solve(scenario("tiny-two-areas"), SolveOptions(solver="cplex"))


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "aggregator.engine", *args], capture_output=True, check=False
    )


def test_cli_lists_backends_and_solves_with_one():
    listed = _cli("solvers")
    assert listed.returncode == 0
    names = [line.split("\t")[0] for line in listed.stdout.decode().splitlines()]
    assert names == ["highs", "ortools-glop", "ortools-highs"]
    path = str(SCENARIOS / "tiny-two-areas.json")
    default, glop = _cli("solve", path), _cli("solve", path, "--solver", "ortools-glop")
    assert glop.returncode == 0
    a, b = json.loads(default.stdout), json.loads(glop.stdout)
    assert b["stats"]["backend"] == "ortools-glop"
    for key in ("allocations", "capacity", "energy", "grid", "prices", "uplift", "welfare_jpy"):
        assert a[key] == b[key]
    bad = _cli("solve", path, "--solver", "nope")
    assert bad.returncode == 2 and b"unknown solver backend" in bad.stderr
