"""An independent statement of the clearing LP, written straight from SCENARIO_FORMAT.md with
plain loops and solved with scipy's `linprog` — to check the engine's optimum against."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linprog


def _series(value, n):
    return list(value) if isinstance(value, list) else [value] * n


def placements(doc: dict) -> list[tuple[str, str, int]]:
    """Every (workload, site, interval) the format allows."""
    n = len(doc["intervals"])
    offer: dict[str, list[float]] = {}
    for c in doc["capacity_offers"]:
        offered = offer.setdefault(c["site"], [0.0] * n)
        for t, cu in enumerate(_series(c["cu"], n)):
            offered[t] += cu
    out = []
    for w in doc["workloads"]:
        for s in doc["sites"]:
            if w["accelerator"] != s["accelerator"] or s["id"] not in offer:
                continue
            if not set(w.get("residency") or []) <= set(s.get("residency") or []):
                continue
            if w.get("areas") is not None and s["area"] not in w["areas"]:
                continue
            if w.get("max_latency_ms") is not None:
                lat = s.get("latency_ms", {}).get(w["zone"])
                if lat is None or lat > w["max_latency_ms"]:
                    continue
            for t in range(n):
                if offer[s["id"]][t] <= 0:
                    continue
                if w["kind"] == "inference":
                    if _series(w["demand"], n)[t] <= 0:
                        continue
                elif not (w.get("earliest", 0) <= t <= w.get("deadline", n - 1)):
                    continue
                out.append((w["id"], s["id"], t))
    return out


def optimum(doc: dict) -> float:
    """Maximum welfare of the LP (gang sizes relaxed). Every capacity offer is a column of
    its own (a price step), whether or not its site has others. A `no_migration` workload
    runs at one site at most (a binary per site it may use; a pin with CU fixes it): then
    this is a MIP, solved by scipy's `milp`, and still an upper bound on a gang market."""
    n, h = len(doc["intervals"]), doc["interval_minutes"] / 60
    cp = doc.get("carbon_price_jpy_per_t", 0) / 1e6
    sites = {s["id"]: s for s in doc["sites"]}
    works = {w["id"]: w for w in doc["workloads"]}
    xs = placements(doc)
    cols, cost, upper = [], [], []

    def col(key, c, ub):
        cols.append(key)
        cost.append(c)
        upper.append(ub)
        return len(cols) - 1

    x_col = {}
    for j, s, t in xs:
        value = _series(works[j]["limit_price"], n)[t] * h
        x_col[(j, s, t)] = col(("x", j, s, t), -value, None)
    q_col = {}
    for c in doc["capacity_offers"]:
        for t in range(n):
            price = _series(c["price"], n)[t] * h
            q_col[(c["id"], c["site"], t)] = col(("q", c["id"], t), price, _series(c["cu"], n)[t])
    m_col = {}
    for j, s, t in xs:
        w = works[j]
        if w.get("migration_cost", 0) > 0 and s != w.get("home_site"):
            m_col[(j, s, t)] = col(("m", j, s, t), w["migration_cost"], None)
    e_col = {}
    for o in doc["energy_offers"]:
        for t in range(n):
            price = _series(o["price"], n)[t] + cp * _series(o.get("carbon", 0), n)[t]
            e_col[(o["id"], t)] = col(("e", o["id"], t), price, _series(o["kwh"], n)[t])
    g_col = {}
    for a in doc["areas"]:
        for t in range(n):
            price = _series(a["price"], n)[t] + cp * _series(a.get("carbon", 0), n)[t]
            g_col[(a["id"], t)] = col(("g", a["id"], t), price, None)

    a_ub, b_ub, a_eq, b_eq = [], [], [], []

    def row(entries, bound, eq=False):
        r = np.zeros(len(cols))
        for c, v in entries:
            r[c] += v
        (a_eq if eq else a_ub).append(r)
        (b_eq if eq else b_ub).append(bound)

    for s in sites:
        for t in range(n):
            sold = [(q, -1) for (_, site, tt), q in q_col.items() if site == s and tt == t]
            row([(x_col[k], 1) for k in x_col if k[1] == s and k[2] == t] + sold, 0.0)
    for j, w in works.items():
        for t in range(n):
            rate = _series(w["demand"], n)[t] if w["kind"] == "inference" else np.inf
            rate = min(rate, w.get("max_cu") if w.get("max_cu") is not None else np.inf)
            if np.isfinite(rate):
                row([(x_col[k], 1) for k in x_col if k[0] == j and k[2] == t], rate)
        if w["kind"] == "batch":
            row([(x_col[k], 1) for k in x_col if k[0] == j], w["remaining_cu_intervals"])
    for a in doc["areas"]:
        caps = _series(a.get("cap_kw"), n)
        for t in range(n):
            load = [
                (x_col[k], sites[k[1]]["kw_per_cu"] * sites[k[1]]["pue"] * h)
                for k in x_col
                if sites[k[1]]["area"] == a["id"] and k[2] == t
            ]
            supply = [
                (e_col[(o["id"], t)], -1) for o in doc["energy_offers"] if o["area"] == a["id"]
            ]
            row([*load, *supply, (g_col[(a["id"], t)], -1)], 0.0, eq=True)
            if caps[t] is not None:
                row(load, caps[t] * h)
    for (j, s, t), mc in m_col.items():
        entries = [(x_col[(j, s, t)], 1), (mc, -1)]
        if (j, s, t - 1) in x_col:
            entries.append((x_col[(j, s, t - 1)], -1))
        row(entries, 0.0)

    binary = _no_migration_rows(doc, works, x_col, col, row)
    if binary:
        return _milp(cost, upper, binary, a_ub, b_ub, a_eq, b_eq)
    res = linprog(
        np.array(cost),
        A_ub=np.array(a_ub) if a_ub else None,
        b_ub=b_ub or None,
        A_eq=np.array(a_eq) if a_eq else None,
        b_eq=b_eq or None,
        bounds=[(0, u) for u in upper],
        method="highs",
    )
    assert res.status == 0, res.message
    return -res.fun


def _no_migration_rows(doc, works, x_col, col, row) -> list[int]:
    """Site binaries and their rows: Σ_t x(w,s,t) ≤ M·b(w,s), Σ_s b(w,s) ≤ 1; a pin with CU
    at site s forces b(w,s) = 1. Returns the binary columns."""
    n = len(doc["intervals"])
    binary = []
    running = {(p["workload"], p["site"]) for p in doc.get("fixed", []) if p["cu"] > 0}
    for j, w in works.items():
        if not w.get("no_migration"):
            continue
        sites = sorted({s for (jj, s, _t) in x_col if jj == j})
        choice = []
        for s in sites:
            keys = [k for k in x_col if k[0] == j and k[1] == s]
            if w["kind"] == "inference":
                big_m = sum(_series(w["demand"], n)[k[2]] for k in keys)
            else:
                big_m = w["remaining_cu_intervals"]
            b = col(("b", j, s), 0.0, 1.0)
            binary.append(b)
            row([(x_col[k], 1) for k in keys] + [(b, -big_m)], 0.0)
            if (j, s) in running:
                row([(b, -1)], -1.0)
            choice.append((b, 1))
        row(choice, 1.0)
    return binary


def _milp(cost, upper, binary, a_ub, b_ub, a_eq, b_eq) -> float:
    from scipy.optimize import Bounds, LinearConstraint, milp

    n = len(cost)
    pad = [np.pad(r, (0, n - len(r))) for r in a_ub]
    eq = [np.pad(r, (0, n - len(r))) for r in a_eq]
    constraints = [LinearConstraint(np.array(pad), -np.inf, np.array(b_ub))]
    if eq:
        constraints.append(LinearConstraint(np.array(eq), np.array(b_eq), np.array(b_eq)))
    integrality = np.zeros(n)
    integrality[binary] = 1
    hi = np.array([np.inf if u is None else u for u in upper])
    res = milp(
        np.array(cost),
        constraints=constraints,
        integrality=integrality,
        bounds=Bounds(np.zeros(n), hi),
        options={"mip_rel_gap": 1e-9},
    )
    assert res.status == 0, res.message
    return -res.fun
