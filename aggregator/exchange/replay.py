"""Replay: solve a stored snapshot again and prove the stored result, byte for byte.

It is independent verification, not a rerun: the snapshot is solved with a different
solver backend than the run used (OR-Tools GLOP for a HiGHS run), and the price rule makes
every backend publish the same allocations and prices (docs/engine.md, "Solver backends").
A run that published the engine's time-budget fallback is replayed as that fallback."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from aggregator.engine import SolveOptions, backend_of, independent_backend, solve
from aggregator.engine.result import DETERMINISTIC_KEYS
from aggregator.engine.solve import ENGINE_VERSION
from aggregator.platform.audit import audit_record
from aggregator.platform.audit_codes import SYSTEM_ACTOR, PlatformAudit
from market.models.clearing import ClearingRun, RunStatus
from market.services.firm_rows import result_document, result_sha256


@dataclass(frozen=True)
class ReplayVerdict:
    run_id: int
    ok: bool
    expected_sha256: str
    actual_sha256: str
    input_ok: bool
    first_difference: str = ""
    run_solver: str = ""  # the backend that cleared the run
    replay_solver: str = ""  # the one that checked it

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def _first_difference(stored: dict, replayed: dict, firm_intervals: int) -> str:
    """Where the results first differ. Rows of advisory intervals are named, not shown: their
    values derive from bids that are still sealed (docs/market.md, publication rule)."""
    for key in DETERMINISTIC_KEYS:
        a, b = stored.get(key), replayed.get(key)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):  # prices: {"compute": [...], ...}
            sub = next(k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k))
            return _rows_difference(f"{key}.{sub}", a.get(sub), b.get(sub), firm_intervals)
        return _rows_difference(key, a, b, firm_intervals)
    return ""


def _rows_difference(label: str, a, b, firm_intervals: int) -> str:
    if not (isinstance(a, list) and isinstance(b, list)):
        return f"{label} differs"
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            if _advisory(x, firm_intervals) or _advisory(y, firm_intervals):
                return f"{label}[{i}] differs (an advisory interval: values withheld)"
            return f"{label}[{i}]: stored {json.dumps(x)} ≠ replayed {json.dumps(y)}"
    return f"{label}: stored has {len(a)} rows, replay {len(b)}"


def _advisory(row, firm_intervals: int) -> bool:
    return not isinstance(row, dict) or row.get("interval", 0) >= firm_intervals


def replay_run(run: ClearingRun, *, actor_label: str = SYSTEM_ACTOR, actor=None) -> ReplayVerdict:
    """Re-solve `run`'s snapshot; compare its hash and the result's deterministic part."""
    if run.status != RunStatus.COMPLETED:
        raise ValueError(f"run {run.pk} is {run.status}, not completed")
    snapshot = run.snapshot_json.encode("utf-8")
    input_ok = hashlib.sha256(snapshot).hexdigest() == run.input_sha256
    stored = json.loads(run.result_json)
    verifier = independent_backend(stored)
    result = solve(
        snapshot, SolveOptions(solver=verifier, force_fallback=bool(stored.get("fallback")))
    )
    actual = result_sha256(result)
    ok = input_ok and actual == run.result_sha256
    difference = ""
    if not input_ok:
        difference = "the stored snapshot does not match its recorded sha256"
    elif not ok:
        firm = int(json.loads(snapshot).get("firm_intervals", 1))
        replayed = result_document(result)
        difference = _first_difference(stored, replayed, firm)
        difference = difference or "the stored result does not match its recorded sha256"
        if (stored.get("fallback") or {}).get("prices") == "solver_duals":
            # Out of time even for the price rule: the run published its solver's own duals,
            # which no replay selects again (docs/engine.md, time budget).
            difference = (
                "the run's prices are its solver's own duals (its time budget ran out before "
                "the price rule); " + difference
            )
        solved_by = (stored.get("stats") or {}).get("engine_version", 1)
        if solved_by != ENGINE_VERSION:
            # Not tampering: the clearing rules changed since (docs/engine.md, Determinism).
            difference = (
                f"solved by engine version {solved_by}, replayed with {ENGINE_VERSION}; "
                + difference
            )
    verdict = ReplayVerdict(
        run.pk, ok, run.result_sha256, actual, input_ok, difference,
        run_solver=backend_of(stored), replay_solver=verifier,
    )  # fmt: skip
    audit_record(
        code=PlatformAudit.REPLAY_CHECKED,
        actor_label=actor_label,
        actor_user=getattr(actor, "user", None) if actor else None,
        organisation=getattr(actor, "organisation", None) if actor else None,
        obj=run,
        payload=verdict.as_dict(),
    )
    return verdict
