"""Reads of clearing outcomes: public aggregates for everyone, own rows for each party."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet

from aggregator.platform.audit_codes import PlatformAudit
from aggregator.platform.public_ids import ENERGY_OFFER, WORKLOAD, format_public_id, public_id_pk
from market import calendar
from market.models import EnergyOffer, WorkloadBid
from market.models.clearing import (
    Allocation,
    CapacitySale,
    ClearingRun,
    EnergyAward,
    EnergyPrice,
    GridPurchase,
    RunStatus,
)
from market.models.dispatch import DispatchOrder, OrderDelivery
from operators.actors import Actor
from operators.models import Site


def run_list() -> QuerySet[ClearingRun]:
    """Run metadata is public: intervals, status, hashes, welfare (no bid content)."""
    return ClearingRun.objects.all()


def latest_replays(run_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Each run's latest replay verdict (they are audit events), keyed by run id."""
    from aggregator.platform.models import AuditEvent

    events = AuditEvent.objects.filter(
        code=PlatformAudit.REPLAY_CHECKED,
        object_type="market.clearingrun",
        object_id__in=[str(pk) for pk in run_ids],
    ).order_by("seq")
    return {int(e.object_id): {**e.payload, "at": e.created_at} for e in events}


def snapshot_readable(*, actor: Actor, run: ClearingRun, now: datetime) -> bool:
    """A snapshot holds bids of its advisory horizon too: sealed until all were cleared."""
    horizon_end = run.interval_start + run.horizon_intervals * calendar.INTERVAL
    return actor.is_regulator and now >= horizon_end


def allocation_list(*, actor: Actor) -> QuerySet[Allocation]:
    """Current firm allocations of one's workloads or at one's sites (regulators: all)."""
    qs = Allocation.objects.filter(is_current=True).select_related(
        "site__organisation", "workload__organisation", "run"
    )
    if actor.is_regulator:
        return qs
    org = actor.organisation
    return qs.filter(Q(workload__organisation=org) | Q(site__organisation=org))


def allocations_by_side(
    *, actor: Actor, allocations: Iterable[Allocation]
) -> dict[str, list[Allocation]]:
    """One's allocations split by the side one is on: `placed` (one's own workloads, which
    pay the all-in price) and `hosted` (others' workloads at one's sites, which earn the
    compute price). A workload of one's own at one's own site counts as placed: what it pays
    itself nets out. Regulators: `all`."""
    if actor.is_regulator:
        return {"all": list(allocations)}
    org_id = actor.organisation.pk
    sides: dict[str, list[Allocation]] = {"placed": [], "hosted": []}
    for a in allocations:
        if a.workload.organisation_id == org_id:
            sides["placed"].append(a)
        elif a.site.organisation_id == org_id:
            sides["hosted"].append(a)
    return sides


def energy_award_list(*, actor: Actor) -> QuerySet[EnergyAward]:
    qs = EnergyAward.objects.filter(is_current=True).select_related(
        "offer__area", "offer__organisation"
    )
    return qs if actor.is_regulator else qs.filter(offer__organisation=actor.organisation)


def capacity_sale_list(*, actor: Actor) -> QuerySet[CapacitySale]:
    """CU each of one's capacity offers sold in firm intervals (regulators: all)."""
    qs = CapacitySale.objects.filter(is_current=True).select_related("offer__site")
    return qs if actor.is_regulator else qs.filter(offer__organisation=actor.organisation)


def order_list(*, actor: Actor) -> QuerySet[DispatchOrder]:
    qs = DispatchOrder.objects.select_related("organisation", "site", "area")
    return qs if actor.is_regulator else qs.filter(organisation=actor.organisation)


def delivery_list(*, actor: Actor, order: DispatchOrder) -> QuerySet[OrderDelivery]:
    return (
        OrderDelivery.objects.filter(order=order)
        .select_related("endpoint")
        .prefetch_related("attempt_log")
    )


def public_results(*, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Per firm interval and area: energy price, CU-weighted compute price, volumes.

    Aggregates only: nobody learns another participant's bid or allocation from it.
    """
    energy = EnergyPrice.objects.filter(
        run__status=RunStatus.COMPLETED, interval_start__gte=start, interval_start__lt=end
    ).order_by("interval_start", "area_id")
    rows: dict[tuple[datetime, str], dict[str, Any]] = {}
    for p in energy:
        rows[(p.interval_start, p.area_id)] = {
            "interval_start": p.interval_start,
            "area": p.area_id,
            "energy_jpy_per_kwh": p.jpy_per_kwh,
            "cu_cleared": Decimal(0),
            "compute_jpy_per_cu_h": None,
            "kwh_from_offers": Decimal(0),
            "kwh_from_grid": Decimal(0),
        }
    weighted: dict[tuple[datetime, str], Decimal] = defaultdict(Decimal)
    for a in Allocation.objects.filter(
        is_current=True, interval_start__gte=start, interval_start__lt=end
    ).select_related("site"):
        key = (a.interval_start, a.site.area_id)
        if key in rows:
            rows[key]["cu_cleared"] += a.cu
            weighted[key] += a.cu * a.compute_jpy_per_cu_h
    for key, total in weighted.items():
        if rows[key]["cu_cleared"]:
            rows[key]["compute_jpy_per_cu_h"] = (total / rows[key]["cu_cleared"]).quantize(
                Decimal("0.0001")
            )
    for e in EnergyAward.objects.filter(
        is_current=True, interval_start__gte=start, interval_start__lt=end
    ).select_related("offer"):
        key = (e.interval_start, e.offer.area_id)
        if key in rows:
            rows[key]["kwh_from_offers"] += e.kwh
    for g in GridPurchase.objects.filter(
        is_current=True, interval_start__gte=start, interval_start__lt=end
    ):
        key = (g.interval_start, g.area_id)
        if key in rows:
            rows[key]["kwh_from_grid"] += g.kwh
    return list(rows.values())


def latest_advisory(*, actor: Actor) -> dict[str, Any] | None:
    """One's own advisory schedule from the newest completed run — and nothing else.

    Publication rule (docs/market.md, "What is published before an interval clears"): the
    advisory intervals of a run are still sealed, and wherever an uncleared bid is marginal
    its sealed price *is* the LP's price there. So no price and no other organisation's
    quantity of an advisory interval is published, to anyone; each participant sees only
    its own bids' indicative quantities: its workloads' placements, the CU sold at its
    sites, the kWh taken from its energy offers.
    """
    run = ClearingRun.objects.filter(status=RunStatus.COMPLETED).order_by("-interval_start").first()
    if run is None:
        return None
    result = json.loads(run.result_json)
    snapshot = json.loads(run.snapshot_json)
    starts = [calendar.parse_iso(at) for at in snapshot["intervals"]]
    firm = int(snapshot.get("firm_intervals", 1))
    own = _own_public_ids(actor, snapshot)
    site_cu: dict[tuple[str, int], float] = defaultdict(float)
    workloads = []
    for a in result["allocations"]:
        if a["interval"] < firm:
            continue
        if a["site"] in own:
            site_cu[(a["site"], a["interval"])] += a["cu"]
        if a["workload"] in own:
            workloads.append(
                {
                    "workload": a["workload"],
                    "site": a["site"],
                    "interval_start": starts[a["interval"]],
                    "cu": a["cu"],
                }
            )
    return {
        "run": run.pk,
        "firm_interval_start": run.interval_start,
        "workloads": workloads,
        "sites": [
            {"site": site, "interval_start": starts[t], "cu": round(cu, 6)}
            for (site, t), cu in sorted(site_cu.items())
        ],
        "energy_offers": [
            {"offer": e["offer"], "interval_start": starts[e["interval"]], "kwh": e["kwh"]}
            for e in result["energy"]
            if e["interval"] >= firm and e["offer"] in own
        ],
    }


def _own_public_ids(actor: Actor, snapshot: dict) -> set[str]:
    """Public ids of the actor's workloads and energy offers in the snapshot, and its sites."""
    org = actor.organisation
    workload_pks = [public_id_pk(w["id"]) for w in snapshot["workloads"]]
    offer_pks = [public_id_pk(e["id"]) for e in snapshot.get("energy_offers", [])]
    own = {
        format_public_id(WORKLOAD, pk)
        for pk in WorkloadBid.objects.filter(pk__in=workload_pks, organisation=org).values_list(
            "pk", flat=True
        )
    }
    own |= {
        format_public_id(ENERGY_OFFER, pk)
        for pk in EnergyOffer.objects.filter(pk__in=offer_pks, organisation=org).values_list(
            "pk", flat=True
        )
    }
    own |= set(Site.objects.filter(organisation=org).values_list("code", flat=True))
    return own
