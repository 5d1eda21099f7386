"""Class aggregation is exact: the same optimum, certified prices and every per-workload
constraint as the per-triple LP."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from aggregator.engine import SolveOptions, explain, parse_snapshot, solve
from aggregator.engine.feasibility import feasible_triples, index
from aggregator.engine.model import build
from tests.engine import reference_lp
from tests.engine.builders import cap, document, site
from tests.engine.checks import check_bids_after_uplift, check_constraints, check_step_prices
from tests.engine.generators import snapshots

PROPS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
WHOLE = SolveOptions(aggregate=False, lp_options={"solver": "simplex"})


def _same_market(doc, result) -> None:
    reference = reference_lp.optimum(doc)
    assert result.status == "optimal"
    assert result.welfare_jpy == pytest.approx(reference, abs=0.01 + 1e-7 * abs(reference))
    assert result.stats["dual_bound_gap"] < 1e-7
    check_constraints(doc, result)
    check_step_prices(doc, result)
    check_bids_after_uplift(doc, result)


@PROPS
@given(snapshots(allow_gang=False))
def test_aggregated_and_per_triple_clearings_are_the_same_lp(doc):
    whole = solve(doc, WHOLE)
    result = solve(doc)
    _same_market(doc, result)
    # Both are rounded to the sen on their own: up to one sen apart when equal.
    assert result.welfare_jpy == pytest.approx(whole.welfare_jpy, abs=0.0101)


def _twins_doc() -> dict:
    """Five inference workloads with the same reach (one class) and one with its own."""

    def inference(wid, demand, limit, zone):
        return {
            "id": wid,
            "kind": "inference",
            "accelerator": "h100",
            "demand": demand,
            "limit_price": limit,
            "zone": zone,
            "max_latency_ms": 10,
            "residency": ["jp"],
        }

    works = [inference(f"inf-{k}", [6, 4], 300 - 20 * k, "tokyo") for k in range(5)]
    works.append(inference("solo", [3, 3], 250, "osaka"))
    return document(
        areas=[
            {"id": "tokyo", "price": [10, 30], "carbon": 0, "cap_kw": None},
            {"id": "kansai", "price": [12, 12], "carbon": 0, "cap_kw": None},
        ],
        sites=[
            site("tky-1", "tokyo", latency={"tokyo": 2, "osaka": 9}),
            site("tky-2", "tokyo", kw=0.8, latency={"tokyo": 3, "osaka": 8}),
            site("osk-1", "kansai", latency={"tokyo": 12, "osaka": 2}),
        ],
        capacity=[
            cap("tky-1", [8, 8], 100),
            cap("tky-2", [5, 5], 120),
            cap("osk-1", [10, 10], 90),
        ],
        workloads=works,
        intervals=2,
    )


def test_interchangeable_inference_workloads_form_one_class():
    snap = parse_snapshot(_twins_doc())
    idx = index(snap)
    tri = feasible_triples(snap, idx)
    model = build(snap, idx, tri)
    per_triple = build(snap, idx, tri, aggregate=False)
    assert model.row_kind_counts["class_balance"] == 2  # one class, two intervals
    # The class's 5 × 2 sites × 2 intervals placements became 2 × 2 placement columns and
    # 5 × 2 serve columns; "solo" (a class of one) stays per triple.
    assert model.n_z == 4 and model.n_y == 10
    assert model.n_x == per_triple.n_x - 20
    report = explain(snap)["model"]
    assert report["inference_classes"] == 1 and report["workloads_in_classes"] == 5


def test_aggregation_changes_no_price_or_welfare_and_fills_in_id_order():
    doc = _twins_doc()
    grouped, whole = solve(doc), solve(doc, WHOLE)
    _same_market(doc, grouped)
    assert grouped.welfare_jpy == pytest.approx(whole.welfare_jpy, abs=0.01)
    assert grouped.prices == whole.prices
    served: dict[tuple[str, int], float] = {}
    for a in grouped.allocations:
        key = (a["workload"], a["interval"])
        served[key] = served.get(key, 0.0) + a["cu"]
    # 13 CU at the two Tokyo sites in interval 0: the five class members ask for 30 and the
    # highest limits are served first (inf-0 … inf-1 fully, inf-2 partly).
    assert served[("inf-0", 0)] == pytest.approx(6)
    assert served[("inf-1", 0)] == pytest.approx(6)
    assert sum(cu for (w, t), cu in served.items() if t == 0 and w != "solo") == pytest.approx(13)


def _batch_twins_doc() -> dict:
    """Three batch jobs that may run at the same two sites (one class), with different
    windows and remaining work, and one with a migration cost (kept per triple)."""

    def batch(wid, remaining, earliest, deadline, limit, **extra):
        return {
            "id": wid,
            "kind": "batch",
            "accelerator": "h100",
            "remaining_cu_intervals": remaining,
            "max_cu": 6,
            "earliest": earliest,
            "deadline": deadline,
            "limit_price": limit,
            "residency": ["jp"],
            **extra,
        }

    works = [
        batch("bat-0", 9, 0, 2, 300),
        batch("bat-1", 4, 1, 3, 260),
        batch("bat-2", 20, 0, 3, 200),
        batch("bat-3", 8, 0, 3, 280, migration_cost=5, home_site="tky-1"),
    ]
    return document(
        areas=[{"id": "tokyo", "price": [10, 30, 20, 12], "carbon": 0, "cap_kw": None}],
        sites=[site("tky-1", "tokyo"), site("tky-2", "tokyo", kw=0.8)],
        capacity=[cap("tky-1", [6, 6, 6, 6], 100), cap("tky-2", [5, 5, 5, 5], 120)],
        workloads=works,
        intervals=4,
    )


def test_batch_workloads_with_one_site_set_form_a_class_and_keep_their_own_rows():
    doc = _batch_twins_doc()
    snap = parse_snapshot(doc)
    idx = index(snap)
    model = build(snap, idx, feasible_triples(snap, idx))
    assert model.classes.n_classes == 1  # bat-0..2; bat-3 has a migration cost
    assert model.n_x == 8  # bat-3: 2 sites × 4 intervals
    assert model.row_kind_counts["remaining_work"] == 4  # each its own, bat-0..2 on y
    grouped, whole = solve(doc), solve(doc, WHOLE)
    _same_market(doc, grouped)
    assert grouped.welfare_jpy == pytest.approx(whole.welfare_jpy, abs=0.0101)
    assert grouped.prices == whole.prices
    ran = {}
    for a in grouped.allocations:
        ran[a["workload"]] = ran.get(a["workload"], 0.0) + a["cu"]
        lo, hi = {"bat-0": (0, 2), "bat-1": (1, 3)}.get(a["workload"], (0, 3))
        assert lo <= a["interval"] <= hi  # each member's own window
    assert ran["bat-0"] <= 9 and ran["bat-1"] <= 4  # each member's own remaining work
