"""The `wattbit.clearing-result/1` document: typed fields, fixed rounding, canonical bytes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aggregator.engine.canonical import canonical_json_bytes
from aggregator.engine.snapshot import RESULT_SCHEMA

# The parts that must be byte-identical for the same snapshot (replay compares these).
DETERMINISTIC_KEYS = ("allocations", "capacity", "energy", "grid", "prices")


@dataclass
class Result:
    run_id: str
    input_sha256: str
    status: str
    welfare_jpy: float
    allocations: list[dict[str, Any]]
    energy: list[dict[str, Any]]
    grid: list[dict[str, Any]]
    prices: dict[str, list[dict[str, Any]]]
    uplift: list[dict[str, Any]]
    baselines: dict[str, dict[str, float]]
    stats: dict[str, Any]
    settlement: dict[str, float] = field(default_factory=dict)
    # CU sold per capacity offer and interval: {"offer", "interval", "cu"}, cu > 0.
    capacity: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    # Pair generation (migration_pairs.py): the (workload id, site id) pairs worth starting
    # the next rolling run from (`SolveOptions.pair_start`); None without generation. Not
    # part of the document: it names other participants' workloads, and only saves time.
    pair_start_next: frozenset[tuple[str, str]] | None = field(
        default=None, repr=False, compare=False
    )

    def to_dict(self) -> dict[str, Any]:
        out = {
            "schema": RESULT_SCHEMA,
            "run_id": self.run_id,
            "input_sha256": self.input_sha256,
            "status": self.status,
            "welfare_jpy": self.welfare_jpy,
            "allocations": self.allocations,
            "energy": self.energy,
            "capacity": self.capacity,
            "grid": self.grid,
            "prices": self.prices,
            "uplift": self.uplift,
            "baselines": self.baselines,
            "stats": self.stats,
            "settlement": self.settlement,
        }
        out.update(self.extra)
        return out

    def to_json_bytes(self) -> bytes:
        return canonical_json_bytes(self.to_dict())

    def deterministic_bytes(self) -> bytes:
        """Canonical bytes of the replay-relevant parts (no timings)."""
        doc = self.to_dict()
        return canonical_json_bytes({k: doc[k] for k in DETERMINISTIC_KEYS})
