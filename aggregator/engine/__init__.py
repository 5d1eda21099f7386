"""The clearing engine: snapshot in, result out. Pure Python + HiGHS/OR-Tools + numpy; no Django.

Public API (what the Django side calls)::

    from aggregator.engine import (
        parse_snapshot, solve, baseline, explain, redispatch,
        SiteOutage, EnergyOfferChange, SolveOptions, SnapshotError, EventError,
    )

    snap = parse_snapshot(document)          # dict | JSON str/bytes | Path → Snapshot
    result = solve(snap)                     # → Result (wattbit.clearing-result/1)
    result.to_dict(); result.to_json_bytes() # canonical document / bytes (sorted, rounded)
    baseline(snap, "stay") → (welfare_jpy, allocations)
    explain(snap) → dict (model size, triples per workload, unservable workloads and why)
    redispatch(snap, result, SiteOutage("tky-1", remaining_cu=0)) → Redispatch
        (.snapshot: the one-interval snapshot solved, .result, .changes: amended orders)
    solve(snap, SolveOptions(solver=independent_backend(stored_result)))
        # replay with another backend than the run's (stats.backend); same bytes expected

`SnapshotError` (a ValueError) names the bad field; the CLI maps it to exit status 2.
`PublishError` (a RuntimeError): the solution could not be published exactly feasible — the
run fails; nothing is dispatched.
See docs/engine.md for the model, price definitions and solver choice.
"""

from __future__ import annotations

from typing import Any

from aggregator.engine.backends import backend_of, independent_backend
from aggregator.engine.baselines import baseline_welfare
from aggregator.engine.canonical import canonical_json_bytes
from aggregator.engine.errors import EventError, PublishError, SnapshotError
from aggregator.engine.explain import explain
from aggregator.engine.feasibility import index
from aggregator.engine.parse import parse_snapshot
from aggregator.engine.redispatch import EnergyOfferChange, Redispatch, SiteOutage, redispatch
from aggregator.engine.result import Result
from aggregator.engine.snapshot import Snapshot
from aggregator.engine.solve import SolveOptions, solve


def baseline(snap: Snapshot, rule: str) -> tuple[float, list[dict[str, Any]]]:
    """Welfare (JPY) and allocations of the *stay* or *greedy* rule on a snapshot."""
    if rule not in ("stay", "greedy"):
        raise ValueError(f"unknown baseline {rule!r}")
    alloc, welfare = baseline_welfare(snap, index(snap), rule)
    rows = [
        {
            "workload": snap.workloads[j].id,
            "site": snap.sites[s].id,
            "interval": int(t),
            "cu": float(cu),
        }
        for j, s, t, cu in zip(alloc.j, alloc.s, alloc.t, alloc.cu, strict=True)
    ]
    return welfare, rows


__all__ = [
    "EnergyOfferChange",
    "EventError",
    "PublishError",
    "Redispatch",
    "Result",
    "SiteOutage",
    "Snapshot",
    "SnapshotError",
    "SolveOptions",
    "backend_of",
    "baseline",
    "canonical_json_bytes",
    "explain",
    "independent_backend",
    "parse_snapshot",
    "redispatch",
    "solve",
]
