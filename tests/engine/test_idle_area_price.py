"""An area where nothing is consumed is priced at the cost of its first kWh, not 0."""

from __future__ import annotations

import json
from pathlib import Path

from aggregator.engine import solve

TINY = Path(__file__).parent / "scenarios" / "tiny-two-areas.json"


def _doc() -> dict:
    doc = json.loads(TINY.read_text())
    doc["areas"] += [
        {"id": "kyushu", "price": [8.0], "carbon": 300},
        {"id": "tohoku", "price": [12.0], "carbon": 480},
    ]
    doc["energy_offers"] = [
        {"id": "en-1", "area": "kyushu", "kwh": [500], "price": [3.0], "carbon": 20,
         "curtailment_relief": True},
    ]  # fmt: skip
    return doc


def _energy(result) -> dict[str, float]:
    return {p["area"]: p["jpy_per_kwh"] for p in result.prices["energy"]}


def test_idle_areas_price_their_cheapest_source():
    result = solve(_doc())
    energy = _energy(result)
    assert energy["tohoku"] == 12.0  # only the grid
    assert energy["kyushu"] == 3.0  # the curtailment offer is cheaper than the grid
    # Loaded areas keep their cleared prices (the tiny scenario's known answer).
    assert energy["tokyo"] == 20.0 and energy["hokkaido"] == 10.0
    assert result.welfare_jpy == 2900.0
    assert result.stats["dual_bound_gap"] < 1e-9  # the prices still certify the optimum


def test_carbon_price_counts_in_the_idle_price():
    doc = _doc()
    doc["carbon_price_jpy_per_t"] = 10_000  # 0.01 JPY per g
    energy = _energy(solve(doc))
    assert energy["tohoku"] == 12.0 + 480 * 0.01
    assert energy["kyushu"] == 3.0 + 20 * 0.01
