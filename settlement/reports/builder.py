"""Build the regulator's market report for [start, end) from cleared runs and their rows.

Reads only (a selector in the house sense): clearing runs and their snapshots, current
firm rows, dispatch orders, re-dispatches, the audit chain, and — when the settlement
side provides them — delivery compliance and the ledger check.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from aggregator.platform.audit import audit_verify_chain
from aggregator.platform.audit_checkpoints import checkpoints_between
from aggregator.platform.audit_codes import PlatformAudit
from aggregator.platform.models import AuditEvent
from aggregator.platform.public_ids import ENERGY_OFFER, format_public_id
from market import calendar, clearing_selectors
from market.models import EnergyOffer
from market.models.clearing import (
    Allocation,
    ClearingRun,
    EnergyAward,
    GridPurchase,
    Redispatch,
    RunStatus,
)
from market.models.dispatch import AckState, DispatchOrder
from operators.models import GridArea, Site
from settlement.impact.services import Metric, run_impact_ensure
from settlement.models import ImpactFigure
from settlement.reports import metrics
from settlement.reports.snapshot_figures import FirmFigures, firm_figures
from settlement.reports.types import (
    AreaInterval,
    AreaSummary,
    AuditCheckpointRow,
    AuditStatus,
    Carbon,
    Compliance,
    Intervention,
    LedgerStatus,
    MarketReport,
    RunRow,
    WelfareTotals,
)

ZERO = Decimal(0)
G_PER_T = 1_000_000
HOURS = Decimal(calendar.INTERVAL_MINUTES) / 60  # one interval, in hours
Progress = Callable[[str], None]


def build_market_report(
    *, start: datetime, end: datetime, period: str = "", progress: Progress | None = None
) -> MarketReport:
    """Every figure of the report over the firm intervals starting in [start, end)."""
    say = progress or (lambda _msg: None)
    runs, firm = _runs_and_snapshots(start, end, say)
    area_rows = _area_intervals(start, end)
    cleared = _cleared(start, end, firm)
    areas = _area_summaries(area_rows, firm, cleared)
    say("orders, re-dispatches, ledger and audit chain")
    welfare = _welfare(runs)
    completed = sum(1 for r in runs if r.status == RunStatus.COMPLETED)
    cu_demanded = sum((f.cu_demanded for f in firm), ZERO)
    cu_cleared = sum((a.cu_cleared for a in areas), ZERO)
    notes = []
    if not runs:
        notes.append("no clearing run in this period")
    return MarketReport(
        period=period or f"{calendar.iso_z(start)}/{calendar.iso_z(end)}",
        start=start,
        end=end,
        generated_at=timezone.now().replace(microsecond=0),
        intervals_in_period=int((end - start) / calendar.INTERVAL),
        intervals_cleared=completed,
        runs=runs,
        area_intervals=area_rows,
        areas=areas,
        welfare=welfare,
        curtailment_relief_kwh=sum((a.curtailment_relief_kwh for a in areas), ZERO),
        carbon=Carbon(
            co2_t=sum(a.co2_t for a in areas),
            co2_stay_t=sum(a.co2_stay_t for a in areas),
            cu_h=cu_cleared * HOURS,
            cu_h_stay=sum((f.stay_cu for f in firm), ZERO) * HOURS,
        ),
        cu_demanded=cu_demanded,
        cu_cleared=cu_cleared,
        workload_bid_to_clear=metrics.ratio(cu_demanded, cu_cleared),
        compliance=_compliance(start, end),
        ledger=_ledger(),
        interventions=_interventions(start, end, runs),
        audit=_audit(start, end),
        notes=notes,
        area_names={
            code: {"ja": ja, "en": en}
            for code, ja, en in GridArea.objects.values_list("code", "name_ja", "name_en")
        },
    )


def _runs_and_snapshots(
    start: datetime, end: datetime, say: Progress
) -> tuple[list[RunRow], list[FirmFigures]]:
    qs = ClearingRun.objects.filter(interval_start__gte=start, interval_start__lt=end).order_by(
        "interval_start"
    )
    redispatches = defaultdict(int)
    for run_id in Redispatch.objects.filter(run__in=qs).values_list("run_id", flat=True):
        redispatches[run_id] += 1
    runs, firm = [], []
    welfare = _firm_welfare(start, end)
    last_day = None
    for run in qs.iterator(chunk_size=50):
        day = calendar.to_jst(run.interval_start).date()
        if day != last_day:
            say(f"{day.isoformat()}: reading clearing runs")
            last_day = day
        runs.append(
            RunRow(
                interval_start=run.interval_start,
                run_id=run.pk,
                status=run.status,
                attempts=run.attempts,
                welfare_jpy=welfare.get(run.pk, {}).get("welfare_jpy"),
                stay_welfare_jpy=welfare.get(run.pk, {}).get("stay_welfare_jpy"),
                greedy_welfare_jpy=welfare.get(run.pk, {}).get("greedy_welfare_jpy"),
                redispatches=redispatches[run.pk],
                fallback=(run.fallback or {}).get("detail", ""),
            )
        )
        if run.status == RunStatus.COMPLETED and run.snapshot_json:
            firm.append(firm_figures(run.interval_start, json.loads(run.snapshot_json)))
    return runs, firm


def _area_intervals(start: datetime, end: datetime) -> list[AreaInterval]:
    return [
        AreaInterval(
            interval_start=r["interval_start"],
            area=r["area"],
            energy_jpy_per_kwh=r["energy_jpy_per_kwh"],
            compute_jpy_per_cu_h=r["compute_jpy_per_cu_h"],
            cu_cleared=r["cu_cleared"],
            kwh_from_offers=r["kwh_from_offers"],
            kwh_from_grid=r["kwh_from_grid"],
        )
        for r in clearing_selectors.public_results(start=start, end=end)
    ]


class _Cleared:
    """Current firm rows of the period, summed per area and organisation."""

    def __init__(self) -> None:
        self.cu = defaultdict(lambda: defaultdict(Decimal))  # area → org → CU
        self.compute_cost = defaultdict(Decimal)  # area → Σ CU × compute price
        self.kwh_offers = defaultdict(lambda: defaultdict(Decimal))  # area → org → kWh
        self.relief_kwh = defaultdict(Decimal)
        self.co2_g = defaultdict(float)


def _cleared(start: datetime, end: datetime, firm: list[FirmFigures]) -> _Cleared:
    out = _Cleared()
    window = {"is_current": True, "interval_start__gte": start, "interval_start__lt": end}
    for a in Allocation.objects.filter(**window).select_related("site__organisation"):
        area, org = a.site.area_id, a.site.organisation.slug
        out.cu[area][org] += a.cu
        out.compute_cost[area] += a.cu * a.compute_jpy_per_cu_h
    for e in EnergyAward.objects.filter(**window).select_related("offer__organisation"):
        area, org = e.offer.area_id, e.offer.organisation.slug
        out.kwh_offers[area][org] += e.kwh
        if e.offer.curtailment_relief:
            out.relief_kwh[area] += e.kwh
        out.co2_g[area] += float(e.kwh) * float(e.offer.carbon_g_per_kwh)
    # Grid energy emits at the area's carbon intensity of that interval, as the run saw it.
    carbon = {(f.interval_start, area): g for f in firm for area, g in f.area_carbon.items()}
    for g in GridPurchase.objects.filter(**window):
        out.co2_g[g.area_id] += float(g.kwh) * carbon.get((g.interval_start, g.area_id), 0.0)
    return out


def _owners(firm: list[FirmFigures]) -> tuple[dict[str, tuple[str, str]], dict[int, str]]:
    """Site code → (area, organisation); energy offer pk → organisation."""
    sites = {
        code: (area, org)
        for code, area, org in Site.objects.values_list("code", "area_id", "organisation__slug")
    }
    offer_pks = {pk for f in firm for pk in f.energy_offered}
    offers = dict(
        EnergyOffer.objects.filter(pk__in=offer_pks).values_list("pk", "organisation__slug")
    )
    return sites, offers


def _area_summaries(
    rows: list[AreaInterval], firm: list[FirmFigures], cleared: _Cleared
) -> list[AreaSummary]:
    sites, offers = _owners(firm)
    cu_offered = defaultdict(lambda: defaultdict(Decimal))
    kwh_offered = defaultdict(lambda: defaultdict(Decimal))
    co2_stay_g = defaultdict(float)
    for f in firm:
        for code, cu in f.capacity_offered.items():
            area, org = sites.get(code, (f.site_area.get(code, "?"), code))
            cu_offered[area][org] += cu
        for pk, (area, kwh) in f.energy_offered.items():
            kwh_offered[area][offers.get(pk, format_public_id(ENERGY_OFFER, pk))] += kwh
        for area, grams in f.stay_co2_g.items():
            co2_stay_g[area] += grams
    by_area = defaultdict(list)
    for r in rows:
        by_area[r.area].append(r)
    codes = list(GridArea.objects.values_list("code", flat=True))
    summaries = []
    for area in codes:
        mine = by_area.get(area, [])
        prices = [r.energy_jpy_per_kwh for r in mine if r.energy_jpy_per_kwh is not None]
        cu_total = sum(cleared.cu[area].values(), ZERO)
        offered_cu = sum(cu_offered[area].values(), ZERO)
        offered_kwh = sum(kwh_offered[area].values(), ZERO)
        from_offers = sum(cleared.kwh_offers[area].values(), ZERO)
        summaries.append(
            AreaSummary(
                area=area,
                intervals=len(mine),
                energy_price_mean=_q(sum(prices) / len(prices)) if prices else None,
                energy_price_min=min(prices) if prices else None,
                energy_price_max=max(prices) if prices else None,
                compute_price_mean=_q(cleared.compute_cost[area] / cu_total) if cu_total else None,
                cu_offered=offered_cu,
                cu_cleared=cu_total,
                cu_h_cleared=cu_total * HOURS,
                kwh_offered=offered_kwh,
                kwh_from_offers=from_offers,
                kwh_from_grid=sum((r.kwh_from_grid for r in mine), ZERO),
                curtailment_relief_kwh=cleared.relief_kwh[area],
                capacity_bid_to_clear=metrics.ratio(offered_cu, cu_total),
                energy_bid_to_clear=metrics.ratio(offered_kwh, from_offers),
                hhi_capacity_offered=metrics.hhi(cu_offered[area]),
                hhi_capacity_cleared=metrics.hhi(cleared.cu[area]),
                hhi_energy_offered=metrics.hhi(kwh_offered[area]),
                hhi_energy_cleared=metrics.hhi(cleared.kwh_offers[area]),
                co2_t=cleared.co2_g[area] / G_PER_T,
                co2_stay_t=co2_stay_g[area] / G_PER_T,
            )
        )
    return summaries


def _q(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.0001"))


def _welfare(runs: list[RunRow]) -> WelfareTotals:
    """Σ of the runs' firm-interval welfare: each interval once (see `_firm_welfare`)."""
    done = [r for r in runs if r.welfare_jpy is not None]
    welfare = sum((r.welfare_jpy for r in done), ZERO)
    stay = sum((r.stay_welfare_jpy or ZERO for r in done), ZERO)
    greedy = sum((r.greedy_welfare_jpy or ZERO for r in done), ZERO)
    return WelfareTotals(welfare, stay, greedy, welfare - stay, welfare - greedy)


_WELFARE_METRICS = {
    Metric.WELFARE_JPY: "welfare_jpy",
    Metric.STAY_WELFARE_JPY: "stay_welfare_jpy",
    Metric.GREEDY_WELFARE_JPY: "greedy_welfare_jpy",
}


def _firm_welfare(start: datetime, end: datetime) -> dict[int, dict[str, Decimal]]:
    """Run id → welfare of its firm interval, of the clearing and of both baselines.

    A run's stored welfare covers its whole 48-interval horizon and consecutive horizons
    overlap, so summing it would count an interval up to 48 times; settlement.impact keeps
    each run's firm-interval figures (computed here for runs that lack them)."""
    run_impact_ensure(start=start, end=end)
    out: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for run_id, metric, value in ImpactFigure.objects.filter(
        interval_start__gte=start,
        interval_start__lt=end,
        organisation__isnull=True,
        metric__in=[str(m) for m in _WELFARE_METRICS],
    ).values_list("run_id", "metric", "value"):
        out[run_id][_WELFARE_METRICS[Metric(metric)]] = value.quantize(Decimal("0.01"))
    return out


def _compliance(start: datetime, end: datetime) -> Compliance:
    orders = DispatchOrder.objects.filter(interval_start__gte=start, interval_start__lt=end)
    by_kind: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    superseded = 0
    for kind, state, flagged, current in orders.values_list(
        "kind", "ack_state", "flagged_unacknowledged_at", "is_current"
    ):
        if not current:
            superseded += 1
            continue
        by_kind[kind]["orders"] += 1
        by_kind[kind][state] += 1
        by_kind[kind]["flagged"] += flagged is not None
    total = {
        key: sum(k.get(key, 0) for k in by_kind.values())
        for key in ("orders", AckState.ACCEPTED, AckState.REJECTED, AckState.PENDING, "flagged")
    }
    delivery = _optional("settlement.selectors", "delivery_compliance", start=start, end=end)
    return Compliance(
        orders=total["orders"],
        accepted=total[AckState.ACCEPTED],
        rejected=total[AckState.REJECTED],
        pending=total[AckState.PENDING],
        flagged_unacknowledged=total["flagged"],
        superseded_versions=superseded,
        by_kind={k: dict(v) for k, v in sorted(by_kind.items())},
        delivery_available=delivery is not _MISSING,
        delivery=None if delivery is _MISSING else _plain(delivery),
    )


_MISSING = object()


def _optional(module: str, name: str, **kwargs: Any) -> Any:
    """Call the settlement side's function if it exists yet (it is built alongside)."""
    import importlib

    try:
        func = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return _MISSING
    try:
        return func(**kwargs)
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}


def _plain(value: Any) -> Any:
    """Whatever the settlement side returns, as JSON-friendly data."""
    if is_dataclass(value) and not isinstance(value, type):
        return _plain(asdict(value))
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return calendar.iso_z(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _ledger() -> LedgerStatus:
    result = _optional("settlement.ledger", "ledger_check")
    if result is _MISSING:
        return LedgerStatus(available=False, ok=None, detail=None)
    detail = _plain(result)
    ok = getattr(result, "ok", None)
    if ok is None and isinstance(detail, dict):
        ok = detail.get("ok")
    if ok is None and isinstance(result, bool):
        ok, detail = result, {"ok": result}
    if not isinstance(detail, dict):
        detail = {"result": detail}
    return LedgerStatus(available=True, ok=None if ok is None else bool(ok), detail=detail)


def _interventions(start: datetime, end: datetime, runs: list[RunRow]) -> list[Intervention]:
    out = []
    for rd in Redispatch.objects.filter(
        run__interval_start__gte=start, run__interval_start__lt=end
    ).select_related("run"):
        event = rd.event or {}
        subject = event.get("site") or event.get("offer") or ""
        out.append(
            Intervention(
                interval_start=rd.run.interval_start,
                kind="redispatch",
                summary=f"{event.get('type', 'event')} {subject}: "
                f"{len(rd.changes or [])} change(s) in {rd.elapsed_ms} ms",
                at=rd.created_at,
                actor=rd.actor_label,
            )
        )
    for r in runs:
        if r.status != RunStatus.COMPLETED:
            out.append(Intervention(r.interval_start, "run_" + r.status, f"run {r.run_id}", None))
        elif r.attempts > 1:
            out.append(
                Intervention(
                    r.interval_start,
                    "run_takeover",
                    f"run {r.run_id} completed after {r.attempts} attempts",
                    None,
                )
            )
        if r.fallback:  # the exact clearing missed its time budget
            out.append(
                Intervention(r.interval_start, "fallback", f"run {r.run_id}: {r.fallback}", None)
            )
    run_ids = {str(r.run_id): r.interval_start for r in runs}
    replays = AuditEvent.objects.filter(
        code=PlatformAudit.REPLAY_CHECKED, object_id__in=list(run_ids)
    ).order_by("seq")
    for event in replays:
        verdict = "identical" if event.payload.get("ok") else "DIFFERENT"
        solvers = ""
        if event.payload.get("replay_solver"):
            solvers = (
                f" (cleared with {event.payload.get('run_solver')}, "
                f"re-solved with {event.payload['replay_solver']})"
            )
        out.append(
            Intervention(
                run_ids[event.object_id],
                "replay",
                f"run {event.object_id} replayed: {verdict}{solvers}",
                event.created_at,
                event.actor_label,
            )
        )
    return sorted(out, key=lambda i: (i.interval_start, i.kind))


def _audit(start: datetime, end: datetime) -> AuditStatus:
    verdict = audit_verify_chain()
    checkpoints = [
        AuditCheckpointRow(cp.seq, cp.head_hash, cp.at, cp.key_id, cp.signature, cp.token)
        for cp in checkpoints_between(start, end)
    ]
    return AuditStatus(
        verdict.ok, verdict.checked, verdict.first_bad_seq, verdict.reason, checkpoints
    )
