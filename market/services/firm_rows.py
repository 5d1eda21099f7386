"""The one translator from the engine's result to the market's rows.

A clearing run, a re-dispatch and a replay all cross the same boundary: the engine's
`Result` (or the canonical document stored from it) becomes the stored text and hash, and
its firm intervals become Allocation, EnergyAward, GridPurchase, CapacitySale,
UpliftPayment, ComputePrice and EnergyPrice rows. Nothing else maps engine output to rows.

The rows are built unsaved; the caller decides what is current and writes them in its own
transaction. Prices are the engine's, to the published decimals (CU 6, kWh 3, prices 4,
JPY 2 — docs/engine.md); the all-in price of an allocation is composed here from them,
because the engine's result publishes the site's compute price and the area's energy price
but not their sum per allocation.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from aggregator.engine import Result
from aggregator.engine.canonical import canonical_json_bytes
from aggregator.platform.public_ids import (
    CAPACITY_OFFER,
    ENERGY_OFFER,
    WORKLOAD,
    format_public_id,
    public_id_pk,
    split_public_id,
)
from market.models import CapacityOffer, EnergyOffer, WorkloadBid
from market.models.clearing import (
    Allocation,
    CapacitySale,
    ClearingRun,
    ComputePrice,
    EnergyAward,
    EnergyPrice,
    GridPurchase,
    Redispatch,
    UpliftPayment,
)
from operators.models import Site
from operators.site_energy import kwh_per_cu_hour


def published(value: float, places: int) -> Decimal:
    """An engine float at its published decimals, as the Decimal stored."""
    return Decimal(str(round(value, places)))


# ---- the stored form of a result --------------------------------------------------------


def result_document(result: Result) -> dict[str, Any]:
    """The result exactly as stored and compared: its canonical JSON, read back."""
    return json.loads(canonical_json_bytes(result.to_dict()))


def result_json(result: Result) -> str:
    """The canonical text stored on a run or re-dispatch."""
    return canonical_json_bytes(result.to_dict()).decode("utf-8")


def result_sha256(result: Result) -> str:
    """The hash a replay must reproduce: of the result's deterministic part only."""
    return hashlib.sha256(result.deterministic_bytes()).hexdigest()


# ---- firm rows -------------------------------------------------------------------------


@dataclass
class FirmRows:
    """Everything a result decides for its firm intervals, as unsaved rows."""

    compute_prices: list[ComputePrice] = field(default_factory=list)
    energy_prices: list[EnergyPrice] = field(default_factory=list)
    allocations: list[Allocation] = field(default_factory=list)
    energy_awards: list[EnergyAward] = field(default_factory=list)
    grid_purchases: list[GridPurchase] = field(default_factory=list)
    capacity_sales: list[CapacitySale] = field(default_factory=list)
    uplift_payments: list[UpliftPayment] = field(default_factory=list)


class _Prices:
    """The result's prices, looked up by (site, interval) and (area, interval)."""

    def __init__(self, result_doc: dict, snapshot: dict) -> None:
        self.compute = {
            (p["site"], p["interval"]): p["jpy_per_cu_h"] for p in result_doc["prices"]["compute"]
        }
        self.energy = {(p["area"], p["interval"]): p for p in result_doc["prices"]["energy"]}
        self.site_doc = {s["id"]: s for s in snapshot["sites"]}

    def compute_and_all_in(self, site_code: str, area: str, t: int) -> tuple[Decimal, Decimal]:
        """(compute, all-in) JPY per CU-hour at a site: ρ(s,t) + π(a,t) · kW/CU · PUE."""
        site = self.site_doc[site_code]
        compute = self.compute.get((site_code, t), 0.0)
        per_cu_h = kwh_per_cu_hour(site["kw_per_cu"], site["pue"])
        all_in = compute + self.energy[(area, t)]["jpy_per_kwh"] * per_cu_h
        return published(compute, 4), published(all_in, 4)

    def supplier(self, area: str, t: int) -> Decimal:
        """What a supplier receives per kWh: the balance price (energy price less cap rent)."""
        row = self.energy[(area, t)]
        return published(row.get("supplier_jpy_per_kwh", row["jpy_per_kwh"]), 4)


def firm_rows(
    *,
    run: ClearingRun,
    snapshot: dict,
    result: Result | dict,
    firm: set[int],
    interval_starts: list[datetime],
    sites: dict[str, Site],
    redispatch: Redispatch | None = None,
    with_prices: bool = True,
    cleared_before: dict[tuple[int, str], Allocation] | None = None,
) -> FirmRows:
    """The rows of `result` (solved on `snapshot`) for the interval indices in `firm`.

    `interval_starts[t]` is the start of interval index t; `sites` maps site codes to sites.
    A re-dispatch passes `redispatch` (its rows point to it), `with_prices=False` (the run's
    price rows stand) and `cleared_before`, the current allocations by (workload pk, site
    code): a placement whose CU did not change keeps the prices it cleared at.
    """
    doc = result.to_dict() if isinstance(result, Result) else result
    prices = _Prices(doc, snapshot)
    rows = FirmRows()
    if with_prices:
        rows.compute_prices = [
            ComputePrice(
                run=run,
                interval_start=interval_starts[t],
                site=sites[code],
                jpy_per_cu_h=published(value, 4),
            )
            for (code, t), value in sorted(prices.compute.items())
            if t in firm
        ]
        rows.energy_prices = [
            EnergyPrice(
                run=run,
                interval_start=interval_starts[t],
                area_id=area,
                jpy_per_kwh=published(p["jpy_per_kwh"], 4),
                supplier_jpy_per_kwh=published(p.get("supplier_jpy_per_kwh", p["jpy_per_kwh"]), 4),
                cap_rent_jpy_per_kwh=published(p.get("cap_rent_jpy_per_kwh", 0.0), 4),
            )
            for (area, t), p in sorted(prices.energy.items())
            if t in firm
        ]
    rows.allocations = _allocations(
        run, doc, prices, firm, interval_starts, sites, redispatch, cleared_before
    )
    rows.energy_awards = _energy_awards(run, doc, prices, firm, interval_starts, redispatch)
    rows.grid_purchases = [
        GridPurchase(
            run=run,
            redispatch=redispatch,
            interval_start=interval_starts[g["interval"]],
            area_id=g["area"],
            kwh=published(g["kwh"], 3),
        )
        for g in doc["grid"]
        if g["interval"] in firm and g["kwh"] > 0
    ]
    rows.capacity_sales = _capacity_sales(run, snapshot, doc, firm, interval_starts, redispatch)
    rows.uplift_payments = _uplift_payments(run, doc.get("uplift") or [], redispatch)
    return rows


def _allocations(run, doc, prices, firm, interval_starts, sites, redispatch, cleared_before):
    served = [a for a in doc["allocations"] if a["interval"] in firm and a["cu"] > 0]
    workloads = WorkloadBid.objects.select_related("organisation").in_bulk(
        {public_id_pk(a["workload"]) for a in served}
    )
    out = []
    for a in served:
        workload, site, t = workloads[public_id_pk(a["workload"])], sites[a["site"]], a["interval"]
        cu = published(a["cu"], 6)
        before = (cleared_before or {}).get((workload.pk, site.code))
        if before is not None and before.cu == cu:
            compute, all_in = before.compute_jpy_per_cu_h, before.all_in_jpy_per_cu_h
        else:
            compute, all_in = prices.compute_and_all_in(site.code, site.area_id, t)
        out.append(
            Allocation(
                run=run,
                redispatch=redispatch,
                interval_start=interval_starts[t],
                workload=workload,
                site=site,
                cu=cu,
                compute_jpy_per_cu_h=compute,
                all_in_jpy_per_cu_h=all_in,
            )
        )
    return out


def _energy_awards(run, doc, prices, firm, interval_starts, redispatch):
    sold = [e for e in doc["energy"] if e["interval"] in firm]
    offers = EnergyOffer.objects.in_bulk({public_id_pk(e["offer"]) for e in sold})
    out = []
    for e in sold:
        if e["kwh"] <= 0:
            continue
        offer = offers[public_id_pk(e["offer"])]
        out.append(
            EnergyAward(
                run=run,
                redispatch=redispatch,
                interval_start=interval_starts[e["interval"]],
                offer=offer,
                kwh=published(e["kwh"], 3),
                jpy_per_kwh=prices.supplier(offer.area_id, e["interval"]),
            )
        )
    return out


def _capacity_sales(run, snapshot, doc, firm, interval_starts, redispatch):
    """CU sold per capacity offer (one price step of its site), paid the site's price."""
    site_of = {o["id"]: o["site"] for o in snapshot["capacity_offers"]}
    compute = {(p["site"], p["interval"]): p["jpy_per_cu_h"] for p in doc["prices"]["compute"]}
    return [
        CapacitySale(
            run=run,
            redispatch=redispatch,
            interval_start=interval_starts[c["interval"]],
            offer_id=public_id_pk(c["offer"]),
            cu=published(c["cu"], 6),
            jpy_per_cu_h=published(compute[(site_of[c["offer"]], c["interval"])], 4),
        )
        for c in doc.get("capacity", [])
        if c["interval"] in firm and c["cu"] > 0
    ]


def _uplift_payments(run, uplift: list[dict], redispatch) -> list[UpliftPayment]:
    """The engine's make-whole amounts of the firm interval, owed to each bid's owner."""
    owed = [u for u in uplift if u.get("jpy", 0) > 0]
    if not owed:
        return []
    owners: dict[str, int] = {}
    for model, prefix in (
        (WorkloadBid, WORKLOAD),
        (CapacityOffer, CAPACITY_OFFER),
        (EnergyOffer, ENERGY_OFFER),
    ):
        pks = [
            parsed[1]
            for parsed in (split_public_id(u["participant"]) for u in owed)
            if parsed is not None and parsed[0] == prefix
        ]
        for pk, org_id in model.objects.filter(pk__in=pks).values_list("pk", "organisation_id"):
            owners[format_public_id(prefix, pk)] = org_id
    return [
        UpliftPayment(
            run=run,
            redispatch=redispatch,
            participant=u["participant"],
            organisation_id=owners[u["participant"]],
            jpy=published(u["jpy"], 2),
        )
        for u in owed
        if u["participant"] in owners
    ]
