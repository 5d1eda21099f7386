"""`no_migration`: a workload that has started at a site stays there within the horizon (it
may pause, not move); a pin with CU says where it runs."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from aggregator.engine import (
    SiteOutage,
    SnapshotError,
    SolveOptions,
    baseline,
    parse_snapshot,
    redispatch,
    solve,
)
from tests.engine import reference_lp
from tests.engine.builders import document, site
from tests.engine.checks import check_bids_after_uplift, check_constraints
from tests.engine.generators import snapshots


def _doc(*, no_migration=True, fixed=()) -> dict:
    """One batch job, 10 CU per interval for two intervals; site a is cheap first, b second
    (a: 100 then 190, b: 200 then 100 JPY per CU-h); energy is free."""
    work = {
        "id": "job",
        "kind": "batch",
        "accelerator": "h100",
        "remaining_cu_intervals": 20,
        "max_cu": 10,
        "limit_price": 300,
        "residency": ["jp"],
    }
    if no_migration:
        work["no_migration"] = True
    return document(
        areas=[{"id": "tokyo", "price": [0, 0], "carbon": 0, "cap_kw": None}],
        sites=[site("a", "tokyo"), site("b", "tokyo")],
        capacity=[
            {"id": "cap-a", "site": "a", "cu": [10, 10], "price": [100, 190]},
            {"id": "cap-b", "site": "b", "cu": [10, 10], "price": [200, 100]},
        ],
        workloads=[work],
        fixed=fixed,
        intervals=2,
    )


def _sites(result) -> set[str]:
    return {a["site"] for a in result.allocations}


def test_a_free_workload_follows_the_cheaper_site_each_interval():
    result = solve(_doc(no_migration=False))
    assert _sites(result) == {"a", "b"}
    assert result.welfare_jpy == pytest.approx(2 * 10 * 0.5 * 200)


def test_no_migration_keeps_the_workload_at_the_better_single_site():
    doc = _doc()
    result = solve(doc)
    assert result.status == "optimal"
    assert _sites(result) == {"a"}  # 100 + 190 beats 200 + 100 by 10 JPY per CU-h
    assert result.welfare_jpy == pytest.approx(10 * 0.5 * (200 + 110))
    assert result.stats["integer_variables"] == 2  # one site choice per candidate site
    assert result.welfare_jpy == pytest.approx(reference_lp.optimum(doc), abs=0.01)
    check_constraints(doc, result)
    check_bids_after_uplift(doc, result)


def test_a_pin_with_cu_says_where_it_runs():
    doc = _doc(fixed=[{"workload": "job", "site": "b", "interval": 0, "cu": 10}])
    result = solve(doc)
    assert _sites(result) == {"b"}
    assert result.stats["integer_variables"] == 0  # nothing left to choose
    assert result.welfare_jpy == pytest.approx(10 * 0.5 * (100 + 200))
    check_constraints(doc, result)


def test_pinned_running_at_two_sites_is_refused():
    pins = [
        {"workload": "job", "site": "a", "interval": 0, "cu": 5},
        {"workload": "job", "site": "b", "interval": 1, "cu": 5},
    ]
    with pytest.raises(SnapshotError, match="no_migration"):
        solve(_doc(fixed=pins))


def test_no_migration_must_be_a_boolean():
    doc = _doc()
    doc["workloads"][0]["no_migration"] = "yes"
    with pytest.raises(SnapshotError, match="no_migration"):
        parse_snapshot(doc)


def test_greedy_keeps_a_no_migration_workload_where_it_started():
    _, free_rows = baseline(parse_snapshot(_doc(no_migration=False)), "greedy")
    assert {r["site"] for r in free_rows} == {"a", "b"}
    _, rows = baseline(parse_snapshot(_doc()), "greedy")
    assert {r["site"] for r in rows} == {"a"}  # a was cheaper first, and it stays


def test_redispatch_pauses_it_rather_than_moving_it():
    doc = _doc()
    snap = parse_snapshot(doc)
    result = solve(snap)
    out = redispatch(snap, result, SiteOutage(site="a", remaining_cu=0))
    assert out.result.allocations == []  # b has room, but the job may not move there
    assert {(p["site"], p["cu"]) for p in out.snapshot["fixed"]} == {("b", 0.0)}
    assert [c["cu_after"] for c in out.changes] == [0.0]
    moved = redispatch(
        parse_snapshot(_doc(no_migration=False)),
        solve(_doc(no_migration=False)),
        SiteOutage(site="a", remaining_cu=0),
    )
    assert _sites(moved.result) == {"b"}  # without the flag it moves


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(snapshots(allow_gang=False, no_migration=True))
def test_generated_markets_keep_every_no_migration_workload_at_one_site(doc):
    result = solve(doc, SolveOptions(baselines=False))
    assert result.status == "optimal"
    check_constraints(doc, result)  # includes one site per no_migration workload
    check_bids_after_uplift(doc, result)
    # The exact optimum (site binaries in scipy's milp), within the MIP's relative gap.
    reference = reference_lp.optimum(doc)
    assert result.welfare_jpy <= reference + 0.01 + 1e-7 * abs(reference)
    assert result.welfare_jpy >= reference - 1e-4 * abs(reference) - 0.01
    glop = solve(doc, SolveOptions(baselines=False, solver="ortools-glop"))
    assert glop.deterministic_bytes() == result.deterministic_bytes()
