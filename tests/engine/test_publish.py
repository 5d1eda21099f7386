"""Published results are exactly feasible (issue 12, part 4): the publish step's repairs,
its refusal, and a property over every solver path on generated markets."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings

from aggregator.engine import PublishError, SolveOptions, parse_snapshot, solve
from aggregator.engine.feasibility import feasible_triples, index
from aggregator.engine.model import build
from aggregator.engine.publish import floor_units, publish
from tests.engine.builders import by_key, cap, document, site
from tests.engine.checks import check_bids_after_uplift, check_constraints
from tests.engine.generators import snapshots


def _inference(wid: str, demand, limit=300) -> dict:
    return {
        "id": wid,
        "kind": "inference",
        "accelerator": "h100",
        "demand": demand,
        "limit_price": limit,
    }


def _gang(wid: str) -> dict:
    return {
        "id": wid,
        "kind": "batch",
        "accelerator": "h100",
        "remaining_cu_intervals": 8,
        "max_cu": 8,
        "gang": 8,
        "limit_price": 300,
    }


def _publish(doc: dict, x: dict[str, float], kwh: float = 0.0):
    """publish() on hand-made solver values: x[workload] CU at the only site, `kwh` from
    the only energy offer."""
    snap = parse_snapshot(doc)
    idx = index(snap)
    tri = feasible_triples(snap, idx)
    model = build(snap, idx, tri, aggregate=False)
    values = np.zeros(model.n_col)
    for k, w in enumerate(tri.j):
        values[model.tri_col[k]] = x[snap.workloads[w].id] / model.unit[model.tri_col[k]]
    values[model.n_x + model.n_m : model.g0] = kwh
    return publish(snap, idx, tri, model, values)


def _one_site(workloads, cu=256.0, **kw) -> dict:
    return document(
        areas=[{"id": "tokyo", "price": [10.0]}],
        sites=[site("tky-1", "tokyo")],
        capacity=[cap("tky-1", [cu], [100])],
        workloads=workloads,
        **kw,
    )


def test_an_over_capacity_rounding_is_repaired_largest_allocation_first():
    # An interior point 7e-6 over a 256-CU site: rounded, 128.000004 + 128.000003 = 256.000007
    # (the case). The excess comes off the larger allocation, to exactly 256.
    doc = _one_site([_inference("a", [200]), _inference("b", [200])])
    pub = _publish(doc, {"a": 128.000004, "b": 128.000003})
    assert pub.repaired == {"site_capacity": 1}
    assert dict(zip(pub.j.tolist(), pub.cu.tolist(), strict=True)) == {0: 127.999997, 1: 128.000003}
    assert round(pub.cu.sum() * 10**6) == 256 * 10**6
    assert pub.capacity_cu.tolist() == [[256.0]]


def test_a_row_that_cannot_be_repaired_is_an_error_not_a_dispatch():
    # Two whole gangs of 8 on a 12-CU site: nothing continuous can give the excess back.
    doc = _one_site([_gang("g1"), _gang("g2")], cu=12.0)
    with pytest.raises(PublishError) as caught:
        _publish(doc, {"g1": 8.0, "g2": 8.0})
    assert caught.value.row == "site_capacity at site tky-1, interval 0"


def test_limits_with_more_decimals_are_rounded_down():
    assert floor_units(np.array([10.0000007, 2.5, 1 / 3, np.inf]), 10**6).tolist() == [
        10_000_000,
        2_500_000,
        333_333,
        2**62,
    ]
    # The LP sells all 10.0000007 CU; rounded half-even that is 10.000001 > 10.0000007.
    result = solve(_one_site([_inference("a", [20])], cu=10.0000007))
    assert [a["cu"] for a in result.allocations] == [10.0]
    assert result.capacity == [{"offer": "cap-tky-1", "interval": 0, "cu": 10.0}]


def _energy_doc(cu: float, offer_kwh: float) -> dict:
    return _one_site(
        [_inference("a", [cu])],
        cu=cu,
        energy=[{"id": "solar", "area": "tokyo", "kwh": [offer_kwh], "price": [-1.0]}],
    )


def test_energy_awards_never_exceed_the_offer():
    # 10 CU use 5 kWh; the cheap offer has 2.0007, which rounds up to 2.001: published 2.0.
    result = solve(_energy_doc(10, 2.0007))
    assert result.energy == [{"offer": "solar", "interval": 0, "kwh": 2.0}]
    assert result.grid == [{"area": "tokyo", "interval": 0, "kwh": 3.0}]


def test_energy_awards_never_exceed_the_load_the_repair_left():
    # The solver's 128.002 + 128 CU overrun the 256-CU site by 0.002 and its offer serves
    # all 128.001 kWh they would use; repaired to 256 CU the site uses 128 kWh, so the award
    # gives back 0.001 kWh (awards + grid = the published load, nobody paid for more).
    doc = _one_site(
        [_inference("a", [200]), _inference("b", [200])],
        energy=[{"id": "solar", "area": "tokyo", "kwh": [200], "price": [-1.0]}],
    )
    pub = _publish(doc, {"a": 128.002, "b": 128.0}, kwh=128.001)
    assert pub.repaired == {"site_capacity": 1, "energy": 1}
    assert pub.cu.tolist() == [128.0, 128.0]
    assert pub.offer_kwh.tolist() == [128.0]
    assert pub.grid_kwh.tolist() == [[0.0]]


def test_pins_beyond_a_limit_stay_and_the_rest_of_the_row_gives_way():
    # A dispatched 10 CU at a site now offering 8: the pin is a fact (the row's limit is the
    # pinned load, as in the model); the other workload gets nothing there.
    doc = _one_site(
        [_inference("a", [10]), _inference("b", [5], limit=900)],
        cu=8.0,
        fixed=[{"workload": "a", "site": "tky-1", "interval": 0, "cu": 10}],
    )
    result = solve(doc)
    assert by_key(result.allocations, "workload") == {
        ("a",): {"workload": "a", "site": "tky-1", "interval": 0, "cu": 10.0}
    }
    assert result.capacity == [{"offer": "cap-tky-1", "interval": 0, "cu": 10.0}]
    check_constraints(doc, result)


PATHS = {
    "simplex": (SolveOptions(lp_options={"solver": "simplex"}), False),
    "ipm-no-crossover": (SolveOptions(lp_options={"solver": "ipm", "run_crossover": "off"}), False),
    "gang-mip": (SolveOptions(), True),
}


@pytest.mark.parametrize("path", sorted(PATHS))
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=snapshots(allow_gang=True))
def test_every_solver_path_publishes_exactly_feasible_results(path, doc):
    options, gang = PATHS[path]
    for w in doc["workloads"]:
        if not gang:
            w.pop("gang", None)
        elif w["kind"] == "batch":
            w.setdefault("gang", 2)  # the MIP path: every batch workload is a gang
    snap = parse_snapshot(doc)
    assume(len(feasible_triples(snap, index(snap))) > 0)  # a market, not an empty one
    result = solve(snap, options)
    assert result.status == "optimal"
    if path == "ipm-no-crossover":
        assert "ipm" in result.stats["solver"]
    if result.stats["integer_variables"]:
        assert "fix-and-price" in result.stats["solver"]
    check_constraints(doc, result)  # exact, no tolerance; energy; capacity[] cheapest first
    check_bids_after_uplift(doc, result)
    assert result.stats["publish_s"] >= 0 and result.stats["repaired_rows"] >= 0
