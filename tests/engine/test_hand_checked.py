"""Scenarios with answers worked out by hand (see each test's comment for the arithmetic)."""

from __future__ import annotations

import pytest

from aggregator.engine import SolveOptions, highs_solver, parse_snapshot, solve
from aggregator.engine.feasibility import feasible_triples, index
from aggregator.engine.model import build
from tests.engine.builders import by_key, cap, document, scenario, site
from tests.engine.checks import check_constraints
from tests.engine.golden import assert_matches_golden


def _all_in(result, snap_doc, site_id: str, interval: int) -> float:
    """compute(s) + energy(area(s)) × kW per CU × PUE, JPY per CU-hour."""
    s = next(x for x in snap_doc["sites"] if x["id"] == site_id)
    compute = by_key(result.prices["compute"], "site", "interval")[(site_id, interval)]
    energy = by_key(result.prices["energy"], "area", "interval")[(s["area"], interval)]
    return compute["jpy_per_cu_h"] + energy["jpy_per_kwh"] * s["kw_per_cu"] * s["pue"]


def test_tiny_two_areas_matches_the_readme():
    doc = scenario("tiny-two-areas")
    result = solve(doc)
    assert result.status == "optimal"
    assert result.welfare_jpy == pytest.approx(2900.0, abs=1e-6)
    alloc = by_key(result.allocations, "site")
    assert alloc[("hkd-1",)]["cu"] == pytest.approx(10.0)
    assert alloc[("tky-1",)]["cu"] == pytest.approx(5.0)
    compute = by_key(result.prices["compute"], "site")
    # Hokkaido's capacity binds: one more CU there saves 20 − 10 JPY of energy per CU-hour.
    assert compute[("hkd-1",)]["jpy_per_cu_h"] == pytest.approx(110.0)
    assert compute[("tky-1",)]["jpy_per_cu_h"] == pytest.approx(100.0)
    for site_id in ("hkd-1", "tky-1"):
        assert _all_in(result, doc, site_id, 0) == pytest.approx(120.0)
    assert result.uplift == []
    # stay: 10 CU at Tokyo (lowest latency): 10 × 0.5 × (500 − 120) = 1,900.
    assert result.baselines["stay"]["welfare_jpy"] == pytest.approx(1900.0)
    assert result.baselines["greedy"]["welfare_jpy"] == pytest.approx(2900.0)
    assert_matches_golden("tiny-two-areas", result)


def _curtailment_doc(demand: float) -> dict:
    return document(
        areas=[{"id": "kyushu", "price": [10.0], "carbon": 400}],
        sites=[site("kyu-1", "kyushu")],
        capacity=[cap("kyu-1", [10], [50])],
        energy=[
            {
                "id": "relief",
                "area": "kyushu",
                "kwh": [3.0],
                "price": [-5.0],
                "carbon": 20,
                "curtailment_relief": True,
            }
        ],
        workloads=[
            {
                "id": "inf",
                "kind": "inference",
                "accelerator": "h100",
                "demand": [demand],
                "limit_price": 100,
            }
        ],
    )


def test_negative_price_curtailment_offer_sets_the_price_while_it_has_room():
    # 4 CU × 1 kW × 0.5 h = 2 kWh, all from the −5 JPY/kWh offer (3 kWh offered):
    # welfare = 4 × 0.5 × (100 − 50) + 5 × 2 = 110, and the next kWh costs −5.
    result = solve(_curtailment_doc(4))
    assert result.welfare_jpy == pytest.approx(110.0)
    assert result.energy == [{"offer": "relief", "interval": 0, "kwh": 2.0}]
    assert result.grid == []
    assert result.prices["energy"][0]["jpy_per_kwh"] == pytest.approx(-5.0)
    assert result.uplift == []


def test_exhausted_curtailment_offer_is_paid_the_grid_price():
    # 8 CU → 4 kWh: 3 from the offer, 1 from the grid at 10. Welfare 200 + 15 − 10 = 205;
    # the marginal kWh is grid energy, so the supplier receives 10 JPY/kWh (≥ its −5 offer).
    result = solve(_curtailment_doc(8))
    assert result.welfare_jpy == pytest.approx(205.0)
    assert result.grid == [{"area": "kyushu", "interval": 0, "kwh": 1.0}]
    assert result.prices["energy"][0]["supplier_jpy_per_kwh"] == pytest.approx(10.0)
    assert result.settlement["energy_offers_paid_jpy"] == pytest.approx(30.0)


def test_binding_area_cap_prices_congestion():
    # Tokyo is cheaper (50 + 10 vs 50 + 30 per CU-h) but capped at 4 kW = 2 kWh = 4 CU.
    # 4 CU each side: welfare 4·0.5·140 + 4·0.5·120 = 520. Hokkaido is marginal at 80 all-in,
    # so Tokyo's energy costs 30 = grid 10 + cap rent 20; rent revenue 20 × 2 kWh = 40.
    doc = document(
        areas=[
            {"id": "tokyo", "price": [10.0], "cap_kw": [4.0]},
            {"id": "hokkaido", "price": [30.0]},
        ],
        sites=[site("tky", "tokyo"), site("hkd", "hokkaido")],
        capacity=[cap("tky", [10], [50]), cap("hkd", [10], [50])],
        workloads=[
            {
                "id": "inf",
                "kind": "inference",
                "accelerator": "h100",
                "demand": [8],
                "limit_price": 200,
            }
        ],
    )
    result = solve(doc)
    assert result.welfare_jpy == pytest.approx(520.0)
    alloc = by_key(result.allocations, "site")
    assert alloc[("tky",)]["cu"] == pytest.approx(4.0)
    assert alloc[("hkd",)]["cu"] == pytest.approx(4.0)
    tokyo = by_key(result.prices["energy"], "area")[("tokyo",)]
    assert tokyo["jpy_per_kwh"] == pytest.approx(30.0)
    assert tokyo["supplier_jpy_per_kwh"] == pytest.approx(10.0)
    assert tokyo["cap_rent_jpy_per_kwh"] == pytest.approx(20.0)
    assert result.settlement["congestion_rent_jpy"] == pytest.approx(40.0)
    assert _all_in(result, doc, "tky", 0) == pytest.approx(80.0)
    assert result.settlement["payments_in_jpy"] == pytest.approx(320.0)


def _gang_doc(gang_limit: float) -> dict:
    return document(
        areas=[{"id": "tokyo", "price": [10.0]}],
        sites=[site("tky", "tokyo")],
        capacity=[cap("tky", [12], [50])],
        workloads=[
            {
                "id": "gang",
                "kind": "batch",
                "accelerator": "h100",
                "remaining_cu_intervals": 100,
                "max_cu": 12,
                "gang": 8,
                "limit_price": gang_limit,
                "earliest": 0,
                "deadline": 0,
            },
            {
                "id": "inf",
                "kind": "inference",
                "accelerator": "h100",
                "demand": [10],
                "limit_price": 100,
            },
        ],
    )


def test_gang_allocates_whole_multiples_and_prices_by_fix_and_price():
    # LP would give the gang 12 CU; whole gangs: 8 (+ 4 CU inference). Welfare
    # 8·0.5·(200 − 60) + 4·0.5·(100 − 60) = 640. With the gang fixed, inference is marginal
    # at the site: compute price 100 − 10 = 90.
    result = solve(_gang_doc(200))
    assert result.status == "optimal"
    alloc = by_key(result.allocations, "workload")
    assert alloc[("gang",)]["cu"] == pytest.approx(8.0)
    assert alloc[("inf",)]["cu"] == pytest.approx(4.0)
    assert result.welfare_jpy == pytest.approx(640.0)
    assert result.prices["compute"][0]["jpy_per_cu_h"] == pytest.approx(90.0)
    assert result.uplift == []


def test_gang_paying_above_its_limit_gets_uplift():
    # Limit 95: gang 8 + inference 4 (8·0.5·35 + 4·0.5·40 = 220) beats inference alone (200).
    # At the fix-and-price price (90 + 10 = 100 all-in) the gang would pay 5 over its limit
    # on 8 CU × 0.5 h: uplift 20 JPY.
    result = solve(_gang_doc(95))
    assert result.welfare_jpy == pytest.approx(220.0)
    assert result.uplift == [{"participant": "gang", "jpy": 20.0}]


def test_pinned_allocation_is_kept_and_the_rest_reoptimised():
    doc = scenario("tiny-two-areas")
    doc["fixed"] = [{"workload": "inf-1", "site": "tky-1", "interval": 0, "cu": 10}]
    result = solve(doc)
    alloc = by_key(result.allocations, "site")
    assert alloc[("tky-1",)]["cu"] == pytest.approx(10.0)
    assert alloc[("hkd-1",)]["cu"] == pytest.approx(5.0)
    # 10 × 0.5 × 380 + 5 × 0.5 × 390
    assert result.welfare_jpy == pytest.approx(2875.0)


def test_migration_cost_is_charged_when_moving_away_from_home():
    # Two intervals; the away site is 4 JPY/CU-h cheaper (2 JPY per CU per interval), the
    # migration cost 3 JPY per CU added: over two intervals moving saves 2·2·8 − 3·8 = 8.
    doc = document(
        intervals=2,
        areas=[{"id": "tokyo", "price": 10.0}],
        sites=[site("home", "tokyo"), site("away", "tokyo")],
        capacity=[cap("home", 8, 54), cap("away", 8, 50)],
        workloads=[
            {
                "id": "job",
                "kind": "batch",
                "accelerator": "h100",
                "remaining_cu_intervals": 16,
                "max_cu": 8,
                "limit_price": 200,
                "home_site": "home",
                "migration_cost": 3,
            }
        ],
    )
    result = solve(doc)
    assert {(a["site"], a["interval"]) for a in result.allocations} == {("away", 0), ("away", 1)}
    assert result.welfare_jpy == pytest.approx(16 * 0.5 * (200 - 60) - 24)
    doc["workloads"][0]["migration_cost"] = 5  # now moving costs 40 > 32 saved
    result = solve(doc)
    assert {a["site"] for a in result.allocations} == {"home"}


@pytest.mark.parametrize(
    ("name", "lp_optimum", "mip_optimum"),
    [("pair-small", 1_143_444.56, None), ("kyushu-curtailment", 3_702_557.68, 3_702_264.97)],
)
def test_shared_scenarios_reach_the_known_optimum(name, lp_optimum, mip_optimum):
    result = solve(scenario(name))
    snap = parse_snapshot(scenario(name))
    if snap.has_gang:
        assert result.stats["lp_bound_jpy"] == pytest.approx(lp_optimum, abs=0.05)
        # Proven within the default relative MIP gap (1e-4) of the README's MIP optimum.
        assert result.stats["mip_gap"] <= 1e-4
        assert result.welfare_jpy >= mip_optimum * (1 - 1e-4)
        assert result.welfare_jpy <= mip_optimum + 0.05
    else:
        assert result.welfare_jpy == pytest.approx(lp_optimum, abs=0.05)
    assert result.status == "optimal"
    assert result.stats["dual_bound_gap"] < 1e-7
    assert result.welfare_jpy >= result.baselines["stay"]["welfare_jpy"] - 0.01
    assert result.welfare_jpy >= result.baselines["greedy"]["welfare_jpy"] - 0.01
    check_constraints(scenario(name), result)
    assert_matches_golden(name, result)


@pytest.mark.slow
def test_national_medium_solves_within_the_gap_of_its_lp_bound():
    result = solve(scenario("national-medium"), SolveOptions(mip_time_limit_s=20))
    assert result.stats["lp_bound_jpy"] == pytest.approx(17_144_773.28, abs=0.05)
    # Better than the 17,052,709 a generic MIP solver found in 120 s (README).
    assert result.welfare_jpy >= 17_052_709
    assert result.welfare_jpy <= 17_144_773.28 + 0.05
    assert result.stats["dual_bound_gap"] < 1e-7
    check_constraints(scenario("national-medium"), result)
    assert_matches_golden("national-medium", result)


@pytest.mark.slow
def test_large_lp_path_reaches_the_readme_lp_optimum():
    # Without gang sizes national-medium is the LP whose optimum the README gives as the
    # bound; at 54 k columns (inference classes aggregated) it is forced onto the
    # interior-point path that bench L takes (by default, with 24 k rows, the dual simplex
    # solves it), and agrees with the dual simplex on the per-triple model.
    doc = scenario("national-medium")
    for w in doc["workloads"]:
        w.pop("gang", None)
    result = solve(doc, SolveOptions(baselines=False, ipm_from_rows=0))
    assert "ipm" in result.stats["solver"]
    assert result.welfare_jpy == pytest.approx(17_144_773.28, abs=0.05)
    assert result.stats["dual_bound_gap"] < 1e-7
    # The interior point meets its rows to the solver's tolerance: rounded naively, 172 site
    # capacities and 237 workload rates were exceeded by 1e-6 (engine v3). Published now
    # exactly feasible, the repairs counted in stats.
    check_constraints(doc, result)
    assert result.stats["repaired_by_kind"]["site_capacity"] > 0
    # The per-triple LP alone (its prices are not the point here, and the price rule on its
    # 74 k columns would double the test's time).
    snap = parse_snapshot(doc)
    idx = index(snap)
    model = build(snap, idx, feasible_triples(snap, idx), aggregate=False)
    whole = highs_solver.DirectLp(model, {"solver": "simplex"}).solve()
    assert model.n_col > result.stats["variables"]
    assert -model.welfare_cost @ whole.values == pytest.approx(17_144_773.28, abs=0.05)


def test_interior_point_that_postsolve_cannot_confirm_falls_back_to_crossover():
    # Bench S forced onto the interior-point path: HiGHS 1.16 postsolves the interior point
    # into dual infeasibilities and calls it "unknown" (scenarios/SOURCE.md). The clearing
    # must not come back empty: crossover gives the vertex, the same certified optimum.
    doc = scenario("bench-s")
    forced = solve(doc, SolveOptions(baselines=False, ipm_from_columns=0, ipm_from_rows=0))
    assert forced.status == "optimal"
    assert forced.stats["solver"].endswith("(ipm + crossover, 1 thread)"), (
        "the fallback was not needed here; keep a market that needs it"
    )
    assert forced.welfare_jpy == pytest.approx(5_001_943.40, abs=0.05)
    assert forced.stats["dual_bound_gap"] < 1e-7
    assert forced.allocations
    default = solve(doc, SolveOptions(baselines=False))
    assert "simplex" in default.stats["solver"]
    # The allocation and price rules make the two paths publish the same bytes.
    assert_matches_golden("bench-s", forced)
    assert_matches_golden("bench-s", default)
    assert default.welfare_jpy == pytest.approx(forced.welfare_jpy, abs=0.01)
