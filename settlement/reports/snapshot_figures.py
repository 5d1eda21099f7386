"""What a run's snapshot says about its firm interval: offers, demand, stay-baseline CO2.

Pure: a `wattbit.clearing/1` document in, figures out (the firm interval is index 0).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from aggregator.engine import baseline, parse_snapshot
from aggregator.platform.public_ids import public_id_pk
from market.choices import WorkloadKind
from operators.site_energy import kwh_per_cu_hour


@dataclass(frozen=True)
class FirmFigures:
    interval_start: datetime
    capacity_offered: dict[str, Decimal]  # site code → CU offered
    energy_offered: dict[int, tuple[str, Decimal]]  # offer pk → (area, kWh)
    cu_demanded: Decimal
    area_carbon: dict[str, float]  # gCO2/kWh of grid energy
    site_area: dict[str, str]
    stay_co2_g: dict[str, float]  # area → gCO2 of the stay baseline's firm interval
    stay_cu: Decimal  # CU the stay baseline serves in the firm interval


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) else value


def _as_decimal(value: Any) -> Decimal:
    return Decimal(str(value or 0))


def _demand_now(w: dict[str, Any]) -> Decimal:
    """CU a workload bid for in the firm interval (batch: its rate cap within its window)."""
    if w.get("kind") == WorkloadKind.INFERENCE:
        return _as_decimal(_first(w.get("demand", 0)))
    if int(w.get("earliest", 0)) > 0 or int(w.get("deadline", 0)) < 0:
        return Decimal(0)
    remaining = _as_decimal(w.get("remaining_cu_intervals"))
    cap = w.get("max_cu")
    return remaining if cap is None else min(remaining, _as_decimal(_first(cap)))


def firm_figures(interval_start: datetime, snapshot: dict[str, Any]) -> FirmFigures:
    hours = float(snapshot.get("interval_minutes", 30)) / 60
    carbon = {a["id"]: float(_first(a.get("carbon", 0)) or 0) for a in snapshot["areas"]}
    sites = {s["id"]: s for s in snapshot["sites"]}
    capacity = {
        o["site"]: _as_decimal(_first(o["cu"])) for o in snapshot.get("capacity_offers", [])
    }
    energy = {
        public_id_pk(o["id"]): (o["area"], _as_decimal(_first(o["kwh"])))
        for o in snapshot.get("energy_offers", [])
    }
    demand = sum((_demand_now(w) for w in snapshot.get("workloads", [])), Decimal(0))
    # The stay baseline runs on grid energy only, at the home site's area intensity.
    stay_co2: dict[str, float] = defaultdict(float)
    stay_cu = 0.0
    if snapshot.get("workloads"):
        _welfare, rows = baseline(parse_snapshot(snapshot), "stay")
        for row in rows:
            if row["interval"] != 0:
                continue
            site = sites[row["site"]]
            stay_cu += row["cu"]
            per_cu_h = kwh_per_cu_hour(float(site["kw_per_cu"]), float(site["pue"]))
            kwh = row["cu"] * per_cu_h * hours
            stay_co2[site["area"]] += kwh * carbon.get(site["area"], 0.0)
    return FirmFigures(
        interval_start=interval_start,
        capacity_offered=capacity,
        energy_offered=energy,
        cu_demanded=demand,
        area_carbon=carbon,
        site_area={code: s["area"] for code, s in sites.items()},
        stay_co2_g=dict(stay_co2),
        stay_cu=Decimal(str(round(stay_cu, 6))),
    )
