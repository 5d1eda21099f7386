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

from aggregator.engine import Result
from aggregator.platform.audit import audit_record
from aggregator.platform.audit_codes import SYSTEM_ACTOR
from market import calendar
from market.choices import LIVE_STATUSES, BidStatus, MarketAudit, WorkloadKind
from market.models import CapacityOffer, EnergyOffer, WorkloadBid
from market.models.clearing import (
    Allocation,
    CapacitySale,
    ClearingRun,
    ComputePrice,
    EnergyAward,
    EnergyPrice,
    GridPurchase,
    RunStatus,
    UpliftPayment,
)
from market.models.dispatch import DispatchOrder, OrderDelivery
from market.services.firm_rows import (
    firm_rows,
    published,
    result_json,
    result_sha256,
)
from market.services.orders import build_order_rows, outbox_rows
from market.services.outcomes import bids_record_outcome
from operators.models import Site


class LostClaim(Exception):
    """Another worker took the run over (our lease expired); our result is discarded."""


def _baseline(result_doc: dict, name: str) -> Decimal | None:
    welfare = ((result_doc.get("baselines") or {}).get(name) or {}).get("welfare_jpy")
    return None if welfare is None else published(welfare, 2)


def site_connection(site: Site) -> dict[str, Any]:
    """What a workload owner needs to reach the site (published in placement orders)."""
    return {"site": site.code, "area": site.area_id, "prefecture": site.prefecture}


@transaction.atomic
def clearing_persist(
    *, run: ClearingRun, claim_token: str, document: dict, canonical: bytes, input_sha256: str,
    result: Result, timings: dict, now: datetime,
) -> tuple[ClearingRun, list[int]]:  # fmt: skip
    """Write the run's outcome; returns the run and the ids of the orders to push."""
    result_doc = result.to_dict()
    result_hash = result_sha256(result)
    _complete_run(run, claim_token, canonical, input_sha256, result, result_doc, timings, now)
    run.refresh_from_db()
    sites = {s.code: s for s in Site.objects.select_related("organisation")}
    rows = firm_rows(
        run=run,
        snapshot=document,
        result=result_doc,
        firm=set(range(int(document.get("firm_intervals", 1)))),
        interval_starts=[calendar.parse_iso(x) for x in document["intervals"]],
        sites=sites,
    )
    ComputePrice.objects.bulk_create(rows.compute_prices)
    EnergyPrice.objects.bulk_create(rows.energy_prices)
    Allocation.objects.bulk_create(rows.allocations)
    EnergyAward.objects.bulk_create(rows.energy_awards)
    GridPurchase.objects.bulk_create(rows.grid_purchases)
    CapacitySale.objects.bulk_create(rows.capacity_sales)
    UpliftPayment.objects.bulk_create(rows.uplift_payments)

    orders = build_order_rows(
        run=run,
        interval_start=run.interval_start,
        allocations=rows.allocations,
        awards=rows.energy_awards,
        site_connection={s.pk: site_connection(s) for s in sites.values()},
    )
    DispatchOrder.objects.bulk_create(orders)
    orders = list(DispatchOrder.objects.filter(run=run).select_related("organisation"))
    OrderDelivery.objects.bulk_create(outbox_rows(orders, now=now))
    finished = _record_finished_bids(run, now)
    audit_record(
        code=MarketAudit.CLEARING_COMPLETED,
        actor_label=SYSTEM_ACTOR,
        obj=run,
        payload={
            "interval_start": calendar.iso_z(run.interval_start),
            "input_sha256": input_sha256,
            "result_sha256": result_hash,
            "allocations": len(rows.allocations),
            "orders": len(orders),
            "welfare_jpy": str(run.welfare_jpy),
            "bids_finished": finished,
            "solver": (result_doc.get("stats") or {}).get("backend", ""),
            "fallback": result_doc.get("fallback") or None,
        },
    )
    return run, [o.pk for o in orders]


def _complete_run(
    run, claim_token, canonical, input_sha256, result, result_doc, timings, now
) -> None:
    """Mark the run completed with its stored input and result, if the claim is still ours."""
    updated = ClearingRun.objects.filter(
        pk=run.pk, claim_token=claim_token, status=RunStatus.RUNNING
    ).update(
        status=RunStatus.COMPLETED,
        finished_at=now,
        snapshot_json=canonical.decode("utf-8"),
        input_sha256=input_sha256,
        result_json=result_json(result),
        result_sha256=result_sha256(result),
        solver_stats=result_doc.get("stats", {}),
        fallback=result_doc.get("fallback") or {},
        timings=timings,
        welfare_jpy=published(result_doc["welfare_jpy"], 2),
        # A fallback result (out of time) may come without the baselines.
        stay_welfare_jpy=_baseline(result_doc, "stay"),
        greedy_welfare_jpy=_baseline(result_doc, "greedy"),
        error="",
    )
    if updated != 1:
        raise LostClaim(f"run {run.pk} is no longer ours")


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
            if w.kind == WorkloadKind.INFERENCE
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
