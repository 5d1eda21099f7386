"""The clearing snapshot: everything one clearing needs, frozen into a `wattbit.clearing/1` document.

Deterministic: the same database state gives the same bytes and sha256 (sorted ids, fixed
rounding, canonical JSON, no wall-clock time in the document).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from aggregator.engine.canonical import canonical_json_bytes, sha256_hex
from aggregator.platform.errors import InvalidInput
from aggregator.platform.public_ids import CAPACITY_OFFER, ENERGY_OFFER, WORKLOAD, format_public_id
from market import calendar
from market.choices import LIVE_STATUSES, SignalKind, WorkloadKind
from market.models import (
    CapacityOffer,
    EnergyOffer,
    MarketParameters,
    WorkloadBid,
)
from market.selectors import (
    annual_carbon_factors,
    factor_for_year,
    latest_signals,
    served_cu_intervals_before,
)
from operators.models import GridArea, Site

SCHEMA = "wattbit.clearing/1"
# Fixed decimals of the snapshot (as the result contract): CU 6, kWh 3, prices 4.
CU, KWH, PRICE, FACTOR = 6, 3, 4, 4


@dataclass(frozen=True)
class ClearingSnapshot:
    document: dict[str, Any]
    canonical: bytes
    sha256: str


def _rounded_float(value: Any, places: int) -> float:
    """A database number as the snapshot's float, rounded to the contract's decimals."""
    out = float(round(Decimal(str(value)), places))
    return 0.0 if out == 0 else out  # no "-0.0": equal numbers print equal bytes


def _offset(start: datetime, horizon_start: datetime) -> int:
    return int((start - horizon_start) / calendar.INTERVAL)


def _spread(row_start: datetime, values: list, horizon_start: datetime, n: int):
    """(horizon index, value) for the part of a per-interval profile inside the horizon."""
    offset = _offset(row_start, horizon_start)
    for i, value in enumerate(values):
        t = offset + i
        if 0 <= t < n:
            yield t, value


def _areas(starts: list[datetime]) -> list[dict[str, Any]]:
    start, end = starts[0], starts[-1] + calendar.INTERVAL
    prices = latest_signals(kind=SignalKind.AREA_PRICE, start=start, end=end)
    system = latest_signals(kind=SignalKind.SYSTEM_PRICE, start=start, end=end)
    carbon = latest_signals(kind=SignalKind.CARBON, start=start, end=end)
    caps = latest_signals(kind=SignalKind.AREA_CAP_KW, start=start, end=end)
    factors = annual_carbon_factors()
    missing: list[str] = []
    areas = []
    for code in sorted(GridArea.objects.values_list("code", flat=True)):
        price, co2, cap = [], [], []
        for at in starts:
            value = prices.get((code, at), system.get((None, at)))
            if value is None:
                missing.append(f"{code} {calendar.iso_z(at)}")
            price.append(_rounded_float(value or 0, PRICE))
            annual = factor_for_year(factors.get(code, {}), calendar.to_jst(at).year) or 0
            co2.append(_rounded_float(carbon.get((code, at), annual), FACTOR))
            limit = caps.get((code, at))
            cap.append(None if limit is None else _rounded_float(limit, KWH))
        areas.append({"id": code, "price": price, "carbon": co2, "cap_kw": cap})
    if missing:
        shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
        raise InvalidInput.from_errors(
            {
                "areas": [
                    _("No JEPX price (area or system) for %(n)d area-intervals: %(x)s")
                    % {"n": len(missing), "x": shown}
                ]
            }
        )
    return areas


def _sites() -> tuple[list[dict[str, Any]], dict[int, str]]:
    sites, codes = [], {}
    for site in Site.objects.filter(is_active=True).order_by("code"):
        codes[site.pk] = site.code
        sites.append(
            {
                "id": site.code,
                "area": site.area_id,
                "accelerator": site.accelerator,
                "kw_per_cu": _rounded_float(site.kw_per_cu, FACTOR),
                "pue": _rounded_float(site.pue, FACTOR),
                "latency_ms": {
                    z: _rounded_float(ms, 3) for z, ms in sorted(site.latency_ms.items())
                },
                "residency": sorted(site.residency_tags),
            }
        )
    return sites, codes


def _live(model, start: datetime, end: datetime):
    return model.objects.filter(status__in=LIVE_STATUSES, start__lt=end, end__gt=start).order_by(
        "id"
    )


def _capacity(start, end, n, codes) -> list[dict[str, Any]]:
    """Every live offer as it was bid: several offers at one site are its price steps
    (SCENARIO_FORMAT.md), never merged, so a second offer cannot change the first's price."""
    offers = []
    rows = _live(CapacityOffer, start, end).values_list("id", "site_id", "start", "cu", "price")
    for bid_id, site_id, bid_start, cu, price in rows:
        if site_id not in codes:
            continue  # a deactivated site hosts nothing
        q, p = [0.0] * n, [_rounded_float(price[0], PRICE)] * n
        for t, (k, c) in _spread(bid_start, list(zip(cu, price, strict=True)), start, n):
            q[t], p[t] = _rounded_float(k, CU), _rounded_float(c, PRICE)
        offers.append(
            {
                "id": format_public_id(CAPACITY_OFFER, bid_id),
                "site": codes[site_id],
                "cu": q,
                "price": p,
            }
        )
    return sorted(offers, key=lambda o: o["id"])


def _energy(start, end, n) -> list[dict[str, Any]]:
    offers = []
    rows = _live(EnergyOffer, start, end).values_list(
        "id", "area_id", "start", "kwh", "price", "carbon_g_per_kwh", "curtailment_relief"
    )
    for bid_id, area, bid_start, kwh, price, carbon, relief in rows:
        q, p = [0.0] * n, [_rounded_float(price[0], PRICE)] * n
        for t, (k, c) in _spread(bid_start, list(zip(kwh, price, strict=True)), start, n):
            q[t], p[t] = _rounded_float(k, KWH), _rounded_float(c, PRICE)
        offers.append(
            {"id": format_public_id(ENERGY_OFFER, bid_id), "area": area, "kwh": q, "price": p,
             "carbon": _rounded_float(carbon, FACTOR), "curtailment_relief": relief}
        )  # fmt: skip
    return sorted(offers, key=lambda o: o["id"])


def _workloads(start, end, n, codes) -> list[dict[str, Any]]:
    out = []
    served = served_cu_intervals_before(start)
    for w in _live(WorkloadBid, start, end):
        item: dict[str, Any] = {
            "id": format_public_id(WORKLOAD, w.pk),
            "kind": w.kind,
            "accelerator": w.accelerator,
            "limit_price": _rounded_float(w.limit_price, PRICE),
            "residency": sorted(w.residency_tags),
        }
        if w.kind == WorkloadKind.INFERENCE:
            demand = [0.0] * n
            for t, value in _spread(w.start, w.demand, start, n):
                demand[t] = _rounded_float(value, CU)
            item["demand"] = demand
        else:
            # Window indexes into the horizon; a deadline past it is allowed (work may wait).
            item.update(
                remaining_cu_intervals=_rounded_float(
                    max(Decimal(0), w.remaining_cu_intervals - served.get(w.pk, Decimal(0))), CU
                ),
                earliest=max(0, _offset(w.start, start)),
                deadline=_offset(w.end, start) - 1,
                migration_cost=_rounded_float(w.migration_cost, PRICE),
            )
            if w.gang:
                item["gang"] = w.gang
            if w.no_migration:
                item["no_migration"] = True
            if w.home_site_id in codes:
                item["home_site"] = codes[w.home_site_id]
        if w.max_cu is not None:
            item["max_cu"] = _rounded_float(w.max_cu, CU)
        if w.allowed_areas:
            item["areas"] = sorted(w.allowed_areas)
        if w.zone_id:
            item["zone"] = w.zone_id
            if w.max_latency_ms is not None:
                item["max_latency_ms"] = _rounded_float(w.max_latency_ms, 3)
        out.append(item)
    return sorted(out, key=lambda o: o["id"])


def snapshot_build(
    *,
    start: datetime,
    horizon: int | None = None,
    firm_intervals: int = 1,
    carbon_price_jpy_per_t: float = 0,
) -> ClearingSnapshot:
    """Freeze the live bids, sites and area signals of `horizon` intervals from `start`.

    `start` is the first (firm) interval: the clearing runs at its gate closure. Raises
    InvalidInput if `start` is not an interval start or an area has no price.
    """
    if not calendar.is_aligned(start):
        raise InvalidInput.from_errors({"start": [_("Give an interval start (:00 or :30).")]})
    n = horizon or MarketParameters.current().horizon_intervals
    start = calendar.as_utc(start)
    starts = calendar.interval_starts(start, n)
    end = starts[-1] + calendar.INTERVAL
    sites, codes = _sites()
    document = {
        "schema": SCHEMA,
        "run_id": start.strftime("%Y-%m-%dT%H:%MZ"),
        "interval_minutes": calendar.INTERVAL_MINUTES,
        "intervals": [calendar.iso_z(at) for at in starts],
        "firm_intervals": firm_intervals,
        "carbon_price_jpy_per_t": carbon_price_jpy_per_t,
        "gate_closure": calendar.iso_z(
            calendar.gate_closure(start, MarketParameters.current().gate_closure_lead_minutes)
        ),
        "areas": _areas(starts),
        "sites": sites,
        "capacity_offers": _capacity(start, end, n, codes),
        "energy_offers": _energy(start, end, n),
        "workloads": _workloads(start, end, n, codes),
        "fixed": [],
    }
    return ClearingSnapshot(document, canonical_json_bytes(document), sha256_hex(document))
