"""How fast can any LP solver on this machine clear bench L? (on demand, ~15 minutes)

    .venv/bin/python bench/engine_solvers.py [--size L] [--solvers ipx,hipo,pdlp] [--write]

The same model the engine builds (inference classes aggregated) goes to every solver
available here, each at 1 and 2 threads where it can use them:

- ipx:  HiGHS' interior point (the engine's choice from 20 k columns), no crossover;
- hipo: HiGHS' Cholesky-based interior point (HiPO). The highspy wheel lacks its BLAS and
        METIS; run this script with a scratch venv that has
        `pip install numpy scipy highspy==1.15.1 highspy-extras==1.15.1` to include it;
- pdlp: OR-Tools' first-order PDLP to a 1e-4 relative tolerance: approximate prices only,
        a lower bound on the time of anything that must first reach the optimum.

Besides the times it reports the size of the optimal solution's support (how many columns
are positive at the optimum), which bounds what any restricted LP or simplex path can skip.
Figures go to docs/benchmarks.md, "Clearing engine: solvers at L", with --write.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"

SECTION = "## Clearing engine: solvers at L (bench/engine_solvers.py)"


# The cases import only highspy / ortools, so a scratch venv without the project can run
# them (HiPO needs highspy-extras, which pairs with another highspy than the project's).


def _highs(mps: str, solver: str, threads: int) -> tuple[dict, np.ndarray, np.ndarray]:
    from importlib.metadata import version

    import highspy

    h = highspy.Highs()
    options = {
        "output_flag": False,
        "solver": {"ipx": "ipm"}.get(solver, solver),
        "run_crossover": "off",
        "threads": threads,
        "random_seed": 0,
        "primal_feasibility_tolerance": 1e-9,
        "dual_feasibility_tolerance": 1e-9,
    }
    for key, value in options.items():
        if h.setOptionValue(key, value) != highspy.HighsStatus.kOk:
            return {"status": f"not available in highspy {version('highspy')}"}, None, None
    h.readModel(mps)
    started = time.perf_counter()
    h.run()
    wall = time.perf_counter() - started
    info, sol = h.getInfo(), h.getSolution()
    run = {
        "library": f"highspy {version('highspy')}",
        "status": str(h.getModelStatus()).rsplit(".", 1)[-1],
        "wall_s": wall,
        "iterations": int(info.ipm_iteration_count),
    }
    return run, np.asarray(sol.col_value), np.asarray(sol.row_dual)


def _pdlp(mps: str, threads: int, eps: float) -> tuple[dict, np.ndarray, np.ndarray]:
    import ortools
    from ortools.pdlp import solve_log_pb2, solvers_pb2
    from ortools.pdlp.python import pdlp

    qp = pdlp.read_quadratic_program_or_die(mps)
    params = solvers_pb2.PrimalDualHybridGradientParams()
    params.num_threads = threads
    criteria = params.termination_criteria.simple_optimality_criteria
    criteria.eps_optimal_relative = eps
    criteria.eps_optimal_absolute = eps
    params.termination_criteria.time_sec_limit = 900
    started = time.perf_counter()
    out = pdlp.primal_dual_hybrid_gradient(qp, params)
    wall = time.perf_counter() - started
    reason = solve_log_pb2.TerminationReason.Name(out.solve_log.termination_reason)
    run = {
        "library": f"ortools {ortools.__version__}",
        "status": reason.removeprefix("TERMINATION_REASON_"),
        "wall_s": wall,
        "iterations": int(out.solve_log.iteration_count),
    }
    return run, np.asarray(out.primal_solution), np.asarray(out.dual_solution)


def case(mps: str, solver: str, threads: int, eps: float, out: str) -> dict:
    """One solve in its own process (HiGHS' thread pool is fixed at its first use)."""
    if solver == "pdlp":
        run, x, y = _pdlp(mps, threads, eps)
    else:
        run, x, y = _highs(mps, solver, threads)
    if x is not None:
        np.savez(out, x=x, y=y)
    return run


def measure(args) -> None:
    sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
    from _report import publish
    from engine import _scenario

    from aggregator.engine import parse_snapshot
    from aggregator.engine.feasibility import feasible_triples, index
    from aggregator.engine.highs_solver import new_highs, pass_model
    from aggregator.engine.model import build
    from aggregator.engine.pricing import dual_bound

    snap = parse_snapshot(_scenario(args.size))
    idx = index(snap)
    model = build(snap, idx, feasible_triples(snap, idx), aggregate=True)
    print(f"{args.size}: {model.n_col} columns, {model.n_row} rows, {model.matrix.nnz} nonzeros")
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        mps, out = f"{tmp}/{args.size}.mps", f"{tmp}/solution.npz"
        h = new_highs({})
        pass_model(h, model, integer=False)
        h.writeModel(mps)
        for name in args.solvers.split(","):
            for threads in (1, 2):
                if name == "ipx" and threads == 2:
                    continue  # IPX runs on one thread whatever the option says
                print(f"{name}, {threads} thread(s)…", flush=True)
                python = args.hipo_python if name == "hipo" else sys.executable
                cmd = [python, __file__, "--case", name, str(threads), mps, out]
                proc = subprocess.run(
                    [*cmd, "--pdlp-eps", str(args.pdlp_eps)],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                run = {"solver": name, "threads": threads, "status": "error"}
                if proc.returncode == 0:
                    run.update(json.loads(proc.stdout.strip().splitlines()[-1]))
                else:
                    print(proc.stderr[-2000:])
                if "wall_s" in run:
                    with np.load(out) as sol:
                        objective = float(model.cost @ sol["x"])
                        bound = dual_bound(model, sol["y"])
                        run["price_gap"] = abs(bound - objective) / max(1.0, abs(objective))
                        run["support"] = int((sol["x"] > 1e-6).sum())
                        run["objective"] = objective
                runs.append(run)
                print(run, flush=True)
                if "wall_s" not in run:
                    break
    size = {"size": args.size, "columns": model.n_col, "rows": model.n_row, "nnz": model.matrix.nnz}
    record = {**size, "pdlp_eps": args.pdlp_eps, "date": time.strftime("%Y-%m-%d"), "runs": runs}
    OUT.mkdir(exist_ok=True)
    OUT.joinpath("engine_solvers.json").write_text(json.dumps(record, indent=1))
    publish(SECTION, _report(record), args.write)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="L")
    parser.add_argument("--solvers", default="ipx,hipo,pdlp")
    parser.add_argument("--pdlp-eps", type=float, default=1e-4)
    parser.add_argument(
        "--hipo-python",
        default=sys.executable,
        help="an interpreter whose highspy has HiPO (highspy-extras installed)",
    )
    parser.add_argument("--case", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="re-print the last run (bench/out/engine_solvers.json)",
    )
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    if args.case:
        solver, threads, mps, out = args.case
        print(json.dumps(case(mps, solver, int(threads), args.pdlp_eps, out)))
    elif args.report_only:
        sys.path.insert(0, str(ROOT / "bench"))
        from _report import publish

        record = json.loads(OUT.joinpath("engine_solvers.json").read_text())
        publish(SECTION, _report(record), args.write)
    else:
        measure(args)


def _report(record: dict) -> str:
    runs = record["runs"]
    exact = [r for r in runs if r["solver"] != "pdlp" and r["status"] == "kOptimal"]
    lines = [
        SECTION,
        "",
        "```",
        ".venv/bin/python bench/engine_solvers.py --size L --hipo-python SCRATCH/bin/python --write",
        "# SCRATCH: python3 -m venv SCRATCH && SCRATCH/bin/pip install numpy scipy \\",
        "#          highspy==1.15.1 highspy-extras==1.15.1   (HiPO's BLAS, METIS, AMD)",
        "```",
        "",
        f"Measured {record['date']}, bench {record['size']} as the engine builds it (inference "
        f"classes aggregated): {record['columns']:,} columns, {record['rows']:,} rows, "
        f"{record['nnz']:,} nonzeros; one solve per process. The "
        "target for the whole clearing is ≤ 15 s.",
        "",
        "| solver | library | threads | status | iterations | wall s | objective off the "
        "optimum | price certificate gap |",
        "|---|---|---:|---|---:|---:|---:|---:|",
    ]
    for r in runs:
        if "wall_s" not in r:
            lib = r.get("library", "")
            lines.append(f"| {r['solver']} | {lib} | {r['threads']} | {r['status']} | | | | |")
            continue
        best = exact[0]["objective"] if exact else float("nan")
        off = abs(r["objective"] - best) / abs(best)
        gap = r["price_gap"]
        gap_text = f"{gap:.1e}" if np.isfinite(gap) else "no bound (duals infeasible)"
        lines.append(
            f"| {r['solver']} | {r['library']} | {r['threads']} | {r['status']} | "
            f"{r['iterations']} | {r['wall_s']:.1f} | {off:.1e} | {gap_text} |"
        )
    lines.append("")
    if exact:
        support = exact[0]["support"]
        lines.append(
            f"The optimum ({exact[0]['solver']}) has {support:,} positive columns "
            f"({support / record['columns']:.0%} of the model): no restricted LP or simplex "
            "path can be much smaller than that."
        )
    lines.append(
        f"PDLP stops at a {record['pdlp_eps']:g} relative tolerance: its duals are not "
        "feasible (no certified prices), so its time is a floor for any method that must "
        "first get near the optimum, not a way to clear."
    )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
