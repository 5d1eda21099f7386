"""The same clearing LP written the way a typical Python team would: PuLP, one call per
variable and per constraint term, solved by CBC (the bench's comparison point)."""

from __future__ import annotations

import time
from collections import defaultdict

import pulp

from aggregator.engine.feasibility import feasible_triples, index
from aggregator.engine.model import energy_unit_cost
from aggregator.engine.snapshot import Snapshot


def solve_with_pulp(snap: Snapshot, time_limit_s: float) -> dict:
    started = time.perf_counter()
    idx = index(snap)
    # The bench markets have one capacity offer per site: its price sits on x (x_price).
    assert not idx.multi.any(), "the PuLP comparison models one capacity offer per site"
    tri = feasible_triples(snap, idx)
    h = snap.hours
    grid_cost, offer_cost = energy_unit_cost(snap)
    prob = pulp.LpProblem("clearing", pulp.LpMaximize)
    objective = []
    x = {}
    for k in range(len(tri)):
        j, s, t = int(tri.j[k]), int(tri.s[k]), int(tri.t[k])
        var = pulp.LpVariable(f"x_{j}_{s}_{t}", lowBound=0, upBound=float(tri.ub[k]))
        x[(j, s, t)] = var
        objective.append((idx.limit[j, t] - idx.x_price[s, t]) * h * var)
    by_site, by_work_t, by_work, by_area = (defaultdict(list) for _ in range(4))
    for (j, s, t), var in x.items():
        by_site[(s, t)].append(var)
        by_work_t[(j, t)].append(var)
        by_work[j].append(var)
        by_area[(int(idx.site_area[s]), t)].append(idx.site_kwh_per_cu[s] * var)
    for (s, t), vs in by_site.items():
        prob += pulp.lpSum(vs) <= float(idx.offer_cu[s, t])
    for (j, t), vs in by_work_t.items():
        prob += pulp.lpSum(vs) <= float(idx.rate_cap[j, t])
    for j, vs in by_work.items():
        if snap.workloads[j].kind == "batch":
            prob += pulp.lpSum(vs) <= float(idx.remaining[j])
    area_pos = {a.id: i for i, a in enumerate(snap.areas)}
    supply = defaultdict(list)
    for o, offer in enumerate(snap.energy_offers):
        for t in range(snap.n_intervals):
            if offer.kwh[t] > 0:
                e = pulp.LpVariable(f"e_{o}_{t}", lowBound=0, upBound=float(offer.kwh[t]))
                supply[(area_pos[offer.area], t)].append(e)
                objective.append(-offer_cost[o, t] * e)
    for a, area in enumerate(snap.areas):
        for t in range(snap.n_intervals):
            g = pulp.LpVariable(f"g_{a}_{t}", lowBound=0)
            objective.append(-grid_cost[a, t] * g)
            load = by_area.get((a, t), [])
            prob += pulp.lpSum(load) == pulp.lpSum(supply[(a, t)]) + g
            if area.cap_kw[t] != float("inf") and load:
                prob += pulp.lpSum(load) <= float(area.cap_kw[t]) * h
    for (j, s, t), var in x.items():
        w = snap.workloads[j]
        if w.migration_cost > 0 and s != idx.home[j]:
            m = pulp.LpVariable(f"m_{j}_{s}_{t}", lowBound=0)
            prev = x.get((j, s, t - 1))
            prob += m >= var - prev if prev is not None else m >= var
            objective.append(-w.migration_cost * m)
    prob += pulp.lpSum(objective)
    build_s = time.perf_counter() - started
    solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_s, threads=1)
    t0 = time.perf_counter()
    prob.solve(solver)
    solve_s = time.perf_counter() - t0
    # PuLP labels CBC's "Stopped on time - objective value …" as status Optimal; only the
    # solution status tells a proven optimum from a time-limited, non-optimal iterate.
    proven = prob.sol_status == pulp.LpSolutionOptimal
    return {
        "status": "optimal" if proven else f"stopped: {pulp.LpSolution[prob.sol_status]}",
        "welfare_jpy": pulp.value(prob.objective),
        "build_s": build_s,
        "solve_s": solve_s,
        "wall_s": build_s + solve_s,
        "variables": len(prob.variables()),
    }
