"""Small snapshot documents built in tests (plain dicts in the wattbit.clearing/1 format)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

SCENARIOS = Path(__file__).parent / "scenarios"


def scenario(name: str) -> dict[str, Any]:
    return json.loads((SCENARIOS / f"{name}.json").read_text())


def document(
    *, areas, sites, capacity, workloads, energy=(), fixed=(), intervals=1, carbon_price=0
) -> dict[str, Any]:
    return copy.deepcopy(
        {
            "schema": "wattbit.clearing/1",
            "run_id": "test",
            "interval_minutes": 30,
            "intervals": [
                f"2024-08-01T{i // 2:02d}:{30 * (i % 2):02d}:00Z" for i in range(intervals)
            ],
            "firm_intervals": 1,
            "carbon_price_jpy_per_t": carbon_price,
            "areas": list(areas),
            "sites": list(sites),
            "capacity_offers": list(capacity),
            "energy_offers": list(energy),
            "workloads": list(workloads),
            "fixed": list(fixed),
        }
    )


def site(sid: str, area: str, *, kw=1.0, pue=1.0, latency=None, residency=("jp",), acc="h100"):
    return {
        "id": sid,
        "area": area,
        "accelerator": acc,
        "kw_per_cu": kw,
        "pue": pue,
        "latency_ms": latency or {"tokyo": 5},
        "residency": list(residency),
    }


def cap(sid: str, cu, price) -> dict[str, Any]:
    return {"id": f"cap-{sid}", "site": sid, "cu": cu, "price": price}


def by_key(rows, *keys) -> dict:
    return {tuple(r[k] for k in keys): r for r in rows}
