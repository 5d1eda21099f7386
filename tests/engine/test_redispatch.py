"""Re-dispatch inside the firm interval: outages and changed curtailment offers."""

from __future__ import annotations

import pytest

from aggregator.engine import (
    EnergyOfferChange,
    EventError,
    SiteOutage,
    parse_snapshot,
    redispatch,
    solve,
)
from tests.engine.builders import by_key, cap, document, scenario, site


def test_partial_outage_moves_what_no_longer_fits():
    snap = parse_snapshot(scenario("tiny-two-areas"))
    result = solve(snap)
    out = redispatch(snap, result, SiteOutage(site="hkd-1", remaining_cu=4))
    alloc = by_key(out.result.allocations, "site")
    # Hokkaido keeps 4 CU; Tokyo takes what it can (its 10 CU), 1 CU of demand is lost.
    assert alloc[("hkd-1",)]["cu"] == pytest.approx(4.0)
    assert alloc[("tky-1",)]["cu"] == pytest.approx(10.0)
    assert {(c["site"], c["cu_before"], c["cu_after"]) for c in out.changes} == {
        ("hkd-1", 10.0, 4.0),
        ("tky-1", 5.0, 10.0),
    }
    # The returned snapshot replays to the same re-dispatch.
    assert solve(out.snapshot).deterministic_bytes() == out.result.deterministic_bytes()


def _two_area_doc() -> dict:
    return document(
        areas=[{"id": "kyushu", "price": [30.0]}, {"id": "tokyo", "price": [20.0]}],
        sites=[site("kyu", "kyushu"), site("tky", "tokyo")],
        capacity=[cap("kyu", [10], [50]), cap("tky", [10], [50])],
        energy=[
            {
                "id": "relief",
                "area": "kyushu",
                "kwh": [5.0],
                "price": [0.0],
                "curtailment_relief": True,
            }
        ],
        workloads=[
            {
                "id": "inf",
                "kind": "inference",
                "accelerator": "h100",
                "demand": [10],
                "limit_price": 200,
            }
        ],
    )


def test_withdrawn_curtailment_offer_moves_work_to_the_cheaper_grid():
    snap = parse_snapshot(_two_area_doc())
    result = solve(snap)
    assert by_key(result.allocations, "site")[("kyu",)]["cu"] == pytest.approx(10.0)
    out = redispatch(snap, result, EnergyOfferChange(offer="relief", kwh=0.0))
    assert [(a["site"], a["cu"]) for a in out.result.allocations] == [("tky", 10.0)]
    assert out.result.energy == []


def test_unaffected_allocations_are_pinned():
    doc = _two_area_doc()
    doc["workloads"].append(
        {
            "id": "other",
            "kind": "inference",
            "accelerator": "h100",
            "demand": [3],
            "limit_price": 300,
            "areas": ["tokyo"],
        }
    )
    snap = parse_snapshot(doc)
    result = solve(snap)
    out = redispatch(snap, result, SiteOutage(site="kyu", remaining_cu=0))
    assert {"workload": "other", "site": "tky", "interval": 0, "cu": 3.0} in out.snapshot["fixed"]
    assert by_key(out.result.allocations, "workload", "site")[("other", "tky")]["cu"] == 3.0


def test_events_outside_the_run_are_rejected():
    snap = parse_snapshot(scenario("tiny-two-areas"))
    result = solve(snap)
    with pytest.raises(EventError):
        redispatch(snap, result, SiteOutage(site="nowhere", remaining_cu=0))
    with pytest.raises(EventError):
        redispatch(snap, result, SiteOutage(site="hkd-1", remaining_cu=0, interval=3))
