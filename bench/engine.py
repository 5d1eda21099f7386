"""Clearing engine benchmark (on demand, not in the test suite).

    .venv/bin/python bench/engine.py sizes [--sizes S,M,L] [--pulp-cap 900]
    .venv/bin/python bench/engine.py fy2023 [--days 366]
    .venv/bin/python bench/engine.py publish [--cases M:lp,M:gang,L:lp] [--write]

Each measured case runs in its own process (peak memory is that process's max RSS).
Figures are printed as Markdown and written to bench/out/engine.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from _engine_scenarios import ACCELERATORS, SIZES, load_prices, national  # noqa: E402

from aggregator.engine import (  # noqa: E402
    SiteOutage,
    SolveOptions,
    parse_snapshot,
    redispatch,
    solve,
)
from aggregator.engine.baselines import baseline_welfare  # noqa: E402
from aggregator.engine.feasibility import index  # noqa: E402
from aggregator.engine.model import energy_unit_cost  # noqa: E402

BENCH_DAY = "2023-08-01"  # a hot summer weekday: Kyushu solar curtailment at midday
OUT = ROOT / "bench" / "out"


def _scenario(size: str, *, gang_share: float = 0.0) -> dict:
    sites, workloads = SIZES[size]
    return national(
        load_prices()[BENCH_DAY],
        sites=sites,
        workloads=workloads,
        seed=1,
        gang_share=gang_share,
        accelerators=ACCELERATORS[size],
        run_id=f"bench-{size}",
    )


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def case(size: str, mode: str, cap: float) -> dict:
    """One measurement in this process; returns a JSON-able dict."""
    gang = 0.3 if mode == "gang" else 0.0
    snap = parse_snapshot(_scenario(size, gang_share=gang))
    if mode == "pulp":
        from _engine_pulp import solve_with_pulp

        return {"size": size, "mode": mode, **solve_with_pulp(snap, cap), "peak_mib": _peak_mib()}
    if mode == "redispatch":
        return {
            "size": size,
            "mode": mode,
            **_redispatch_on_greedy_plan(snap),
            "peak_mib": _peak_mib(),
        }
    opts = SolveOptions(baselines=False, mip_time_limit_s=60.0)
    if mode == "publish":  # the default clearing alone: what the feasible rounding costs
        opts = SolveOptions(baselines=False)
    if mode.startswith("lp-"):  # a fixed LP algorithm, for the solver comparison
        opts = SolveOptions(baselines=False, lp_options={"solver": mode[3:]})
    started = time.perf_counter()
    result = solve(snap, opts)
    wall = time.perf_counter() - started
    out = {
        "size": size,
        "mode": mode,
        "status": result.status,
        "wall_s": wall,
        "welfare_jpy": result.welfare_jpy,
        **result.stats,
        "peak_mib": _peak_mib(),
        "load_15min": round(os.getloadavg()[2], 2),
    }
    if mode == "lp":
        idx = index(snap)
        for name in ("stay", "greedy"):
            t0 = time.perf_counter()
            out[f"{name}_welfare_jpy"] = baseline_welfare(snap, idx, name)[1]
            out[f"{name}_s"] = time.perf_counter() - t0
        busiest = _busiest_site(result)
        t0 = time.perf_counter()
        again = redispatch(snap, result, SiteOutage(site=busiest, remaining_cu=0))
        out["redispatch_s"] = time.perf_counter() - t0
        out["redispatch_site"] = busiest
        out["redispatch_changes"] = len(again.changes)
        out["redispatch_pins"] = len(again.snapshot["fixed"])
    return out


def _redispatch_on_greedy_plan(snap) -> dict:
    """Re-dispatch timing without waiting for the full LP: the dispatched plan of the firm
    interval is the greedy baseline's (any feasible plan has the same one-interval size)."""
    alloc, _ = baseline_welfare(snap, index(snap), "greedy")
    plan = {
        "allocations": [
            {
                "workload": snap.workloads[j].id,
                "site": snap.sites[s].id,
                "interval": int(t),
                "cu": float(cu),
            }
            for j, s, t, cu in zip(alloc.j, alloc.s, alloc.t, alloc.cu, strict=True)
            if t == 0
        ]
    }
    site = _busiest_site_of(plan["allocations"])
    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        out = redispatch(snap, plan, SiteOutage(site=site, remaining_cu=0))
        runs.append(time.perf_counter() - t0)
    return {
        "redispatch_s": min(runs),
        "redispatch_runs_s": runs,
        "redispatch_site": site,
        "redispatch_changes": len(out.changes),
        "redispatch_pins": len(out.snapshot["fixed"]),
        "status": out.result.status,
        **{
            f"redispatch_{k}": v
            for k, v in out.result.stats.items()
            if k in ("variables", "constraints", "solve_s", "build_s")
        },
    }


def _busiest_site_of(allocations) -> str:
    load: dict[str, float] = {}
    for a in allocations:
        if a["interval"] == 0:
            load[a["site"]] = load.get(a["site"], 0.0) + a["cu"]
    return max(sorted(load), key=lambda s: load[s])


def _busiest_site(result) -> str:
    load: dict[str, float] = {}
    for a in result.allocations:
        if a["interval"] == 0:
            load[a["site"]] = load.get(a["site"], 0.0) + a["cu"]
    return max(sorted(load), key=lambda s: load[s])


def _run_case(size: str, mode: str, cap: float, timeout: float) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "case", size, mode, "--cap", str(cap)]
    started = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {
            "size": size,
            "mode": mode,
            "status": f"not finished in {timeout:.0f} s",
            "wall_s": time.perf_counter() - started,
            "timed_out": True,
        }
    if proc.returncode != 0:
        return {
            "size": size,
            "mode": mode,
            "status": "error",
            "error": proc.stderr.decode()[-2000:],
        }
    return json.loads(proc.stdout.decode().strip().splitlines()[-1])


def sizes(names: list[str], pulp_cap: float, lp_timeout: float) -> list[dict]:
    rows = []
    for size in names:
        for mode in ("lp", "gang", "pulp"):
            timeout = pulp_cap + 120 if mode == "pulp" else lp_timeout
            row = _run_case(size, mode, pulp_cap, timeout)
            rows.append(row)
            print(json.dumps(row), flush=True)
        if size != "L":
            for mode in ("lp-simplex", "lp-ipm", "lp-pdlp"):
                row = _run_case(size, mode, pulp_cap, lp_timeout)
                rows.append(row)
                print(json.dumps(row), flush=True)
    return rows


def publish_cost(cases: list[str], timeout: float, write: bool, rows: list | None) -> list[dict]:
    """The publish step (rounding, repair, exact re-check) against the whole clearing;
    `rows`: the output of an earlier run, to write its section again."""
    if rows is None:
        rows = []
        for spec in cases:
            size, mode = spec.split(":")
            row = _run_case(size, "gang" if mode == "gang" else "publish", 900.0, timeout)
            rows.append(row)
            print(json.dumps(row), flush=True)
    lines = [
        "## Clearing engine: feasible rounding (bench/engine.py publish)",
        "",
        "```",
        ".venv/bin/python bench/engine.py publish --cases " + ",".join(cases) + " --write",
        "```",
        "",
        f"Measured {time.strftime('%Y-%m-%d')}, one case per process (load: the 15-minute "
        "load average when the case ended; 1 ≈ this benchmark alone). "
        "`publish` (aggregator/engine/publish.py) rounds to integer micro-CU / milli-kWh, "
        "repairs the rows the rounding broke, fills capacity[] and re-checks every "
        "constraint exactly; its time includes the disaggregation of inference classes the "
        "old rounding did too. Rows repaired = rows that naive 6-decimal rounding would have "
        "published over their limit (engine v3). Target: ≤ 5 % of the clearing time.",
        "",
        "| size / path | solver | clearing wall | publish | share | rows repaired | load |",
        "|---|---|---:|---:|---:|---|---:|",
    ]
    for spec, row in zip(cases, rows, strict=True):
        if "publish_s" not in row:
            lines.append(f"| {spec} | {row.get('status')} | | | | | |")
            continue
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(row["repaired_by_kind"].items()))
        lines.append(
            f"| {spec} | {row['solver']} | {row['wall_s']:.2f} s | {row['publish_s']:.3f} s | "
            f"{100 * row['publish_s'] / row['wall_s']:.2f} % | "
            f"{row['repaired_rows']} ({kinds or 'none'}) | {row.get('load_15min', 'n/a')} |"
        )
    from _report import publish as report

    report(lines[0], "\n".join(lines) + "\n", write)
    return rows


def _energy(snap, j, s, t, cu, offer_kwh, grid_kwh) -> tuple[float, float]:
    """(energy cost incl. carbon in JPY, kWh) of an allocation's energy."""
    grid_cost, offer_cost = energy_unit_cost(snap)
    cost = float(np.sum(offer_cost * offer_kwh) + np.sum(grid_cost * grid_kwh))
    return cost, float(np.sum(offer_kwh) + np.sum(grid_kwh))


def _result_energy(snap, result) -> tuple[float, float]:
    offer_pos = {o.id: i for i, o in enumerate(snap.energy_offers)}
    area_pos = {a.id: i for i, a in enumerate(snap.areas)}
    offer_kwh = np.zeros((len(snap.energy_offers), snap.n_intervals))
    grid_kwh = np.zeros((len(snap.areas), snap.n_intervals))
    for e in result.energy:
        offer_kwh[offer_pos[e["offer"]], e["interval"]] = e["kwh"]
    for g in result.grid:
        grid_kwh[area_pos[g["area"]], g["interval"]] = g["kwh"]
    return _energy(snap, None, None, None, None, offer_kwh, grid_kwh)


def fy2023(days: int) -> dict:
    prices = load_prices()
    dates = sorted(prices)[:days]
    mixes = {
        # Today's demonstrations: Tokyo users, Tokyo and Hokkaido sites, inference may move.
        "tokyo-hokkaido": {
            "sites": 4,
            "workloads": 20,
            "areas": ("hokkaido", "tokyo"),
            "latency_choices": (20, 30),
            "latency_p": (0.5, 0.5),
        },
        "national": {"sites": 12, "workloads": 40},
    }
    summary = {}
    for name, params in mixes.items():
        tot = {
            k: 0.0
            for k in (
                "welfare",
                "stay",
                "greedy",
                "e_cost",
                "e_kwh",
                "stay_cost",
                "stay_kwh",
                "greedy_cost",
                "greedy_kwh",
                "solve_s",
            )
        }
        for d in dates:
            doc = national(prices[d], seed=7, run_id=f"{name}-{d}", **params)
            snap = parse_snapshot(doc)
            t0 = time.perf_counter()
            result = solve(snap, SolveOptions(baselines=False))
            tot["solve_s"] += time.perf_counter() - t0
            idx = index(snap)
            tot["welfare"] += result.welfare_jpy
            cost, kwh = _result_energy(snap, result)
            tot["e_cost"] += cost
            tot["e_kwh"] += kwh
            for base in ("stay", "greedy"):
                alloc, welfare = baseline_welfare(snap, idx, base)
                tot[base] += welfare
                c, k = _energy(snap, None, None, None, None, alloc.offer_kwh, alloc.grid_kwh)
                tot[f"{base}_cost"] += c
                tot[f"{base}_kwh"] += k
        per_kwh = tot["e_cost"] / tot["e_kwh"]
        summary[name] = {
            "days": len(dates),
            "welfare_jpy": tot["welfare"],
            "welfare_gain_vs_stay_jpy": tot["welfare"] - tot["stay"],
            "welfare_gain_vs_greedy_jpy": tot["welfare"] - tot["greedy"],
            "energy_jpy_per_kwh": per_kwh,
            "stay_energy_jpy_per_kwh": tot["stay_cost"] / tot["stay_kwh"],
            "greedy_energy_jpy_per_kwh": tot["greedy_cost"] / tot["greedy_kwh"],
            "energy_cost_saved_vs_stay_pct": 100
            * (1 - per_kwh / (tot["stay_cost"] / tot["stay_kwh"])),
            "energy_cost_saved_vs_greedy_pct": 100
            * (1 - per_kwh / (tot["greedy_cost"] / tot["greedy_kwh"])),
            "mean_solve_s": tot["solve_s"] / len(dates),
        }
        print(json.dumps({name: summary[name]}), flush=True)
    return summary


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("sizes")
    s.add_argument("--sizes", default="S,M,L")
    s.add_argument("--pulp-cap", type=float, default=900.0)
    s.add_argument("--lp-timeout", type=float, default=1800.0)
    f = sub.add_parser("fy2023")
    f.add_argument("--days", type=int, default=366)
    pub = sub.add_parser("publish")
    pub.add_argument("--cases", default="M:lp,M:gang,L:lp")
    pub.add_argument("--timeout", type=float, default=1800.0)
    pub.add_argument("--write", action="store_true")
    pub.add_argument("--rows", type=Path, help="re-write the section from an earlier run's JSON")
    c = sub.add_parser("case")
    c.add_argument("size")
    c.add_argument("mode")
    c.add_argument("--cap", type=float, default=900.0)
    args = p.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if args.command == "case":
        print(json.dumps(case(args.size, args.mode, args.cap)))
    elif args.command == "publish":
        earlier = json.loads(args.rows.read_text()) if args.rows else None
        rows = publish_cost(args.cases.split(","), args.timeout, args.write, earlier)
        (OUT / "engine-publish.json").write_text(json.dumps(rows, indent=1))
    elif args.command == "sizes":
        rows = sizes(args.sizes.split(","), args.pulp_cap, args.lp_timeout)
        (OUT / "engine-sizes.json").write_text(json.dumps(rows, indent=1))
    else:
        (OUT / "engine-fy2023.json").write_text(json.dumps(fy2023(args.days), indent=1))


if __name__ == "__main__":
    main()
