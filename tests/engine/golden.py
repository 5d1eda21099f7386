"""The engine's published bytes for the test scenarios (`scenarios/engine-v6.json`).

Each entry is the sha256 of a scenario's deterministic parts (`result.DETERMINISTIC_KEYS`)
as the current engine version publishes them. The allocation rule and the price rule make
them independent of the solver path: the dual simplex, the interior point with crossover and
every backend must reproduce the same bytes. Regenerate only together with an engine version bump:
`.venv/bin/python -m tests.engine.golden` rewrites the file.
"""

from __future__ import annotations

import hashlib
import json

from aggregator.engine import SolveOptions, solve
from aggregator.engine.canonical import canonical_json_bytes
from aggregator.engine.result import DETERMINISTIC_KEYS
from aggregator.engine.solve import ENGINE_VERSION
from tests.engine.builders import SCENARIOS, scenario

GOLDEN = SCENARIOS / "engine-v6.json"
# Scenario → the options its test solves it with (national-medium: as its test does).
CASES = {
    "tiny-two-areas": {},
    "pair-small": {},
    "kyushu-curtailment": {},
    "national-medium": {"mip_time_limit_s": 20},
    "bench-s": {"baselines": False},
}


def digests(result) -> dict[str, str]:
    doc = json.loads(canonical_json_bytes(result.to_dict()))
    return {k: hashlib.sha256(canonical_json_bytes(doc[k])).hexdigest() for k in DETERMINISTIC_KEYS}


def assert_matches_golden(name: str, result) -> None:
    expected = json.loads(GOLDEN.read_text())
    assert expected["engine_version"] == result.stats["engine_version"]
    got = digests(result)
    moved = [k for k in DETERMINISTIC_KEYS if got[k] != expected["scenarios"][name][k]]
    assert not moved, f"{name}: {moved} differ from engine v{ENGINE_VERSION}'s bytes"


def main() -> None:
    out = {
        name: digests(solve(scenario(name), SolveOptions(**options)))
        for name, options in CASES.items()
    }
    GOLDEN.write_text(
        json.dumps({"engine_version": ENGINE_VERSION, "scenarios": out}, indent=1) + "\n"
    )
    print(f"wrote {GOLDEN}")


if __name__ == "__main__":
    main()
