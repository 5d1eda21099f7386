"""Persisting a clearing result: firm rows, prices, uplift, orders and their outbox, at once.

Everything a run decides is written in one transaction together with the run's status, so
a crash leaves either nothing or everything; the claim token makes a second writer a no-op.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum

from aggregator.engine.canonical import canonical_json_bytes
from aggregator.platform.audit import audit_record
from market import calendar
from market.choices import LIVE_STATUSES, BidStatus
from market.clearing_models import (
    Allocation,
    CapacitySale,
    ClearingRun,
    ComputePrice,
    EnergyAward,
    EnergyPrice,
    GridPurchase,
    Redispatch,
    RunStatus,
    UpliftPayment,
)
from market.dispatch_models import DispatchOrder, OrderDelivery
from market.models import CapacityOffer, EnergyOffer, WorkloadBid
from market.services.orders import build_order_rows, outbox_rows
from market.services.outcomes import bids_record_outcome
from operators.models import Site


class LostClaim(Exception):
    """Another worker took the run over (our lease expired); our result is discarded."""


def _dec(value: float, places: int) -> Decimal:
    return Decimal(str(round(value, places)))


def _baseline(result_doc: dict, name: str) -> Decimal | None:
    welfare = ((result_doc.get("baselines") or {}).get(name) or {}).get("welfare_jpy")
    return None if welfare is None else _dec(welfare, 2)


def _pk(public_id: str) -> int:
    return int(public_id.split("-", 1)[1])


def cu_prices(
    compute: dict, energy: dict, site_doc: dict, area: str, t: int
) -> tuple[Decimal, Decimal]:
    """(compute, all-in) JPY per CU-hour at a site: ρ(s,t) + π(a,t) · kW/CU · PUE."""
    price_c = compute.get((site_doc["id"], t), 0.0)
    all_in = price_c + energy[(area, t)]["jpy_per_kwh"] * site_doc["kw_per_cu"] * site_doc["pue"]
    return _dec(price_c, 4), _dec(all_in, 4)


def supplier_price(energy: dict, area: str, t: int) -> Decimal:
    """What a supplier receives per kWh: the balance price (the energy price less cap rent)."""
    row = energy[(area, t)]
    return _dec(row.get("supplier_jpy_per_kwh", row["jpy_per_kwh"]), 4)


def capacity_sale_rows(
    *, run: ClearingRun, document: dict, result_doc: dict, firm: set[int], starts: list,
    redispatch: Redispatch | None = None,
) -> list[CapacitySale]:  # fmt: skip
    """CU sold per capacity offer (one price step of its site) in the firm intervals, paid
    the site's compute price."""
    site_of = {o["id"]: o["site"] for o in document["capacity_offers"]}
    compute = {
        (p["site"], p["interval"]): p["jpy_per_cu_h"] for p in result_doc["prices"]["compute"]
    }
    return [
        CapacitySale(
            run=run,
            redispatch=redispatch,
            interval_start=starts[c["interval"]],
            offer_id=_pk(c["offer"]),
            cu=_dec(c["cu"], 6),
            jpy_per_cu_h=_dec(compute[(site_of[c["offer"]], c["interval"])], 4),
        )
        for c in result_doc.get("capacity", [])
        if c["interval"] in firm and c["cu"] > 0
    ]


def site_connection(site: Site) -> dict[str, Any]:
    """What a workload owner needs to reach the site (published in placement orders)."""
    return {"site": site.code, "area": site.area_id, "prefecture": site.prefecture}


@transaction.atomic
def clearing_persist(
    *, run: ClearingRun, claim_token: str, document: dict, canonical: bytes, input_sha256: str,
    result_doc: dict, result_sha256: str, timings: dict, now: datetime,
) -> tuple[ClearingRun, list[int]]:  # fmt: skip
    """Write the run's outcome; returns the run and the ids of the orders to push."""
    updated = ClearingRun.objects.filter(
        pk=run.pk, claim_token=claim_token, status=RunStatus.RUNNING
    ).update(
        status=RunStatus.COMPLETED,
        finished_at=now,
        snapshot_json=canonical.decode("utf-8"),
        input_sha256=input_sha256,
        result_json=canonical_json_bytes(result_doc).decode("utf-8"),
        result_sha256=result_sha256,
        solver_stats=result_doc.get("stats", {}),
        fallback=result_doc.get("fallback") or {},
        timings=timings,
        welfare_jpy=_dec(result_doc["welfare_jpy"], 2),
        # A fallback result (out of time) may come without the baselines.
        stay_welfare_jpy=_baseline(result_doc, "stay"),
        greedy_welfare_jpy=_baseline(result_doc, "greedy"),
        error="",
    )
    if updated != 1:
        raise LostClaim(f"run {run.pk} is no longer ours")
    run.refresh_from_db()
    firm = set(range(int(document.get("firm_intervals", 1))))
    starts = [calendar.parse_iso(x) for x in document["intervals"]]
    sites = {s.code: s for s in Site.objects.select_related("organisation")}
    site_doc = {s["id"]: s for s in document["sites"]}

    compute = {
        (p["site"], p["interval"]): p["jpy_per_cu_h"] for p in result_doc["prices"]["compute"]
    }
    energy = {(p["area"], p["interval"]): p for p in result_doc["prices"]["energy"]}
    ComputePrice.objects.bulk_create(
        ComputePrice(run=run, interval_start=starts[t], site=sites[code], jpy_per_cu_h=_dec(v, 4))
        for (code, t), v in sorted(compute.items())
        if t in firm
    )
    EnergyPrice.objects.bulk_create(
        EnergyPrice(
            run=run,
            interval_start=starts[t],
            area_id=area,
            jpy_per_kwh=_dec(p["jpy_per_kwh"], 4),
            supplier_jpy_per_kwh=_dec(p.get("supplier_jpy_per_kwh", p["jpy_per_kwh"]), 4),
            cap_rent_jpy_per_kwh=_dec(p.get("cap_rent_jpy_per_kwh", 0.0), 4),
        )
        for (area, t), p in sorted(energy.items())
        if t in firm
    )
    workloads = WorkloadBid.objects.select_related("organisation").in_bulk(
        {_pk(a["workload"]) for a in result_doc["allocations"] if a["interval"] in firm}
    )
    allocations = []
    for a in result_doc["allocations"]:
        if a["interval"] not in firm or a["cu"] <= 0:
            continue
        site = sites[a["site"]]
        price_c, all_in = cu_prices(
            compute, energy, site_doc[a["site"]], site.area_id, a["interval"]
        )
        allocations.append(
            Allocation(
                run=run,
                interval_start=starts[a["interval"]],
                workload=workloads[_pk(a["workload"])],
                site=site,
                cu=_dec(a["cu"], 6),
                compute_jpy_per_cu_h=price_c,
                all_in_jpy_per_cu_h=all_in,
            )
        )
    Allocation.objects.bulk_create(allocations)
    offers = EnergyOffer.objects.in_bulk(
        {_pk(e["offer"]) for e in result_doc["energy"] if e["interval"] in firm}
    )
    awards = [
        EnergyAward(
            run=run,
            interval_start=starts[e["interval"]],
            offer=offers[_pk(e["offer"])],
            kwh=_dec(e["kwh"], 3),
            jpy_per_kwh=supplier_price(energy, offers[_pk(e["offer"])].area_id, e["interval"]),
        )
        for e in result_doc["energy"]
        if e["interval"] in firm and e["kwh"] > 0
    ]
    EnergyAward.objects.bulk_create(awards)
    GridPurchase.objects.bulk_create(
        GridPurchase(
            run=run, interval_start=starts[g["interval"]], area_id=g["area"], kwh=_dec(g["kwh"], 3)
        )
        for g in result_doc["grid"]
        if g["interval"] in firm and g["kwh"] > 0
    )
    CapacitySale.objects.bulk_create(
        capacity_sale_rows(
            run=run, document=document, result_doc=result_doc, firm=firm, starts=starts
        )
    )
    persist_uplift(run, result_doc.get("uplift") or [])

    orders = build_order_rows(
        run=run,
        interval_start=run.interval_start,
        allocations=allocations,
        awards=awards,
        site_connection={s.pk: site_connection(s) for s in sites.values()},
    )
    DispatchOrder.objects.bulk_create(orders)
    orders = list(DispatchOrder.objects.filter(run=run).select_related("organisation"))
    OrderDelivery.objects.bulk_create(outbox_rows(orders, now=now))
    finished = _record_finished_bids(run, now)
    audit_record(
        code="market.clearing.completed",
        actor_label="system",
        obj=run,
        payload={
            "interval_start": calendar.iso_z(run.interval_start),
            "input_sha256": input_sha256,
            "result_sha256": result_sha256,
            "allocations": len(allocations),
            "orders": len(orders),
            "welfare_jpy": str(run.welfare_jpy),
            "bids_finished": finished,
            "solver": (result_doc.get("stats") or {}).get("backend", ""),
            "fallback": result_doc.get("fallback") or None,
        },
    )
    return run, [o.pk for o in orders]


def persist_uplift(
    run: ClearingRun, uplift: list[dict], redispatch: Redispatch | None = None
) -> None:
    """The engine's make-whole amounts of the firm interval, as rows settlement pays."""
    rows = [u for u in uplift if u.get("jpy", 0) > 0]
    if not rows:
        return
    owners: dict[str, int] = {}
    for model, prefix in ((WorkloadBid, "wl"), (CapacityOffer, "cap"), (EnergyOffer, "en")):
        pks = [_pk(u["participant"]) for u in rows if u["participant"].startswith(prefix + "-")]
        for pk, org_id in model.objects.filter(pk__in=pks).values_list("pk", "organisation_id"):
            owners[f"{prefix}-{pk}"] = org_id
    UpliftPayment.objects.bulk_create(
        UpliftPayment(
            run=run,
            redispatch=redispatch,
            participant=u["participant"],
            organisation_id=owners[u["participant"]],
            jpy=_dec(u["jpy"], 2),
        )
        for u in rows
        if u["participant"] in owners
    )


def _record_finished_bids(run: ClearingRun, now: datetime) -> int:
    """Bids whose last interval was this firm interval get their outcome; the seal lifts."""
    end = run.interval_start + calendar.INTERVAL
    outcomes: dict[str, str] = {}

    def verdict(got: Decimal, wanted: Decimal) -> str:
        if got <= 0:
            return BidStatus.REJECTED
        return (
            BidStatus.CLEARED if got >= wanted - Decimal("0.000001") else BidStatus.PARTLY_CLEARED
        )

    finished = list(WorkloadBid.objects.filter(status__in=LIVE_STATUSES, end=end))
    # A workload is only ever allocated inside its own window: one grouped query serves all.
    served_by = _totals(Allocation, "workload_id", [w.pk for w in finished])
    for w in finished:
        served = served_by.get(w.pk, Decimal(0))
        wanted = (
            Decimal(str(sum(Decimal(str(d)) for d in w.demand)))
            if w.kind == "inference"
            else w.remaining_cu_intervals
        )
        outcomes[w.public_id] = verdict(served, wanted)
    # Each offer is one price step of its site: its own sales, not the site's total.
    capacity = list(CapacityOffer.objects.filter(status__in=LIVE_STATUSES, end=end))
    sold_cu = _totals(CapacitySale, "offer_id", [c.pk for c in capacity])
    for c in capacity:
        sold = sold_cu.get(c.pk, Decimal(0))
        outcomes[c.public_id] = verdict(sold, sum(Decimal(str(x)) for x in c.cu))
    offers = list(EnergyOffer.objects.filter(status__in=LIVE_STATUSES, end=end))
    sold_by = _totals(EnergyAward, "offer_id", [e.pk for e in offers], field="kwh")
    for e in offers:
        sold = sold_by.get(e.pk, Decimal(0))
        outcomes[e.public_id] = verdict(sold, sum(Decimal(str(x)) for x in e.kwh))
    if not outcomes:
        return 0
    return bids_record_outcome(outcomes=outcomes, run_id=str(run.pk), now=now)


def _totals(model, key: str, ids: list[int], field: str = "cu") -> dict[int, Decimal]:
    rows = (
        model.objects.filter(is_current=True, **{f"{key}__in": ids})
        .values(key)
        .annotate(total=Sum(field))
    )
    return {row[key]: row["total"] for row in rows}
