"""Checks of a published result against its snapshot document, independent of the engine.

Feasibility is checked in exact rational arithmetic on the published numbers (each as the
decimal it prints as), with no tolerance: the contract says no limit is exceeded, not even
by 1e-6. Money is checked from the published prices and quantities alone.
"""

from __future__ import annotations

import math
from collections import defaultdict
from fractions import Fraction

import pytest

from tests.engine import reference_lp


def exact(value) -> Fraction:
    """A JSON number as written (floats by their shortest decimal)."""
    return Fraction(repr(float(value))) if isinstance(value, float) else Fraction(value)


def _series(value, n):
    return list(value) if isinstance(value, list) else [value] * n


def _decimals_at_most(value: float, decimals: int) -> bool:
    return (exact(value) * 10**decimals).denominator == 1


def steps_by_site(doc: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for c in doc["capacity_offers"]:
        out[c["site"]].append(c)
    return out


def check_constraints(doc: dict, result) -> None:
    """Every limit of SCENARIO_FORMAT.md holds exactly on the published numbers. Pins are
    dispatched facts: a row whose pins alone exceed its limit is held to the pinned load."""
    n = len(doc["intervals"])
    minutes = exact(doc["interval_minutes"])
    allowed = set(reference_lp.placements(doc))
    works = {w["id"]: w for w in doc["workloads"]}
    sites = {s["id"]: s for s in doc["sites"]}
    steps = steps_by_site(doc)
    pins = {(p["workload"], p["site"], p["interval"]): exact(p["cu"]) for p in doc["fixed"]}
    use, per_jt, per_j, area_kw = (defaultdict(Fraction) for _ in range(4))
    pin_use, pin_jt, pin_j, pin_kw = (defaultdict(Fraction) for _ in range(4))
    for a in result.allocations:
        key = (a["workload"], a["site"], a["interval"])
        assert key in allowed, key  # accelerator, residency, areas, latency, window, offer
        assert a["cu"] > 0 and _decimals_at_most(a["cu"], 6), a
        cu = exact(a["cu"])
        w, s, t = works[a["workload"]], sites[a["site"]], a["interval"]
        if w.get("gang"):
            assert (cu / w["gang"]).denominator == 1, a
        kw = cu * exact(s["kw_per_cu"]) * exact(s["pue"])
        for total, pinned, k, v in (
            (use, pin_use, (a["site"], t), cu),
            (per_jt, pin_jt, (a["workload"], t), cu),
            (per_j, pin_j, a["workload"], cu),
            (area_kw, pin_kw, (s["area"], t), kw),
        ):
            total[k] += v
            if key in pins:
                pinned[k] += v
    for key, cu in pins.items():
        got = next((exact(a["cu"]) for a in result.allocations if a_key(a) == key), Fraction(0))
        assert got == cu, (key, got, cu)
    for (site, t), cu in use.items():
        offered = sum(exact(_series(c["cu"], n)[t]) for c in steps[site])
        assert cu <= max(offered, pin_use[(site, t)]), (site, t, cu, offered)
    for (j, t), cu in per_jt.items():
        w = works[j]
        if w["kind"] == "inference":
            assert cu <= max(exact(_series(w["demand"], n)[t]), pin_jt[(j, t)]), (j, t)
        if w.get("max_cu") is not None:
            assert cu <= max(exact(w["max_cu"]), pin_jt[(j, t)]), (j, t, cu)
    for j, cu in per_j.items():
        if works[j]["kind"] == "batch":
            assert cu <= max(exact(works[j]["remaining_cu_intervals"]), pin_j[j]), (j, cu)
    for a in doc["areas"]:
        for t, cap in enumerate(_series(a.get("cap_kw"), n)):
            if cap is not None:  # Σ kWh ≤ cap_kw · h, i.e. Σ cu · kW/CU · PUE ≤ cap_kw
                assert area_kw[(a["id"], t)] <= max(exact(cap), pin_kw[(a["id"], t)])
    _check_energy(doc, result, area_kw, minutes)
    check_capacity_report(doc, result, use)
    check_no_migration(doc, result)


def check_no_migration(doc: dict, result) -> None:
    """A no_migration workload runs at one site over the horizon, the one a pin with CU
    names if there is one (a pin of 0 CU elsewhere only holds it off that site)."""
    works = {w["id"]: w for w in doc["workloads"] if w.get("no_migration")}
    used = defaultdict(set)
    for a in result.allocations:
        if a["workload"] in works:
            used[a["workload"]].add(a["site"])
    for p in doc.get("fixed", []):
        if p["workload"] in works and p["cu"] > 0:
            used[p["workload"]].add(p["site"])
    for w, sites in used.items():
        assert len(sites) == 1, (w, sorted(sites))


def a_key(a: dict) -> tuple[str, str, int]:
    return a["workload"], a["site"], a["interval"]


def _check_energy(doc, result, area_kw, minutes) -> None:
    n = len(doc["intervals"])
    offers = {o["id"]: o for o in doc["energy_offers"]}
    awarded = defaultdict(Fraction)
    for e in result.energy:
        assert e["kwh"] > 0 and _decimals_at_most(e["kwh"], 3), e
        o = offers[e["offer"]]
        assert exact(e["kwh"]) <= exact(_series(o["kwh"], n)[e["interval"]]), e
        awarded[(o["area"], e["interval"])] += exact(e["kwh"])
    grid = {(g["area"], g["interval"]): exact(g["kwh"]) for g in result.grid}
    for g in result.grid:
        assert g["kwh"] > 0 and _decimals_at_most(g["kwh"], 3), g
    for key in set(awarded) | set(grid) | set(area_kw):
        load = area_kw[key] * minutes / 60  # kWh the area's published allocations use
        # Nobody sells energy nobody used (at the published precision: the load rounded
        # half-even to the milli-kWh), and awards + grid is that published load.
        published = Fraction(round(load * 1000), 1000)
        assert awarded[key] <= published, (key, awarded[key], load)
        assert abs(awarded[key] + grid.get(key, 0) - load) <= Fraction(1, 2000), key


def check_capacity_report(doc: dict, result, use: dict) -> None:
    """capacity[]: each offer's own CU, adding up to what its site sold, cheapest first."""
    n = len(doc["intervals"])
    rows = [(c["offer"], c["interval"]) for c in result.capacity]
    assert rows == sorted(rows) and len(set(rows)) == len(rows)
    sold = {(c["offer"], c["interval"]): exact(c["cu"]) for c in result.capacity}
    by_site = defaultdict(Fraction)
    for site, offers in steps_by_site(doc).items():
        for t in range(n):
            ladder = sorted(offers, key=lambda c: (exact(_series(c["price"], n)[t]), c["id"]))
            offered = sum(exact(_series(c["cu"], n)[t]) for c in offers)
            # Pinned load beyond the offers (the pin rule) is the last step's.
            beyond = max(Fraction(0), use.get((site, t), Fraction(0)) - offered)
            room_below = False  # a cheaper step (or equal price, lower id) still has room
            for c in ladder:
                cu, got = exact(_series(c["cu"], n)[t]), sold.get((c["id"], t), Fraction(0))
                allowed = cu + (beyond if c is ladder[-1] else 0)
                assert got <= allowed and _decimals_at_most(float(got), 6), (c["id"], t, got)
                assert not (room_below and got > 0), f"{c['id']} sold while a cheaper step had room"
                # Full at the published precision: less than one micro-CU left.
                room_below = room_below or cu - got >= Fraction(1, 10**6)
                by_site[(site, t)] += got
    for key in set(by_site) | set(use):
        assert by_site[key] == use.get(key, Fraction(0)), key


def check_step_prices(doc: dict, result) -> None:
    """LP prices and steps agree (up to the 4-decimal price rounding): every step that sells
    is paid at least its price, and no step with room is priced below."""
    n = len(doc["intervals"])
    compute = {(p["site"], p["interval"]): p["jpy_per_cu_h"] for p in result.prices["compute"]}
    sold = {(c["offer"], c["interval"]): c["cu"] for c in result.capacity}
    for c in doc["capacity_offers"]:
        for t in range(n):
            cu, price = _series(c["cu"], n)[t], _series(c["price"], n)[t]
            if cu <= 0:
                continue
            rho, got = compute[(c["site"], t)], sold.get((c["id"], t), 0.0)
            if got > 1e-4:
                assert rho >= price - 1e-3, (c["id"], t, rho, price)
            if got < cu - 1e-4:
                assert rho <= price + 1e-3, (c["id"], t, rho, price)


def _make_whole(shortfall: float) -> float:
    return math.ceil(shortfall * 100 - 1e-7) / 100 if shortfall > 1e-6 else 0.0


def check_bids_after_uplift(doc: dict, result) -> None:
    """Recompute every participant's money from the published prices alone (each capacity
    offer is paid the site price on its own capacity[] quantity): `uplift` is exactly the
    firm intervals' make-whole, rounded up to the sen, and nobody without a fixed placement
    (pin or gang) is short over the horizon beyond the 4-decimal price rounding."""
    n, h = len(doc["intervals"]), doc["interval_minutes"] / 60
    firm = doc.get("firm_intervals", 1)
    sites = {s["id"]: s for s in doc["sites"]}
    works = {w["id"]: w for w in doc["workloads"]}
    compute = {(p["site"], p["interval"]): p["jpy_per_cu_h"] for p in result.prices["compute"]}
    energy = {(p["area"], p["interval"]): p for p in result.prices["energy"]}
    uplift = {u["participant"]: u["jpy"] for u in result.uplift}
    pinned = {p["workload"] for p in doc.get("fixed", [])}
    short, firm_short, slack = defaultdict(float), defaultdict(float), defaultdict(float)
    for a in result.allocations:
        s = sites[a["site"]]
        kw = s["kw_per_cu"] * s["pue"]
        price = compute[(a["site"], a["interval"])]
        all_in = price + energy[(s["area"], a["interval"])]["jpy_per_kwh"] * kw
        limit = _series(works[a["workload"]]["limit_price"], n)[a["interval"]]
        gap = (all_in - limit) * a["cu"] * h
        short[a["workload"]] += gap
        if a["interval"] < firm:
            firm_short[a["workload"]] += gap
        slack[a["workload"]] += a["cu"] * h * 0.00005 * (1 + kw) + 1e-6
    for j, w in works.items():
        _uplift_is(uplift, j, firm_short[j])
        if not w.get("gang") and j not in pinned:
            assert short[j] <= slack[j], (j, short[j])  # LP prices support every bid
    offers = {c["id"]: c for c in doc["capacity_offers"]}
    got = defaultdict(float)
    firm_short = defaultdict(float)
    for row in result.capacity:
        c = offers[row["offer"]]
        paid = compute[(c["site"], row["interval"])] * row["cu"] * h
        got[c["id"]] += paid
        if row["interval"] < firm:
            firm_short[c["id"]] += _series(c["price"], n)[row["interval"]] * row["cu"] * h - paid
    for o in offers:
        _uplift_is(uplift, o, firm_short[o])
    if result.settlement:
        assert abs(result.settlement["compute_paid_jpy"] - sum(got.values())) <= 0.011
        assert result.settlement["uplift_jpy"] == pytest.approx(sum(uplift.values()), abs=1e-6)
    eoffers = {o["id"]: o for o in doc["energy_offers"]}
    firm_short = defaultdict(float)
    for e in result.energy:
        o = eoffers[e["offer"]]
        if e["interval"] >= firm:
            continue
        # Paid the balance price net of the carbon charge on its own energy.
        charge = doc["carbon_price_jpy_per_t"] * _series(o.get("carbon", 0), n)[e["interval"]] / 1e6
        balance = energy[(o["area"], e["interval"])]["supplier_jpy_per_kwh"]
        cost = _series(o["price"], n)[e["interval"]] * e["kwh"]
        firm_short[o["id"]] += cost - (balance - charge) * e["kwh"]
    for o in eoffers:
        _uplift_is(uplift, o, firm_short[o])
    assert set(uplift) <= set(works) | set(offers) | set(eoffers)


def _uplift_is(uplift: dict, participant: str, shortfall: float) -> None:
    """The engine's amount is the make-whole of the shortfall (float sums may differ in the
    last bits, so a shortfall within 1e-6 of a sen boundary may round either way)."""
    got = uplift.get(participant, 0.0)
    expected = _make_whole(shortfall)
    if expected != got:
        assert (
            abs(_make_whole(shortfall + 1e-6) - got) < 1e-9
            or abs(_make_whole(shortfall - 1e-6) - got) < 1e-9
        ), (participant, shortfall, got)


def load_rounding_allowance_jpy(doc: dict, result) -> float:
    """What the published load's rounding can cost the market (publish.py step 4): each
    loaded area-interval publishes its load rounded half-even to the milli-kWh, so the grid
    may be paid for up to 0.0005 kWh more than the workloads there are charged for, at the
    grid price plus its carbon charge."""
    n = len(doc["intervals"])
    sites = {s["id"]: s for s in doc["sites"]}
    areas = {a["id"]: a for a in doc["areas"]}
    carbon_price = doc.get("carbon_price_jpy_per_t", 0)
    loaded = {(sites[a["site"]]["area"], a["interval"]) for a in result.allocations if a["cu"]}
    total = 0.0
    for area, t in loaded:
        price = _series(areas[area]["price"], n)[t]
        carbon = _series(areas[area].get("carbon", 0), n)[t]
        total += 0.0005 * (price + carbon_price * carbon / 1e6)
    return total
