"""National scale (issue 13 §3): bench L with rule-selected prices, L gang, re-dispatch at L,
and a migration-free national market against one generic linprog call.

    .venv/bin/python bench/engine_scale.py run [--cases L:lp,L:lp-rolling,L:lp-whole,L:gang,L:redispatch,N:nomig,N:generic]
    .venv/bin/python bench/engine_scale.py run --write   # also rewrite its docs/benchmarks.md section
    .venv/bin/python bench/engine_scale.py case L lp     # one case in this process (JSON line)

Each case runs in its own process (peak memory = that process's max RSS), one after the
other. The profile columns come from the result's stats: build, the backend's solve, the
allocation polish, the face, the price rule and publishing. L:lp-whole is bench L solved
as one LP, without pair generation (the engine before it): same bytes, for the ratio.
L:lp-rolling is bench L started from the pairs that the run 30 minutes before found worth
their cost (`SolveOptions.pair_start`), as the rolling exchange clears it: same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from _engine_scenarios import ACCELERATORS, national  # noqa: E402
from engine import BENCH_DAY, _peak_mib, _redispatch_on_greedy_plan, load_prices  # noqa: E402

from aggregator.engine import SolveOptions, parse_snapshot, solve  # noqa: E402

OUT = ROOT / "bench" / "out"
SECTION = "## Clearing engine: national scale (bench/engine_scale.py)"
# The migration-free national market: bench L's areas and hardware, a few more workloads
# (≈ 1.1 M feasible triples), no migration cost anywhere.
NATIONAL = {"sites": 200, "workloads": 3200}


def _snapshot(size: str, *, gang_share: float = 0.0):
    if size == "N":
        doc = national(
            load_prices()[BENCH_DAY],
            seed=1,
            accelerators=ACCELERATORS["L"],
            run_id="national-nomig",
            **NATIONAL,
        )
        for w in doc["workloads"]:
            w["migration_cost"] = 0
        return parse_snapshot(doc)
    from engine import _scenario

    return parse_snapshot(_scenario(size, gang_share=gang_share))


def case(size: str, mode: str) -> dict:
    started = time.perf_counter()
    if mode == "generic":
        from _engine_generic import linprog_per_triple

        snap = _snapshot(size)
        out = linprog_per_triple(snap)
        return {"size": size, "mode": mode, **out, "peak_mib": _peak_mib()}
    snap = _snapshot(size, gang_share=0.3 if mode == "gang" else 0.0)
    # "lp-whole": the LP solved whole, without pair generation (the engine before it).
    parse_s = time.perf_counter() - started
    if mode == "redispatch":
        return {
            "size": size,
            "mode": mode,
            **_redispatch_on_greedy_plan(snap),
            "peak_mib": _peak_mib(),
        }
    previous: dict = {}
    pair_start = None
    if mode == "lp-rolling":
        # The exchange clears every 30 minutes: the run before this one starts it.
        started = time.perf_counter()
        before = solve(_previous_slot(size), SolveOptions(baselines=False))
        pair_start = before.pair_start_next
        previous = {
            "previous_wall_s": time.perf_counter() - started,
            "previous_pairs": _pairs_summary(before.stats.get("migration_pairs")),
            "pair_start": len(pair_start or ()),
        }
        del before
    opts = SolveOptions(
        baselines=False,
        mip_time_limit_s=60.0,
        pair_generation=False if mode == "lp-whole" else None,
        pair_start=pair_start,
    )
    started = time.perf_counter()
    result = solve(snap, opts)
    wall = time.perf_counter() - started
    keys = (
        "solver",
        "variables",
        "constraints",
        "feasible_triples",
        "integer_variables",
        "build_s",
        "solve_s",
        "polish_s",
        "face_s",
        "publish_s",
        "dual_bound_gap",
        "mip_gap",
        "lp_bound_jpy",
    )
    return {
        "size": size,
        "mode": mode,
        "status": result.status,
        "parse_s": parse_s,
        "wall_s": wall,
        "welfare_jpy": result.welfare_jpy,
        **{k: result.stats.get(k) for k in keys},
        "price_rule_s": (result.stats.get("price_rule") or {}).get("seconds"),
        "lexicographic_components": (result.stats.get("price_rule") or {}).get(
            "lexicographic_components"
        ),
        "uplift_jpy": result.settlement.get("uplift_jpy"),
        "pair_generation": _pairs_summary(result.stats.get("migration_pairs")),
        "sha256": hashlib.sha256(result.deterministic_bytes()).hexdigest(),
        "peak_mib": _peak_mib(),
        "load_15min": round(os.getloadavg()[2], 2),
        **previous,
    }


def _previous_slot(size: str):
    """The run 30 minutes before bench `size`, as the rolling exchange would have cleared it:
    the same sites and workloads, the area prices one slot earlier (the previous day's last
    slot, then this day's first 47)."""
    from engine import SIZES

    prices = load_prices()
    days = sorted(prices)
    day_before = days[days.index(BENCH_DAY) - 1]
    shifted = np.vstack([prices[day_before][-1:], prices[BENCH_DAY][:-1]])
    sites, workloads = SIZES[size]
    doc = national(
        shifted,
        sites=sites,
        workloads=workloads,
        seed=1,
        accelerators=ACCELERATORS[size],
        run_id=f"bench-{size}-previous-slot",
    )
    return parse_snapshot(doc)


def _pairs_summary(stats: dict | None) -> str | None:
    """ "included of pairs, rounds: seconds each" (migration_pairs.py), or None."""
    if not stats:
        return None
    rounds = ", ".join(
        f"{r['kind']} {r.get('seconds', r.get('price_rule_s', 0)):.1f}" for r in stats["rounds"]
    )
    return f"{stats['included']} of {stats['pairs']} pairs; {rounds}"


def _run(size: str, mode: str, timeout: float) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "case", size, mode]
    started = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {
            "size": size,
            "mode": mode,
            "status": f"not finished in {timeout:.0f} s",
            "wall_s": time.perf_counter() - started,
        }
    if proc.returncode != 0:
        return {
            "size": size,
            "mode": mode,
            "status": "error",
            "error": proc.stderr.decode()[-1500:],
        }
    return json.loads(proc.stdout.decode().strip().splitlines()[-1])


def _fmt(v, spec=".1f") -> str:
    return "—" if v is None else format(v, spec)


def report(rows: list[dict]) -> str:
    lines = [
        SECTION,
        "",
        "```",
        ".venv/bin/python bench/engine_scale.py run --write",
        "```",
        "",
        f"Measured {time.strftime('%Y-%m-%d')}, one case per process, one after the other "
        "(load: the 15-minute load average as the case ended). Profile columns are the "
        "result's stats: the backend's solve, the allocation polish, the face, the price "
        "rule, publishing (build is the model's assembly; parsing and generating the "
        "snapshot are not counted in the wall time).",
        "",
        "| case | status | columns / rows | wall | build | solve | polish | face | price rule (components) | publish | peak RSS | certificate | load |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        name = f"{r['size']}:{r['mode']}"
        if r["mode"] == "redispatch":
            lines.append(
                f"| {name} | {r.get('status')} | {r.get('redispatch_variables', '—')} / "
                f"{r.get('redispatch_constraints', '—')} | {_fmt(r.get('redispatch_s'), '.3f')} s "
                f"(best of 3) | | {_fmt(r.get('redispatch_solve_s'), '.3f')} | | | | | "
                f"{_fmt(r.get('peak_mib'), '.0f')} MiB | | |"
            )
            continue
        if r["mode"] == "generic":
            lines.append(
                f"| {name} (linprog, per triple) | {r.get('generic_status', r.get('status'))} | "
                f"{r.get('generic_columns', '—')} / {r.get('generic_rows', '—')} | "
                f"{_fmt(r.get('generic_solve_s', r.get('wall_s')))} s (+ build "
                f"{_fmt(r.get('generic_build_s'))} s) | | | | | | | "
                f"{_fmt(r.get('peak_mib'), '.0f')} MiB | | |"
            )
            continue
        lines.append(
            f"| {name} | {r.get('status')} | {r.get('variables', '—')} / "
            f"{r.get('constraints', '—')} | {_fmt(r.get('wall_s'))} s | {_fmt(r.get('build_s'))} | "
            f"{_fmt(r.get('solve_s'))} | {_fmt(r.get('polish_s'))} | {_fmt(r.get('face_s'))} | "
            f"{_fmt(r.get('price_rule_s'))} ({r.get('lexicographic_components', '—')}) | "
            f"{_fmt(r.get('publish_s'), '.2f')} | {_fmt(r.get('peak_mib'), '.0f')} MiB | "
            f"{_fmt(r.get('dual_bound_gap'), '.1e')} | {r.get('load_15min', '—')} |"
        )
    by = {f"{r['size']}:{r['mode']}": r for r in rows}
    generated = [
        f"- {k}: {r['pair_generation']}" for k, r in by.items() if r.get("pair_generation")
    ]
    if generated:
        lines += ["", "Pair generation (migration_pairs.py; seconds per step):", *generated]
    lp, whole = by.get("L:lp", {}), by.get("L:lp-whole", {})
    if lp.get("sha256") and whole.get("sha256"):
        lines += [
            "",
            f"L:lp and L:lp-whole (the whole LP, no pair generation) publish "
            f"{_same_bytes(lp, whole)} (sha256 {lp['sha256'][:16]}… / {whole['sha256'][:16]}…); "
            f"{_ratio(whole, lp)}.",
        ]
    rolling = by.get("L:lp-rolling", {})
    if rolling.get("sha256") and lp.get("sha256"):
        lines += [
            "",
            f"L:lp-rolling starts from the {rolling.get('pair_start')} pairs that the run 30 "
            f"minutes before found worth their cost (that run: "
            f"{_fmt(rolling.get('previous_wall_s'))} s, not counted) and publishes "
            f"{_same_bytes(rolling, lp)} as L:lp: {_ratio(lp, rolling)}.",
        ]
    lines += ["", *_against_targets(by)]
    return "\n".join(lines) + "\n"


def _same_bytes(a: dict, b: dict) -> str:
    return "the same bytes" if a["sha256"] == b["sha256"] else "**different bytes**"


def _ratio(slow: dict, fast: dict) -> str:
    """ "slow s / fast s = ratio×" of two cases' wall times."""
    return (
        f"{_fmt(slow.get('wall_s'))} s / {_fmt(fast.get('wall_s'))} s = "
        f"{_fmt(slow['wall_s'] / fast['wall_s'], '.2f')}×"
    )


def _against_targets(by: dict[str, dict]) -> list[str]:
    """Issue 13 §3's targets, each with the figure reached and met / not met."""

    def verdict(ok: bool | None) -> str:
        return "not measured" if ok is None else ("met" if ok else "**not met**")

    out = ["| target (issue 13 §3) | reached | verdict |", "|---|---|---|"]
    lp, gang, red = by.get("L:lp", {}), by.get("L:gang", {}), by.get("L:redispatch", {})
    nomig, generic = by.get("N:nomig", {}), by.get("N:generic", {})
    wall = lp.get("wall_s")
    out.append(
        f"| bench L, certified rule prices ≤ 90 s (cold: no run before) | {_fmt(wall)} s | "
        f"{verdict(None if wall is None else wall <= 90)} |"
    )
    r_wall = by.get("L:lp-rolling", {}).get("wall_s")
    out.append(
        f"| bench L, certified rule prices ≤ 90 s (rolling: after the run 30 minutes before) "
        f"| {_fmt(r_wall)} s | {verdict(None if r_wall is None else r_wall <= 90)} |"
    )
    g_wall, g_gap = gang.get("wall_s"), gang.get("mip_gap")
    ok = None if g_wall is None else (g_wall <= 180 and (g_gap or 0) <= 0.001)
    out.append(
        f"| L gang within 0.1 % of its bound ≤ 180 s | {_fmt(g_wall)} s, gap "
        f"{_fmt(None if g_gap is None else 100 * g_gap, '.3f')} % | {verdict(ok)} |"
    )
    r_s = red.get("redispatch_s")
    out.append(
        f"| re-dispatch of one outage at L ≤ 0.5 s | {_fmt(r_s, '.3f')} s | "
        f"{verdict(None if r_s is None else r_s <= 0.5)} |"
    )
    engine_s, generic_s = nomig.get("wall_s"), generic.get("generic_solve_s")
    ratio = generic_s / engine_s if engine_s and generic_s else None
    out.append(
        f"| migration-free national market ≥ 4× a generic linprog | engine "
        f"{_fmt(engine_s)} s, linprog {_fmt(generic_s)} s (solve only) = "
        f"{_fmt(ratio, '.1f')}× | {verdict(None if ratio is None else ratio >= 4)} |"
    )
    peak = lp.get("peak_mib")
    out.append(
        f"| peak memory at bench L ≤ 1.5 GiB | {_fmt(peak, '.0f')} MiB | "
        f"{verdict(None if peak is None else peak <= 1536)} |"
    )
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run")
    r.add_argument(
        "--cases", default="L:lp,L:lp-rolling,L:lp-whole,L:gang,L:redispatch,N:nomig,N:generic"
    )
    r.add_argument("--timeout", type=float, default=1800.0)
    r.add_argument("--write", action="store_true")
    r.add_argument("--rows", type=Path, help="re-write the section from an earlier run's JSON")
    c = sub.add_parser("case")
    c.add_argument("size")
    c.add_argument("mode")
    args = p.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if args.command == "case":
        print(json.dumps(case(args.size, args.mode)))
        return
    if args.rows:
        rows = json.loads(args.rows.read_text())
    else:
        rows = []
        for spec in args.cases.split(","):
            size, mode = spec.split(":")
            row = _run(size, mode, args.timeout)
            rows.append(row)
            print(json.dumps(row), flush=True)
        (OUT / "engine-scale.json").write_text(json.dumps(rows, indent=1))
    from _report import publish

    publish(SECTION, report(rows), args.write)


if __name__ == "__main__":
    main()
