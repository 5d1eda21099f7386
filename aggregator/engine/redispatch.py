"""Re-dispatch inside the firm interval: pin everything unaffected, re-solve only the rest."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from aggregator.engine.errors import EventError
from aggregator.engine.feasibility import feasible_triples, index
from aggregator.engine.parse import parse_snapshot
from aggregator.engine.result import Result
from aggregator.engine.snapshot import Snapshot
from aggregator.engine.solve import SolveOptions, as_snapshot, solve


@dataclass(frozen=True)
class SiteOutage:
    """A site can now deliver only `remaining_cu` in `interval` (0 = fully down)."""

    site: str
    remaining_cu: float
    interval: int = 0


@dataclass(frozen=True)
class EnergyOfferChange:
    """A supplier updates an offer (e.g. a new curtailment forecast) for `interval`."""

    offer: str
    kwh: float | None = None
    price: float | None = None
    interval: int = 0


Event = SiteOutage | EnergyOfferChange


@dataclass(frozen=True)
class Redispatch:
    snapshot: dict[str, Any]  # the one-interval snapshot actually solved (replayable)
    result: Result
    changes: list[dict[str, Any]]  # amended orders: before/after CU per placement
    elapsed_s: float


def _at(value: Any, t: int) -> Any:
    return value[t] if isinstance(value, list) else value


def _slice_series(item: dict, keys: tuple[str, ...], t: int) -> dict:
    out = dict(item)
    for key in keys:
        if key in out and out[key] is not None:
            out[key] = [_at(out[key], t)]
    return out


def redispatch(
    source: Snapshot | str | bytes | Path | Mapping[str, Any],
    result: Result | Mapping[str, Any],
    event: Event,
    options: SolveOptions | None = None,
) -> Redispatch:
    """Re-solve the event's firm interval. Placements of workloads that touch the affected
    sites stay free (batch work may shift, not grow, in this interval); every other
    allocation of that interval is pinned through `fixed`. Advisory intervals are left to
    the next rolling clearing."""
    started = time.perf_counter()
    snap = as_snapshot(source)
    doc = snap.raw
    res = result.to_dict() if isinstance(result, Result) else dict(result)
    t0 = event.interval
    if not 0 <= t0 < max(snap.firm_intervals, 1):
        raise EventError(f"interval {t0} is not a firm interval of run {snap.run_id}")
    site_area = {s.id: s.area for s in snap.sites}
    if isinstance(event, SiteOutage):
        if event.site not in site_area:
            raise EventError(f"unknown site {event.site!r}")
        if event.remaining_cu < 0:
            raise EventError("remaining_cu must be >= 0")
        affected_sites = {event.site}
    else:
        offers = {o.id: o for o in snap.energy_offers}
        if event.offer not in offers:
            raise EventError(f"unknown energy offer {event.offer!r}")
        affected_sites = {s for s, a in site_area.items() if a == offers[event.offer].area}

    before = {
        (a["workload"], a["site"]): a["cu"] for a in res["allocations"] if a["interval"] == t0
    }
    free = {w for (w, s) in before if s in affected_sites}
    # Summed as decimals: a float sum can fall below the published CU it adds up (e.g. to
    # 12.299999999999999), and the remaining-work limit would then cut a micro-CU.
    planned: dict[str, Decimal] = {}
    for (w, _), cu in before.items():
        planned[w] = planned.get(w, Decimal(0)) + Decimal(repr(float(cu)))
    firm_total = {w: float(cu) for w, cu in planned.items()}

    new = _one_interval_document(doc, t0, event, firm_total, free)
    new["fixed"] = [
        {"workload": w, "site": s, "interval": 0, "cu": cu}
        for (w, s), cu in sorted(before.items())
        if w not in free
    ]
    new["fixed"] += _held_in_place(new, snap, before, free)
    solved = solve(new, options or SolveOptions(baselines=False))
    after = {(a["workload"], a["site"]): a["cu"] for a in solved.allocations}
    changes = [
        {
            "workload": w,
            "site": s,
            "interval": t0,
            "cu_before": before.get((w, s), 0.0),
            "cu_after": after.get((w, s), 0.0),
        }
        for (w, s) in sorted(set(before) | set(after))
        if before.get((w, s), 0.0) != after.get((w, s), 0.0)
    ]
    return Redispatch(new, solved, changes, time.perf_counter() - started)


def _held_in_place(new: dict, snap: Snapshot, before: dict, free: set) -> list[dict]:
    """A free no_migration workload may pause but not move: 0-CU pins at every other site
    it could use in the interval hold it at the site it ran at."""
    stuck = {
        w: s
        for (w, s) in before
        if w in free and next(x for x in snap.workloads if x.id == w).no_migration
    }
    if not stuck:
        return []
    one = parse_snapshot(new)
    tri = feasible_triples(one, index(one))
    pins = []
    for k in range(len(tri)):
        w, site = one.workloads[tri.j[k]].id, one.sites[tri.s[k]].id
        if w in stuck and site != stuck[w]:
            pins.append({"workload": w, "site": site, "interval": 0, "cu": 0.0})
    return pins


def _one_interval_document(doc, t0, event, firm_total, free) -> dict[str, Any]:
    new = {k: v for k, v in doc.items() if k not in ("intervals", "fixed")}
    new["run_id"] = f"{doc['run_id']}/redispatch/{t0}"
    new["intervals"] = [doc["intervals"][t0]]
    new["firm_intervals"] = 1
    new["areas"] = [_slice_series(a, ("price", "carbon", "cap_kw"), t0) for a in doc["areas"]]
    caps = [_slice_series(c, ("cu", "price"), t0) for c in doc.get("capacity_offers", [])]
    if isinstance(event, SiteOutage):
        # What is left of the site is its cheapest steps (ties by offer id), up to
        # remaining_cu: the steps that would have sold first keep their CU.
        left = Decimal(repr(float(event.remaining_cu)))
        at_site = [c for c in caps if c["site"] == event.site]
        for c in sorted(at_site, key=lambda c: (c["price"][0], c["id"])):
            keep = min(Decimal(repr(float(c["cu"][0]))), left)
            c["cu"] = [float(keep)]
            left -= keep
    new["capacity_offers"] = caps
    energy = []
    for e in doc.get("energy_offers", []):
        e = _slice_series(e, ("kwh", "price", "carbon"), t0)
        if isinstance(event, EnergyOfferChange) and e["id"] == event.offer:
            if event.kwh is not None:
                e["kwh"] = [event.kwh]
            if event.price is not None:
                e["price"] = [event.price]
        energy.append(e)
    new["energy_offers"] = energy
    workloads = []
    for w in doc.get("workloads", []):
        w = _slice_series(w, ("demand", "limit_price"), t0)
        if w.get("kind") == "batch":
            # Shift, don't grow: the interval's work is what the clearing planned for it.
            w["remaining_cu_intervals"] = firm_total.get(w["id"], 0.0)
            w["earliest"], w["deadline"] = 0, 0
        workloads.append(w)
    new["workloads"] = workloads
    return new
