"""Compute and store each run's firm-interval impact figures (a memo of derived data).

`run_impact_record` is called by the exchange's cycle when a run completes; `run_impact_ensure`
fills in any run of a period whose figures are missing, from an older rule version, or older
than its latest re-dispatch (re-dispatch lives in the market layer, which cannot call up
here, so staleness is detected by counting a run's re-dispatches).

Per run and organisation (metric codes in `Metric`), from the current firm rows:

- owners: CU-h run, CU-h run away from the workload's home site (per destination area),
  what the placements cost at the all-in price (rounded per order as settlement rounds
  it), the energy part of that cost, what the same CU-hours' energy would have cost at the
  home site on grid energy (stay), and at the greedy rule's site where greedy runs the
  workload then; CO2 where it ran and at home; curtailment-relief kWh it absorbed;
- providers: CU offered (the snapshot) and sold per site, compute revenue per site (rounded
  per hosting order as settlement rounds it);
- suppliers: kWh sold, revenue (per delivery order, rounded alike), relief kWh, per area;
- the market (organisation null): firm-interval welfare of the clearing and the baselines.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from django.db import transaction
from django.db.models import Count, OuterRef, Q, Subquery
from django.utils import timezone

from aggregator.platform.public_ids import WORKLOAD, format_public_id
from market.models.clearing import (
    Allocation,
    CapacitySale,
    ClearingRun,
    EnergyAward,
    GridPurchase,
    Redispatch,
    RunStatus,
)
from operators.models import Site
from operators.site_energy import kwh_per_cu_hour
from settlement.impact.baselines import RunBaselines, run_baselines
from settlement.models import ImpactFigure, RunImpact
from settlement.money import HALF_HOUR, to_yen

logger = logging.getLogger(__name__)

# Bump when a definition below changes: stored figures of older versions are recomputed.
IMPACT_VERSION = 1
ZERO = Decimal(0)


class Metric(StrEnum):
    OWNER_CU_H = "owner.cu_h"
    OWNER_AWAY_CU_H = "owner.away_cu_h"  # key: destination area
    OWNER_PAID_JPY = "owner.paid_jpy"
    OWNER_ENERGY_JPY = "owner.energy_jpy"
    OWNER_STAY_ENERGY_JPY = "owner.stay_energy_jpy"
    OWNER_GREEDY_CU_H = "owner.greedy_cu_h"  # CU-h that greedy also runs in that interval
    OWNER_GREEDY_ENERGY_JPY = "owner.greedy_energy_jpy"
    OWNER_GREEDY_ACTUAL_ENERGY_JPY = "owner.greedy_actual_energy_jpy"
    OWNER_CO2_G = "owner.co2_g"
    OWNER_STAY_CO2_G = "owner.stay_co2_g"
    OWNER_RELIEF_KWH = "owner.relief_kwh"
    PROVIDER_OFFERED_CU_H = "provider.offered_cu_h"  # key: site code
    PROVIDER_SOLD_CU_H = "provider.sold_cu_h"
    PROVIDER_REVENUE_JPY = "provider.revenue_jpy"
    SUPPLIER_KWH = "supplier.kwh"  # key: area
    SUPPLIER_REVENUE_JPY = "supplier.revenue_jpy"
    SUPPLIER_RELIEF_KWH = "supplier.relief_kwh"
    WELFARE_JPY = "market.welfare_jpy"
    STAY_WELFARE_JPY = "market.stay_welfare_jpy"
    GREEDY_WELFARE_JPY = "market.greedy_welfare_jpy"


def _d(value: float) -> Decimal:
    return Decimal(str(round(value, 6)))


class _Figures:
    def __init__(self) -> None:
        self.values: dict[tuple[int | None, str, str], Decimal] = defaultdict(Decimal)

    def add(self, org: int | None, metric: Metric, value: Decimal, key: str = "") -> None:
        self.values[(org, str(metric), key)] += value


def _owner_figures(out: _Figures, base: RunBaselines, allocations: list[dict], energy) -> None:
    mix_g_per_kwh, relief_share = energy
    placement: dict[tuple[int, int], Decimal] = defaultdict(Decimal)  # (owner, site) → JPY
    for a in allocations:
        owner, cu_h = a["workload__organisation_id"], a["cu"] * HALF_HOUR
        per_cu_h = kwh_per_cu_hour(a["site__kw_per_cu"], a["site__pue"])
        energy_per_cu_h = a["all_in_jpy_per_cu_h"] - a["compute_jpy_per_cu_h"]
        placement[(owner, a["site_id"])] += cu_h * a["all_in_jpy_per_cu_h"]
        out.add(owner, Metric.OWNER_CU_H, cu_h)
        out.add(owner, Metric.OWNER_ENERGY_JPY, cu_h * energy_per_cu_h)
        area = a["site__area_id"]
        kwh = cu_h * per_cu_h
        out.add(owner, Metric.OWNER_CO2_G, _d(float(kwh) * mix_g_per_kwh.get(area, 0.0)))
        out.add(owner, Metric.OWNER_RELIEF_KWH, _d(float(kwh) * relief_share.get(area, 0.0)))
        wb = base.workloads.get(format_public_id(WORKLOAD, a["workload_id"]))
        if wb is None or wb.home_site is None:
            continue  # no home to compare with: neither moved nor saved
        if wb.home_site != a["site__code"]:
            out.add(owner, Metric.OWNER_AWAY_CU_H, cu_h, area)
        out.add(owner, Metric.OWNER_STAY_ENERGY_JPY, _d(float(cu_h) * wb.home_energy_jpy_per_cu_h))
        out.add(owner, Metric.OWNER_STAY_CO2_G, _d(float(cu_h) * wb.home_co2_g_per_cu_h))
        if wb.greedy_energy_jpy_per_cu_h is not None:
            out.add(owner, Metric.OWNER_GREEDY_CU_H, cu_h)
            out.add(
                owner,
                Metric.OWNER_GREEDY_ENERGY_JPY,
                _d(float(cu_h) * wb.greedy_energy_jpy_per_cu_h),
            )
            out.add(owner, Metric.OWNER_GREEDY_ACTUAL_ENERGY_JPY, cu_h * energy_per_cu_h)
    # Rounded per placement order (owner, site, interval), as settlement rounds the charge.
    for (owner, _site), jpy in placement.items():
        out.add(owner, Metric.OWNER_PAID_JPY, Decimal(to_yen(jpy)))


def _area_energy(
    base: RunBaselines, allocations: list[dict], awards: list[dict], grid: dict[str, Decimal]
) -> tuple[dict[str, float], dict[str, float]]:
    """Per area: gCO2/kWh of the energy the firm interval used, and the relief share."""
    grams: dict[str, float] = defaultdict(float)
    kwh: dict[str, float] = defaultdict(float)
    relief: dict[str, float] = defaultdict(float)
    for e in awards:
        area, got = e["offer__area_id"], float(e["kwh"])
        grams[area] += got * float(e["offer__carbon_g_per_kwh"])
        kwh[area] += got
        if e["offer__curtailment_relief"]:
            relief[area] += got
    for area, got in grid.items():
        grams[area] += float(got) * base.area_carbon.get(area, 0.0)
        kwh[area] += float(got)
    load: dict[str, float] = defaultdict(float)  # what the area's sites drew
    for a in allocations:
        per_cu_h = kwh_per_cu_hour(float(a["site__kw_per_cu"]), float(a["site__pue"]))
        load[a["site__area_id"]] += float(a["cu"]) * base.hours * per_cu_h
    mix = {area: grams[area] / kwh[area] for area in kwh if kwh[area] > 0}
    share = {area: relief[area] / load[area] for area in relief if load.get(area, 0) > 0}
    return mix, share


def _figures(run: ClearingRun, base: RunBaselines) -> _Figures:
    current = {"run": run, "is_current": True}
    allocations = list(
        Allocation.objects.filter(**current).values(
            "workload_id", "workload__organisation_id", "site_id", "site__code",
            "site__area_id", "site__organisation_id", "site__kw_per_cu", "site__pue", "cu",
            "all_in_jpy_per_cu_h", "compute_jpy_per_cu_h",
        )
    )  # fmt: skip
    awards = list(
        EnergyAward.objects.filter(**current).values(
            "offer__organisation_id", "offer__area_id", "offer__curtailment_relief",
            "offer__carbon_g_per_kwh", "kwh", "jpy_per_kwh",
        )
    )  # fmt: skip
    grid: dict[str, Decimal] = defaultdict(Decimal)
    for area, kwh in GridPurchase.objects.filter(**current).values_list("area_id", "kwh"):
        grid[area] += kwh
    out = _Figures()
    _owner_figures(out, base, allocations, _area_energy(base, allocations, awards, grid))
    sites = {
        code: (pk, org)
        for code, pk, org in Site.objects.filter(code__in=list(base.capacity_offered)).values_list(
            "code", "pk", "organisation_id"
        )
    }
    for code, cu in base.capacity_offered.items():
        if code in sites and cu > 0:
            out.add(sites[code][1], Metric.PROVIDER_OFFERED_CU_H, _d(cu * base.hours), code)
    for org, code, cu in CapacitySale.objects.filter(**current).values_list(
        "offer__organisation_id", "offer__site__code", "cu"
    ):
        out.add(org, Metric.PROVIDER_SOLD_CU_H, cu * HALF_HOUR, code)
    hosting: dict[tuple[int, str], Decimal] = defaultdict(Decimal)  # (provider, site) → JPY
    for a in allocations:
        key = (a["site__organisation_id"], a["site__code"])
        hosting[key] += a["cu"] * HALF_HOUR * a["compute_jpy_per_cu_h"]
    for (org, code), jpy in hosting.items():
        out.add(org, Metric.PROVIDER_REVENUE_JPY, Decimal(to_yen(jpy)), code)
    delivery: dict[tuple[int, str], Decimal] = defaultdict(Decimal)  # (supplier, area) → JPY
    for e in awards:
        org, area = e["offer__organisation_id"], e["offer__area_id"]
        out.add(org, Metric.SUPPLIER_KWH, e["kwh"], area)
        if e["offer__curtailment_relief"]:
            out.add(org, Metric.SUPPLIER_RELIEF_KWH, e["kwh"], area)
        delivery[(org, area)] += e["kwh"] * e["jpy_per_kwh"]
    for (org, area), jpy in delivery.items():
        out.add(org, Metric.SUPPLIER_REVENUE_JPY, Decimal(to_yen(jpy)), area)
    out.add(None, Metric.WELFARE_JPY, _d(base.welfare_jpy))
    out.add(None, Metric.STAY_WELFARE_JPY, _d(base.stay_welfare_jpy))
    out.add(None, Metric.GREEDY_WELFARE_JPY, _d(base.greedy_welfare_jpy))
    return out


def run_impact_record(*, run: ClearingRun) -> int:
    """(Re)compute one completed run's figures; returns how many were stored."""
    if run.status != RunStatus.COMPLETED or not run.snapshot_json or not run.result_json:
        return 0
    base = run_baselines(json.loads(run.snapshot_json), json.loads(run.result_json))
    redispatches = run.redispatches.count()
    figures = _figures(run, base)
    rows = [
        ImpactFigure(
            run=run, interval_start=run.interval_start, organisation_id=org,
            metric=metric, key=key, value=value,
        )
        for (org, metric, key), value in sorted(
            figures.values.items(), key=lambda kv: (kv[0][0] or 0, kv[0][1], kv[0][2])
        )
    ]  # fmt: skip
    with transaction.atomic():
        ImpactFigure.objects.filter(run=run).delete()
        ImpactFigure.objects.bulk_create(rows, batch_size=1000)
        RunImpact.objects.update_or_create(
            run=run,
            defaults={
                "interval_start": run.interval_start,
                "version": IMPACT_VERSION,
                "redispatches": redispatches,
                "computed_at": timezone.now(),
            },
        )
    return len(rows)


def completed_runs(*, start: datetime, end: datetime) -> tuple[int, list[int]]:
    """How many runs of [start, end) completed, and which of them lack current figures
    (missing, from an older IMPACT_VERSION, or older than their latest re-dispatch)."""
    window = {"interval_start__gte": start, "interval_start__lt": end}
    current = Q(impact_memo__version=IMPACT_VERSION)
    # The usual case in one cheap aggregate instead of a grouped join over every run: every
    # run has a current memo, and no memo saw fewer re-dispatches than its run has now.
    redispatches = (
        Redispatch.objects.filter(run=OuterRef("pk"))
        .order_by()
        .values("run")
        .annotate(n=Count("pk"))
        .values("n")
    )
    totals = ClearingRun.objects.filter(status=RunStatus.COMPLETED, **window).aggregate(
        runs=Count("pk"),
        memos=Count("impact_memo", filter=current),
        behind=Count("pk", filter=Q(impact_memo__redispatches__lt=Subquery(redispatches))),
    )
    if totals["runs"] == totals["memos"] and not totals["behind"]:
        return totals["runs"], []
    runs = (
        ClearingRun.objects.filter(
            status=RunStatus.COMPLETED, interval_start__gte=start, interval_start__lt=end
        )
        .annotate(n=Count("redispatches"))
        .values_list("pk", "n", "impact_memo__version", "impact_memo__redispatches")
    )
    rows = list(runs)
    stale = [pk for pk, n, version, seen in rows if (version, seen) != (IMPACT_VERSION, n)]
    return len(rows), stale


def runs_needing_impact(*, start: datetime, end: datetime) -> list[int]:
    """Completed runs of [start, end) whose stored figures are missing or stale."""
    return completed_runs(start=start, end=end)[1]


def run_impact_ensure(
    *, start: datetime, end: datetime, limit: int | None = None
) -> tuple[int, int]:
    """Compute the figures of the runs of [start, end) that lack current ones (at most
    `limit`, newest first). Returns (runs completed, runs still lacking figures after)."""
    completed, stale = completed_runs(start=start, end=end)
    if not stale:
        return completed, 0  # the usual case: one query
    todo = ClearingRun.objects.filter(pk__in=stale).order_by("-interval_start")
    for run in todo if limit is None else todo[:limit]:
        try:
            run_impact_record(run=run)
        except Exception:  # one bad snapshot must not hide the rest of the month
            logger.exception("impact figures of run %s could not be computed", run.pk)
    return completed, len(runs_needing_impact(start=start, end=end))
