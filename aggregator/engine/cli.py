"""Command line: `python -m aggregator.engine {solve,baseline,explain} SNAPSHOT`, `solvers`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from aggregator.engine import backends
from aggregator.engine.baselines import baseline_welfare
from aggregator.engine.canonical import JPY_DECIMALS, canonical_json_bytes, rounded
from aggregator.engine.errors import SnapshotError
from aggregator.engine.explain import explain
from aggregator.engine.feasibility import index
from aggregator.engine.parse import parse_snapshot
from aggregator.engine.solve import SolveOptions, solve

EXIT_BAD_INPUT = 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m aggregator.engine", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("solve", help="clear a wattbit.clearing/1 snapshot")
    s.add_argument("snapshot", type=Path)
    s.add_argument("-o", "--output", type=Path, help="write the result here (default stdout)")
    s.add_argument(
        "--solver",
        default=backends.DEFAULT,
        help="solver backend (see `solvers`); every backend publishes the same result",
    )
    s.add_argument(
        "--time-budget",
        type=float,
        metavar="SECONDS",
        help="publish the documented fallback (flagged `fallback`) if the exact solve cannot "
        "finish in this wall-clock time",
    )
    b = sub.add_parser("baseline", help="welfare and allocations of a baseline rule")
    b.add_argument("rule", choices=("stay", "greedy"))
    b.add_argument("snapshot", type=Path)
    e = sub.add_parser("explain", help="model size and why workloads cannot be hosted")
    e.add_argument("snapshot", type=Path)
    sub.add_parser("solvers", help="the solver backends installed here, one per line")
    return p


def _baseline_document(rule: str, path: Path) -> dict:
    snap = parse_snapshot(path)
    idx = index(snap)
    alloc, welfare = baseline_welfare(snap, idx, rule)
    return {
        "run_id": snap.run_id,
        "input_sha256": snap.input_sha256,
        "baseline": rule,
        "welfare_jpy": rounded(welfare, JPY_DECIMALS),
        "allocations": [
            {
                "workload": snap.workloads[j].id,
                "site": snap.sites[s].id,
                "interval": int(t),
                "cu": rounded(cu, 6),
            }
            for j, s, t, cu in zip(alloc.j, alloc.s, alloc.t, alloc.cu, strict=True)
        ],
    }


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "solvers":
        for b in backends.available():
            version = b.version()
            print(f"{b.name}\t{b.summary}" + (f" [{version}]" if version else ""))
        return 0
    try:
        if args.command == "solve":
            try:
                options = SolveOptions(
                    solver=backends.get(args.solver).name, time_budget_s=args.time_budget
                )
            except ValueError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return EXIT_BAD_INPUT
            data = solve(parse_snapshot(args.snapshot), options).to_json_bytes() + b"\n"
            if args.output:
                args.output.write_bytes(data)
            else:
                sys.stdout.buffer.write(data)
        elif args.command == "baseline":
            sys.stdout.buffer.write(
                canonical_json_bytes(_baseline_document(args.rule, args.snapshot)) + b"\n"
            )
        else:
            print(json.dumps(explain(parse_snapshot(args.snapshot)), indent=2, ensure_ascii=False))
    except SnapshotError as exc:
        print(f"error: invalid snapshot: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0
