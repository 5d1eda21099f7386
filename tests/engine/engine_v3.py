"""Engine version 4 against the results version 3 published for the same scenarios.

`scenarios/engine-v3.json` holds, per scenario, the sha256 of v3's `allocations`, `energy`,
`grid` and `prices` and v3's own rows wherever v4 publishes something else (see SOURCE.md).
Putting those rows back into a v4 result must give v3's bytes exactly: so a one-offer-per-
site snapshot clears as before, and every difference is one of the listed feasible-rounding
repairs, each checked here to be no more than a rounding unit or two.
"""

from __future__ import annotations

import hashlib
import json

from aggregator.engine.canonical import canonical_json_bytes
from tests.engine.builders import SCENARIOS

KEYS = {
    "allocations": ("workload", "site", "interval"),
    "energy": ("offer", "interval"),
    "grid": ("area", "interval"),
}


def _sha(rows) -> str:
    return hashlib.sha256(canonical_json_bytes(rows)).hexdigest()


def assert_matches_engine_v3(name: str, result) -> None:
    expected = json.loads((SCENARIOS / "engine-v3.json").read_text())[name]
    doc = json.loads(canonical_json_bytes(result.to_dict()))
    assert _sha(doc["prices"]) == expected["sha256"]["prices"], "prices moved"
    for kind, cols in KEYS.items():
        rows = {tuple(r[c] for c in cols): r for r in doc[kind]}
        for key in expected["v4_only"].get(kind, []):
            added = rows.pop(tuple(key))
            assert kind == "grid" and added["kwh"] <= 0.001, added  # a rounding flip
        for old in expected["v3_rows"].get(kind, []):
            key = tuple(old[c] for c in cols)
            new = rows.get(key)
            if kind == "allocations":  # repaired down by a few micro-CU, never up
                assert new is not None and 0 < old["cu"] - new["cu"] <= 1e-5 + 1e-12, (old, new)
            else:  # an award gives back at most 0.001 kWh; grid moves by a rounding flip
                change = old["kwh"] - (new["kwh"] if new else 0.0)
                assert (change > 0 or kind == "grid") and abs(change) <= 0.001 + 1e-9
            rows[key] = old
        rebuilt = [rows[k] for k in sorted(rows)]
        assert _sha(rebuilt) == expected["sha256"][kind], f"{kind} differs beyond the repairs"
    repaired = bool(expected["v3_rows"].get("allocations") or expected["v3_rows"].get("energy"))
    assert (result.stats["repaired_rows"] > 0) == repaired
