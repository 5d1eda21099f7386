"""Replay: solve a stored snapshot again and prove the stored result, byte for byte."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from aggregator.audit import audit_record
from aggregator.engine import solve
from aggregator.engine.canonical import canonical_json_bytes
from aggregator.engine.result import DETERMINISTIC_KEYS
from aggregator.engine.solve import ENGINE_VERSION
from market.clearing_models import ClearingRun, RunStatus


@dataclass(frozen=True)
class ReplayVerdict:
    run_id: int
    ok: bool
    expected_sha256: str
    actual_sha256: str
    input_ok: bool
    first_difference: str = ""

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


def replay_run(run: ClearingRun, *, actor_label: str = "system", actor=None) -> ReplayVerdict:
    """Re-solve `run`'s snapshot; compare its hash and the result's deterministic part."""
    if run.status != RunStatus.COMPLETED:
        raise ValueError(f"run {run.pk} is {run.status}, not completed")
    snapshot = run.snapshot_json.encode("utf-8")
    input_ok = hashlib.sha256(snapshot).hexdigest() == run.input_sha256
    result = solve(snapshot)
    actual = hashlib.sha256(result.deterministic_bytes()).hexdigest()
    ok = input_ok and actual == run.result_sha256
    difference = ""
    if not input_ok:
        difference = "the stored snapshot does not match its recorded sha256"
    elif not ok:
        stored = json.loads(run.result_json)
        firm = int(json.loads(snapshot).get("firm_intervals", 1))
        replayed = json.loads(canonical_json_bytes(result.to_dict()))
        difference = _first_difference(stored, replayed, firm)
        difference = difference or "the stored result does not match its recorded sha256"
        solved_by = (stored.get("stats") or {}).get("engine_version", 1)
        if solved_by != ENGINE_VERSION:
            # Not tampering: the clearing rules changed since (docs/engine.md, Determinism).
            difference = (
                f"solved by engine version {solved_by}, replayed with {ENGINE_VERSION}; "
                + difference
            )
    verdict = ReplayVerdict(run.pk, ok, run.result_sha256, actual, input_ok, difference)
    audit_record(
        code="aggregator.replay.checked",
        actor_label=actor_label,
        actor_user=getattr(actor, "user", None) if actor else None,
        organisation=getattr(actor, "organisation", None) if actor else None,
        obj=run,
        payload=verdict.as_dict(),
    )
    return verdict
