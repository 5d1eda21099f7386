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


def _first_difference(stored: dict, replayed: dict) -> str:
    for key in DETERMINISTIC_KEYS:
        a, b = stored.get(key), replayed.get(key)
        if a == b:
            continue
        if isinstance(a, list) and isinstance(b, list):
            for i, (x, y) in enumerate(zip(a, b, strict=False)):
                if x != y:
                    return f"{key}[{i}]: stored {json.dumps(x)} ≠ replayed {json.dumps(y)}"
            return f"{key}: stored has {len(a)} rows, replay {len(b)}"
        if isinstance(a, dict) and isinstance(b, dict):
            for sub in sorted(set(a) | set(b)):
                if a.get(sub) != b.get(sub):
                    return _first_difference({sub: a.get(sub)}, {sub: b.get(sub)}) or f"{key}.{sub}"
        return f"{key} differs"
    return ""


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
        difference = _first_difference(stored, json.loads(canonical_json_bytes(result.to_dict())))
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
