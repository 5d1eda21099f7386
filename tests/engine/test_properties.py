"""Property-based checks of the clearing on generated snapshots (hypothesis)."""

from __future__ import annotations

import math
from collections import defaultdict

import pytest
from hypothesis import HealthCheck, given, settings

from aggregator.engine import SiteOutage, parse_snapshot, redispatch, solve
from tests.engine import reference_lp
from tests.engine.generators import snapshots

TOL = 1e-5
PROPS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _series(value, n):
    return list(value) if isinstance(value, list) else [value] * n


def _check_constraints(doc: dict, result) -> None:
    n, h = len(doc["intervals"]), doc["interval_minutes"] / 60
    allowed = set(reference_lp.placements(doc))
    works = {w["id"]: w for w in doc["workloads"]}
    sites = {s["id"]: s for s in doc["sites"]}
    offers = {c["site"]: c for c in doc["capacity_offers"]}
    per_site, per_work_t, per_work = defaultdict(float), defaultdict(float), defaultdict(float)
    area_load = defaultdict(float)
    for a in result.allocations:
        key = (a["workload"], a["site"], a["interval"])
        # accelerator, residency, areas, latency, window and capacity offer in one go
        assert key in allowed, key
        w = works[a["workload"]]
        if w.get("gang"):
            assert a["cu"] / w["gang"] == pytest.approx(round(a["cu"] / w["gang"]), abs=1e-6)
        per_site[(a["site"], a["interval"])] += a["cu"]
        per_work_t[(a["workload"], a["interval"])] += a["cu"]
        per_work[a["workload"]] += a["cu"]
        s = sites[a["site"]]
        area_load[(s["area"], a["interval"])] += a["cu"] * s["kw_per_cu"] * s["pue"] * h
    for (s, t), cu in per_site.items():
        assert cu <= _series(offers[s]["cu"], n)[t] + TOL
    for (j, t), cu in per_work_t.items():
        w = works[j]
        if w["kind"] == "inference":
            assert cu <= _series(w["demand"], n)[t] + TOL
        if w.get("max_cu") is not None:
            assert cu <= w["max_cu"] + TOL
    for j, cu in per_work.items():
        if works[j]["kind"] == "batch":
            assert cu <= works[j]["remaining_cu_intervals"] + TOL
    for a in doc["areas"]:
        for t, cap in enumerate(_series(a.get("cap_kw"), n)):
            if cap is not None:
                assert area_load[(a["id"], t)] <= cap * h + 1e-3


def _check_bids_after_uplift(doc: dict, result) -> None:
    """Recompute every participant's money from the published prices alone."""
    n, h = len(doc["intervals"]), doc["interval_minutes"] / 60
    sites = {s["id"]: s for s in doc["sites"]}
    works = {w["id"]: w for w in doc["workloads"]}
    compute = {(p["site"], p["interval"]): p["jpy_per_cu_h"] for p in result.prices["compute"]}
    energy = {(p["area"], p["interval"]): p for p in result.prices["energy"]}
    uplift = {u["participant"]: u["jpy"] for u in result.uplift}
    pay, value = defaultdict(float), defaultdict(float)
    provider_got, provider_cost = defaultdict(float), defaultdict(float)
    offers = {c["site"]: c for c in doc["capacity_offers"]}
    for a in result.allocations:
        s = sites[a["site"]]
        price = compute[(a["site"], a["interval"])]
        all_in = (
            price + energy[(s["area"], a["interval"])]["jpy_per_kwh"] * s["kw_per_cu"] * s["pue"]
        )
        pay[a["workload"]] += all_in * a["cu"] * h
        value[a["workload"]] += _series(works[a["workload"]]["limit_price"], n)[a["interval"]] * (
            a["cu"] * h
        )
        offer = offers[a["site"]]
        provider_got[offer["id"]] += price * a["cu"] * h
        provider_cost[offer["id"]] += _series(offer["price"], n)[a["interval"]] * a["cu"] * h
    for j in pay:
        assert pay[j] - uplift.get(j, 0.0) <= value[j] + 1e-6
    for o in provider_got:
        assert provider_got[o] + uplift.get(o, 0.0) >= provider_cost[o] - 1e-6
    eoffers = {o["id"]: o for o in doc["energy_offers"]}
    got, cost = defaultdict(float), defaultdict(float)
    for e in result.energy:
        o = eoffers[e["offer"]]
        # Paid the balance price net of the carbon charge on its own energy.
        charge = doc["carbon_price_jpy_per_t"] * _series(o.get("carbon", 0), n)[e["interval"]] / 1e6
        balance = energy[(o["area"], e["interval"])]["supplier_jpy_per_kwh"]
        got[o["id"]] += (balance - charge) * e["kwh"]
        cost[o["id"]] += _series(o["price"], n)[e["interval"]] * e["kwh"]
    for o in got:
        assert got[o] + uplift.get(o, 0.0) >= cost[o] - 1e-6


@PROPS
@given(snapshots(allow_gang=False))
def test_lp_clearing_is_optimal_feasible_and_supported_by_its_prices(doc):
    result = solve(doc)
    assert result.status == "optimal"
    _check_constraints(doc, result)
    # Optimal: equal to an independent statement of the same LP (scipy linprog).
    reference = reference_lp.optimum(doc)
    assert result.welfare_jpy == pytest.approx(reference, abs=0.01 + 1e-7 * abs(reference))
    assert result.stats["dual_bound_gap"] < 1e-7
    _check_bids_after_uplift(doc, result)
    money = result.settlement
    # Totals are rounded to the sen (0.01 JPY): allow one rounding unit, compared in whole
    # sen so that 160.57 vs 160.58 − 0.01 is not lost to binary floating point.
    assert round(money["payments_in_jpy"] * 100) >= round(money["payments_out_jpy"] * 100) - 1
    for name in ("stay", "greedy"):
        # Both figures are rounded to the sen independently: up to 0.01 apart when equal.
        assert result.welfare_jpy >= result.baselines[name]["welfare_jpy"] - 0.015


@PROPS
@given(snapshots(allow_gang=True))
def test_gang_clearing_respects_every_constraint_and_bid(doc):
    result = solve(doc)
    assert result.status == "optimal"
    _check_constraints(doc, result)
    _check_bids_after_uplift(doc, result)
    reference = reference_lp.optimum(doc)
    assert result.welfare_jpy <= reference + 0.01 + 1e-7 * abs(reference)
    slack = 1e-4 * abs(result.welfare_jpy) + 0.01  # the MIP's proven relative gap
    for name in ("stay", "greedy"):
        assert result.welfare_jpy >= result.baselines[name]["welfare_jpy"] - slack
    money = result.settlement
    # Before make-whole payments the market never runs a deficit; uplift is reported apart
    # (how it is funded is a settlement rule, docs/engine.md).
    assert round(money["payments_in_jpy"] * 100) >= (
        round((money["payments_out_jpy"] - money["uplift_jpy"]) * 100) - 1
    )


@settings(max_examples=25, deadline=None)
@given(snapshots(allow_gang=True))
def test_two_solves_give_identical_bytes(doc):
    first, second = solve(doc), solve(doc)
    assert first.deterministic_bytes() == second.deterministic_bytes()
    assert first.input_sha256 == second.input_sha256


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(snapshots(allow_gang=False))
def test_redispatch_keeps_every_unaffected_allocation(doc):
    snap = parse_snapshot(doc)
    result = solve(snap)
    site = doc["capacity_offers"][0]["site"]
    out = redispatch(snap, result, SiteOutage(site=site, remaining_cu=0))
    before = {(a["workload"], a["site"]): a["cu"] for a in result.allocations if a["interval"] == 0}
    after = {(a["workload"], a["site"]): a["cu"] for a in out.result.allocations}
    moved = {w for (w, s) in before if s == site}
    for (w, s), cu in before.items():
        if w not in moved:
            assert after.get((w, s), 0.0) == pytest.approx(cu, abs=1e-6)
    assert all(cu <= 1e-9 for (w, s), cu in after.items() if s == site)
    for pin in out.snapshot["fixed"]:
        assert after[(pin["workload"], pin["site"])] == pytest.approx(pin["cu"], abs=1e-6)
    # Nothing moved grows beyond the interval's planned work (batch) or demand (inference).
    assert math.isfinite(out.result.welfare_jpy)
