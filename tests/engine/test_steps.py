"""Several capacity offers at one site are price steps (issue 12, part 3), checked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from aggregator.engine import (
    SiteOutage,
    SolveOptions,
    baseline,
    explain,
    parse_snapshot,
    redispatch,
    solve,
)
from aggregator.engine.feasibility import index
from aggregator.engine.settlement import Cleared, settle
from tests.engine.builders import by_key, document, scenario, site
from tests.engine.checks import check_bids_after_uplift, check_constraints, check_step_prices

PATHS = {
    "simplex": SolveOptions(lp_options={"solver": "simplex"}),
    "ipm": SolveOptions(lp_options={"solver": "ipm", "run_crossover": "off"}),
}


def _offer(oid: str, cu, price, at: str = "tky-1") -> dict:
    return {"id": oid, "site": at, "cu": cu, "price": price}


def _issue_doc(demand: float, *, second: bool = True) -> dict:
    """The issue's example: 100 CU at 120 and 384 CU at 100 at one site; energy 10 JPY/kWh
    at 1 kW/CU, so a CU-hour costs 10 of energy; one inference buyer worth 500."""
    offers = [_offer("cap-a", [100], [120])]
    if second:
        offers.append(_offer("cap-b", [384], [100]))
    return document(
        areas=[{"id": "tokyo", "price": [10.0]}],
        sites=[site("tky-1", "tokyo")],
        capacity=offers,
        workloads=[
            {
                "id": "inf",
                "kind": "inference",
                "accelerator": "h100",
                "demand": [demand],
                "limit_price": 500,
            }
        ],
    )


def _sold(result) -> dict[str, float]:
    return {row["offer"]: row["cu"] for row in result.capacity}


def _price(result) -> float:
    [row] = result.prices["compute"]
    return row["jpy_per_cu_h"]


@pytest.mark.parametrize("path", sorted(PATHS))
def test_cheaper_step_fills_first_and_the_marginal_step_sets_the_price(path):
    # 300 CU: all from the 100-JPY step (cap-b), which is marginal: the site price is 100.
    result = solve(_issue_doc(300), PATHS[path])
    assert _sold(result) == {"cap-b": 300.0}
    assert _price(result) == pytest.approx(100.0)
    # 434 CU: cap-b full (384), cap-a marginal with 50: every CU is priced 120.
    # Welfare 434·0.5·(500 − 10) − 0.5·(384·100 + 50·120) = 106,330 − 22,200 = 84,130.
    doc = _issue_doc(434)
    result = solve(doc, PATHS[path])
    assert _sold(result) == {"cap-a": 50.0, "cap-b": 384.0}
    assert result.capacity == [
        {"offer": "cap-a", "interval": 0, "cu": 50.0},
        {"offer": "cap-b", "interval": 0, "cu": 384.0},
    ]
    assert _price(result) == pytest.approx(120.0)
    assert result.welfare_jpy == pytest.approx(84_130.0)
    # Each offer is paid 120 on its own CU: 50·0.5·120 + 384·0.5·120, once (not per offer
    # on the whole site's 434 CU, as one-offer settlement would have done).
    assert result.settlement["compute_paid_jpy"] == pytest.approx(3_000.0 + 23_040.0)
    assert result.uplift == []
    check_constraints(doc, result)
    check_step_prices(doc, result)
    check_bids_after_uplift(doc, result)


def test_a_second_offer_does_not_change_the_first_offers_price():
    alone = solve(_issue_doc(50, second=False))
    assert _sold(alone) == {"cap-a": 50.0}
    assert _price(alone) == pytest.approx(120.0)
    # With the cheaper step beside it cap-a sells nothing: the buyer takes cap-b at 100.
    both = solve(_issue_doc(50))
    assert _sold(both) == {"cap-b": 50.0}
    assert _price(both) == pytest.approx(100.0)
    # Merged into one offer at the CU-weighted 104.13, 434 CU would cost 22,596.69 (welfare
    # 83,733.31); as steps each keeps its own price: 384·0.5·100 + 50·0.5·120 = 22,200.
    assert solve(_issue_doc(434)).welfare_jpy == pytest.approx(106_330.0 - 22_200.0)


def test_when_every_step_is_full_the_buyer_sets_the_price():
    # 600 CU asked, 484 offered: scarcity; the marginal CU is worth 500 − 10 = 490.
    result = solve(_issue_doc(600))
    assert _sold(result) == {"cap-a": 100.0, "cap-b": 384.0}
    assert _price(result) == pytest.approx(490.0)


def test_equal_prices_fill_the_lower_offer_id_first_and_order_may_change_by_interval():
    doc = _issue_doc(0)
    doc["intervals"] = ["2024-08-01T00:00:00Z", "2024-08-01T00:30:00Z"]
    doc["areas"][0]["price"] = [10.0, 10.0]
    doc["capacity_offers"] = [
        _offer("cap-x", [10, 10], [100, 90]),
        _offer("cap-y", [10, 10], [100, 100]),
        _offer("cap-z", [10, 10], [100, 80]),
    ]
    doc["workloads"][0]["demand"] = [15, 15]
    result = solve(doc)
    sold = {(r["offer"], r["interval"]): r["cu"] for r in result.capacity}
    # t0: all at 100 → by id: x full, y 5. t1: z (80) full, then x (90) 5.
    assert sold == {("cap-x", 0): 10.0, ("cap-y", 0): 5.0, ("cap-z", 1): 10.0, ("cap-x", 1): 5.0}
    prices = by_key(result.prices["compute"], "interval")
    assert prices[(0,)]["jpy_per_cu_h"] == pytest.approx(100.0)
    assert prices[(1,)]["jpy_per_cu_h"] == pytest.approx(90.0)
    check_constraints(doc, result)


def test_an_idle_stepped_site_is_priced_at_its_cheapest_step():
    # The buyer takes the cheaper tky-2; tky-1 sells nothing, and its price is what its first
    # CU would cost (its step row's dual is 0 there, anything up to 100 being optimal).
    doc = _issue_doc(10)
    doc["sites"].append(site("tky-2", "tokyo"))
    doc["capacity_offers"].append(_offer("cap-c", [20], [50], at="tky-2"))
    result = solve(doc)
    prices = by_key(result.prices["compute"], "site")
    assert prices[("tky-1",)]["jpy_per_cu_h"] == pytest.approx(100.0)  # idle: cap-b's 100
    assert _sold(result) == {"cap-c": 10.0}


def test_uplift_is_computed_per_offer_on_its_own_quantity():
    # Published price 110 (as a fix-and-price vector might give) below cap-a's 120: cap-a is
    # made whole on its own 50 CU, (120 − 110)·50·0.5 = 250; cap-b (100) needs nothing.
    snap = parse_snapshot(_issue_doc(434))
    idx = index(snap)
    sold = np.array([[50.0], [384.0]])  # offers in id order: cap-a, cap-b
    cleared = Cleared(
        j=np.array([0]),
        s=np.array([0]),
        t=np.array([0]),
        cu=np.array([434.0]),
        offer=np.zeros(0, dtype=np.int64),
        offer_t=np.zeros(0, dtype=np.int64),
        offer_kwh=np.zeros(0),
        grid_kwh=np.array([[217.0]]),
        capacity_cu=sold,
        compute_price=np.array([[110.0]]),
        energy_price=np.array([[10.0]]),
        balance_price=np.array([[10.0]]),
        cap_rent=np.array([[0.0]]),
    )
    uplift, money = settle(snap, idx, cleared)
    assert uplift == [{"participant": "cap-a", "jpy": 250.0}]
    assert money["compute_paid_jpy"] == pytest.approx(110 * 434 * 0.5)


def test_gang_clearing_on_steps_prices_by_fix_and_price():
    # Steps 4 CU at 100 and 8 at 150; a gang of 8 (worth 300) and inference (worth 200,
    # 10 CU). Whole gang 8 + inference 4 fill both steps; inference is short, so it sets the
    # price: 200 − 10 = 190. Welfare 0.5·(8·290 + 4·190) − 0.5·(4·100 + 8·150) = 740.
    doc = _issue_doc(10)
    doc["capacity_offers"] = [_offer("cap-a", [8], [150]), _offer("cap-b", [4], [100])]
    doc["workloads"] = [
        {
            "id": "gang",
            "kind": "batch",
            "accelerator": "h100",
            "remaining_cu_intervals": 8,
            "max_cu": 8,
            "gang": 8,
            "limit_price": 300,
        },
        {
            "id": "inf",
            "kind": "inference",
            "accelerator": "h100",
            "demand": [10],
            "limit_price": 200,
        },
    ]
    result = solve(doc)
    assert result.stats["integer_variables"] == 1
    assert by_key(result.allocations, "workload")[("gang",)]["cu"] == 8.0
    assert _sold(result) == {"cap-a": 8.0, "cap-b": 4.0}
    assert _price(result) == pytest.approx(190.0)
    assert result.welfare_jpy == pytest.approx(740.0)
    check_constraints(doc, result)
    check_bids_after_uplift(doc, result)


def test_greedy_baseline_takes_the_cheapest_step_first():
    # tky-1: 10 CU at 100, then 10 at 200; tky-2: 20 at 150. Greedy's 25 CU: 10 of the
    # 100-step, then tky-2 at 150 (cheaper than tky-1's second step) for the other 15.
    doc = _issue_doc(25)
    doc["sites"].append(site("tky-2", "tokyo"))
    doc["capacity_offers"] = [
        _offer("cap-a", [10], [200]),
        _offer("cap-b", [10], [100]),
        _offer("cap-c", [20], [150], at="tky-2"),
    ]
    welfare, rows = baseline(parse_snapshot(doc), "greedy")
    assert {r["site"]: r["cu"] for r in rows} == {"tky-1": 10.0, "tky-2": 15.0}
    # value 25·0.5·500 − compute 0.5·(10·100 + 15·150) − energy 25·0.5·10
    assert welfare == pytest.approx(6_250 - 1_625 - 125)
    assert solve(doc).welfare_jpy == pytest.approx(welfare)  # here greedy is optimal


def test_outage_keeps_the_cheapest_steps():
    snap = parse_snapshot(_issue_doc(434))
    out = redispatch(snap, solve(snap), SiteOutage(site="tky-1", remaining_cu=400))
    left = {c["id"]: c["cu"] for c in out.snapshot["capacity_offers"]}
    assert left == {"cap-a": [16.0], "cap-b": [384.0]}  # cap-b (100) keeps its CU first
    assert _sold(out.result) == {"cap-a": 16.0, "cap-b": 384.0}
    assert _price(out.result) == pytest.approx(490.0)


def test_steps_are_columns_only_where_a_site_has_several_offers():
    report = explain(parse_snapshot(_issue_doc(434)))["model"]
    assert report["capacity_steps"] == 2 and report["sites_with_steps"] == 1
    # One offer per site: the model is the one-offer model (no step column at all).
    assert explain(parse_snapshot(scenario("bench-s")))["model"]["capacity_steps"] == 0
