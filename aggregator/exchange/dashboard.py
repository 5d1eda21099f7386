"""What each participant's dashboard shows, gathered with a fixed, small number of queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from aggregator.platform.portal import heat_colour
from market import calendar, clearing_selectors
from market.choices import SignalKind
from market.models import MarketParameters, Signal
from market.models.clearing import EnergyPrice, RunStatus
from operators.actors import Actor
from operators.models import GridArea


@dataclass
class HeatMap:
    title: str
    unit: str
    columns: list[datetime]
    rows: list[dict[str, Any]] = field(default_factory=list)
    low: float = 0.0
    high: float = 0.0

    @property
    def empty(self) -> bool:
        return not any(cell["value"] is not None for row in self.rows for cell in row["cells"])


def _heat_map(
    title: str, unit: str, areas, columns, values: dict[tuple[str, datetime], Decimal]
) -> HeatMap:
    numbers = [float(v) for v in values.values()]
    low, high = (min(numbers), max(numbers)) if numbers else (0.0, 0.0)
    heat = HeatMap(title, unit, columns, low=low, high=high)
    for area in areas:
        cells = []
        for at in columns:
            value = values.get((area.code, at))
            number = float(value) if value is not None else None
            cells.append({"at": at, "value": number, "colour": heat_colour(number, low, high)})
        heat.rows.append({"area": area, "cells": cells})
    return heat


def dashboard_context(*, actor: Actor, now: datetime) -> dict[str, Any]:
    params = MarketParameters.current()
    lead = params.gate_closure_lead_minutes
    next_open = calendar.first_open_interval(now, lead)
    next_gate = calendar.gate_closure(next_open, lead)
    today = calendar.to_jst(now).date()
    start = calendar.slot_start(today, 1)
    columns = calendar.interval_starts(start, 96)  # today and tomorrow, JST
    end = columns[-1] + calendar.INTERVAL
    areas = list(GridArea.objects.all())

    signal_rows = Signal.objects.filter(
        kind__in=(SignalKind.AREA_PRICE, SignalKind.CURTAILMENT_MW),
        interval_start__gte=start,
        interval_start__lt=end,
        area__isnull=False,
    ).order_by("interval_start", "published_at", "id")
    jepx: dict[tuple[str, datetime], Decimal] = {}
    curtailment: dict[tuple[str, datetime], Decimal] = {}
    for s in signal_rows.values_list("kind", "area_id", "interval_start", "value"):
        target = jepx if s[0] == SignalKind.AREA_PRICE else curtailment
        target[(s[1], s[2])] = s[3]  # later publications overwrite earlier ones
    cleared = {
        (p.area_id, p.interval_start): p.jpy_per_kwh
        for p in EnergyPrice.objects.filter(
            run__status=RunStatus.COMPLETED, interval_start__gte=start, interval_start__lt=end
        )
    }
    curtailment_rows = defaultdict(list)
    for (area, at), mw in sorted(curtailment.items(), key=lambda kv: kv[0][1]):
        if at >= calendar.floor_interval(now) and mw > 0:
            curtailment_rows[area].append((at, mw))

    upcoming_end = calendar.floor_interval(now) + 8 * calendar.INTERVAL
    allocations = list(
        clearing_selectors.allocation_list(actor=actor)
        .filter(interval_start__gte=calendar.floor_interval(now), interval_start__lt=upcoming_end)
        .order_by("interval_start", "site__code")[:50]
    )
    sides = clearing_selectors.allocations_by_side(actor=actor, allocations=allocations)
    awards = list(
        clearing_selectors.energy_award_list(actor=actor)
        .filter(interval_start__gte=calendar.floor_interval(now), interval_start__lt=upcoming_end)
        .order_by("interval_start", "offer_id")[:50]
    )
    orders = list(
        clearing_selectors.order_list(actor=actor)
        .filter(is_current=True, interval_start__gte=calendar.floor_interval(now))
        .order_by("interval_start", "kind")[:20]
    )
    advisory = clearing_selectors.latest_advisory(actor=actor)
    return {
        "now": now,
        "next_interval": next_open,
        "next_gate_closure": next_gate,
        "seconds_to_gate": max(0, int((next_gate - now) / timedelta(seconds=1))),
        "minutes_to_gate": max(0, int((next_gate - now) / timedelta(minutes=1))),
        "interval_seconds": int(calendar.INTERVAL.total_seconds()),
        "jepx_map": _heat_map("JEPX", "JPY/kWh", areas, columns, jepx),
        "cleared_map": _heat_map("cleared", "JPY/kWh", areas, columns, cleared),
        "day_break": columns[48],
        "curtailment": [
            (a, curtailment_rows[a.code][:6]) for a in areas if curtailment_rows[a.code]
        ],
        # A regulator's "placed" are all allocations: it pays for none and hosts none.
        "placed_allocations": sides.get("placed", sides.get("all", [])),
        "hosted_allocations": sides.get("hosted", []),
        "awards": awards,
        "orders": orders,
        "advisory": _advisory_rows(advisory)[:24],
        "advisory_run": (advisory or {}).get("run"),
    }


def _advisory_rows(advisory: dict[str, Any] | None) -> list[dict[str, Any]]:
    """One's own indicative quantities (workloads, sites, energy offers), by interval."""
    if advisory is None:
        return []
    rows = [
        {"at": w["interval_start"], "bid": w["workload"], "where": w["site"], "qty": w["cu"],
         "unit": "CU"}
        for w in advisory["workloads"]
    ] + [
        {"at": s["interval_start"], "bid": "", "where": s["site"], "qty": s["cu"], "unit": "CU"}
        for s in advisory["sites"]
    ] + [
        {"at": e["interval_start"], "bid": e["offer"], "where": "", "qty": e["kwh"],
         "unit": "kWh"}
        for e in advisory["energy_offers"]
    ]  # fmt: skip
    rows.sort(key=lambda r: (r["at"], r["bid"], r["where"]))
    return [{**r, "interval_start": r["at"]} for r in rows]
