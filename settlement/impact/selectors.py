"""What the market did for an organisation (or, for regulators and the operator, the market).

Sums the per-run firm-interval figures of `settlement.impact.services` over a period and
reads the ledger's settled money beside them. Scoped: an organisation sees only its own
figures; regulators and the market operator see the market's. Definitions: docs/reports.md
("Market impact").
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Sum

from market import calendar
from operators.actors import Actor
from operators.choices import OrganisationRole
from operators.models import Site
from settlement.choices import AccountKind, Component
from settlement.impact.services import Metric, run_impact_ensure
from settlement.models import ImpactFigure, IntervalSettlement, Posting
from settlement.selectors import month_bounds

ZERO = Decimal(0)
PLACES = Decimal("0.000001")  # ImpactFigure.value's decimal places
KG = Decimal(1000)
ON_READ_LIMIT = 24  # runs whose missing figures one page view computes


@dataclass(frozen=True)
class AreaAmount:
    area: str
    cu_h: Decimal


@dataclass(frozen=True)
class OwnerImpact:
    cu_h: Decimal
    away_cu_h: Decimal
    away_by_area: list[AreaAmount]
    paid_jpy: Decimal  # cleared: all-in price × CU-h, rounded per order like settlement
    paid_ledger_jpy: int  # settled so far: the ledger's compute-and-energy charges
    energy_jpy: Decimal
    stay_energy_jpy: Decimal
    saved_vs_stay_jpy: Decimal
    greedy_cu_h: Decimal
    saved_vs_greedy_jpy: Decimal
    co2_kg: Decimal
    stay_co2_kg: Decimal
    co2_avoided_kg: Decimal
    relief_kwh: Decimal


@dataclass(frozen=True)
class SiteImpact:
    site: str
    area: str
    offered_cu_h: Decimal
    sold_cu_h: Decimal
    utilisation: Decimal | None  # sold ÷ offered, 0–1
    revenue_jpy: Decimal
    revenue_ledger_jpy: int


@dataclass(frozen=True)
class ProviderImpact:
    sites: list[SiteImpact]
    offered_cu_h: Decimal
    sold_cu_h: Decimal
    utilisation: Decimal | None
    revenue_jpy: Decimal
    revenue_ledger_jpy: int


@dataclass(frozen=True)
class SupplierArea:
    area: str
    kwh: Decimal
    relief_kwh: Decimal
    revenue_jpy: Decimal
    revenue_ledger_jpy: int


@dataclass(frozen=True)
class SupplierImpact:
    areas: list[SupplierArea]
    kwh: Decimal
    relief_kwh: Decimal
    revenue_jpy: Decimal
    revenue_ledger_jpy: int


@dataclass(frozen=True)
class WelfareImpact:
    welfare_jpy: Decimal
    stay_welfare_jpy: Decimal
    greedy_welfare_jpy: Decimal
    vs_stay_jpy: Decimal
    vs_greedy_jpy: Decimal


@dataclass(frozen=True)
class Impact:
    start: datetime
    end: datetime
    market_wide: bool
    intervals_in_period: int
    intervals_cleared: int
    intervals_settled: int
    owner: OwnerImpact | None = None
    provider: ProviderImpact | None = None
    supplier: SupplierImpact | None = None
    welfare: WelfareImpact | None = None
    runs_pending: int = 0  # runs whose figures are not computed yet (left out above)


def last_days_bounds(now: datetime, days: int = 7) -> tuple[datetime, datetime]:
    """The last `days` whole JST days up to the end of today (JST)."""
    today = calendar.to_jst(now).date()
    end = calendar.slot_start(today + timedelta(days=1), 1)
    return end - timedelta(days=days), end


def _stored(value: Decimal | None) -> Decimal:
    """A database sum at the figures' stored precision (SQLite's has float noise digits)."""
    return (value or ZERO).quantize(PLACES)


def _sums(qs) -> dict[str, dict[str, Decimal]]:
    out: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for row in qs.values("metric", "key").annotate(v=Sum("value")).order_by():
        out[row["metric"]][row["key"]] = _stored(row["v"])
    return out


def _ledger(org_id: int | None, start: datetime, end: datetime) -> dict[tuple[str, str], int]:
    """Settled money per (component, memo), from the organisation's side (+ to it, − by it)."""
    qs = Posting.objects.filter(
        interval_start__gte=start,
        interval_start__lt=end,
        account__kind__in=[AccountKind.RECEIVABLE, AccountKind.PAYABLE],
        component__in=[Component.COMPUTE_ENERGY, Component.COMPUTE, Component.ENERGY_SUPPLY],
    )
    qs = qs.filter(organisation_id=org_id) if org_id else qs.filter(organisation__isnull=False)
    rows = qs.values("component", "memo").annotate(s=Sum("amount_jpy")).order_by()
    return {(r["component"], r["memo"]): -int(r["s"]) for r in rows}


def _total(values: dict[str, Decimal]) -> Decimal:
    return sum(values.values(), ZERO)


def _ratio(part: Decimal, whole: Decimal) -> Decimal | None:
    return (part / whole).quantize(Decimal("0.0001")) if whole else None


def _owner(s: dict, ledger: dict) -> OwnerImpact:
    def one(metric: Metric) -> Decimal:
        return _total(s.get(str(metric), {}))

    away = s.get(str(Metric.OWNER_AWAY_CU_H), {})
    energy, stay = one(Metric.OWNER_ENERGY_JPY), one(Metric.OWNER_STAY_ENERGY_JPY)
    co2, stay_co2 = one(Metric.OWNER_CO2_G) / KG, one(Metric.OWNER_STAY_CO2_G) / KG
    paid_ledger = -sum(v for (c, _m), v in ledger.items() if c == Component.COMPUTE_ENERGY)
    return OwnerImpact(
        cu_h=one(Metric.OWNER_CU_H),
        away_cu_h=_total(away),
        away_by_area=[AreaAmount(a, v) for a, v in sorted(away.items(), key=lambda kv: -kv[1])],
        paid_jpy=one(Metric.OWNER_PAID_JPY),
        paid_ledger_jpy=paid_ledger,
        energy_jpy=energy,
        stay_energy_jpy=stay,
        saved_vs_stay_jpy=stay - energy,
        greedy_cu_h=one(Metric.OWNER_GREEDY_CU_H),
        saved_vs_greedy_jpy=one(Metric.OWNER_GREEDY_ENERGY_JPY)
        - one(Metric.OWNER_GREEDY_ACTUAL_ENERGY_JPY),
        co2_kg=co2,
        stay_co2_kg=stay_co2,
        co2_avoided_kg=stay_co2 - co2,
        relief_kwh=one(Metric.OWNER_RELIEF_KWH),
    )


def _provider(s: dict, ledger: dict) -> ProviderImpact:
    offered = s.get(str(Metric.PROVIDER_OFFERED_CU_H), {})
    sold = s.get(str(Metric.PROVIDER_SOLD_CU_H), {})
    revenue = s.get(str(Metric.PROVIDER_REVENUE_JPY), {})
    codes = sorted(set(offered) | set(sold) | set(revenue))
    areas = dict(Site.objects.filter(code__in=codes).values_list("code", "area_id"))
    sites = [
        SiteImpact(
            site=code,
            area=areas.get(code, ""),
            offered_cu_h=offered.get(code, ZERO),
            sold_cu_h=sold.get(code, ZERO),
            utilisation=_ratio(sold.get(code, ZERO), offered.get(code, ZERO)),
            revenue_jpy=revenue.get(code, ZERO),
            revenue_ledger_jpy=ledger.get((Component.COMPUTE, code), 0),
        )
        for code in codes
    ]
    return ProviderImpact(
        sites=sites,
        offered_cu_h=_total(offered),
        sold_cu_h=_total(sold),
        utilisation=_ratio(_total(sold), _total(offered)),
        revenue_jpy=_total(revenue),
        revenue_ledger_jpy=sum(v for (c, _m), v in ledger.items() if c == Component.COMPUTE),
    )


def _supplier(s: dict, ledger: dict) -> SupplierImpact:
    kwh = s.get(str(Metric.SUPPLIER_KWH), {})
    relief = s.get(str(Metric.SUPPLIER_RELIEF_KWH), {})
    revenue = s.get(str(Metric.SUPPLIER_REVENUE_JPY), {})
    areas = [
        SupplierArea(
            area=area,
            kwh=kwh.get(area, ZERO),
            relief_kwh=relief.get(area, ZERO),
            revenue_jpy=revenue.get(area, ZERO),
            revenue_ledger_jpy=ledger.get((Component.ENERGY_SUPPLY, area), 0),
        )
        for area in sorted(set(kwh) | set(revenue))
    ]
    return SupplierImpact(
        areas=areas,
        kwh=_total(kwh),
        relief_kwh=_total(relief),
        revenue_jpy=_total(revenue),
        revenue_ledger_jpy=sum(v for (c, _m), v in ledger.items() if c == Component.ENERGY_SUPPLY),
    )


def _welfare(s: dict) -> WelfareImpact:
    w = _total(s.get(str(Metric.WELFARE_JPY), {}))
    stay = _total(s.get(str(Metric.STAY_WELFARE_JPY), {}))
    greedy = _total(s.get(str(Metric.GREEDY_WELFARE_JPY), {}))
    return WelfareImpact(w, stay, greedy, w - stay, w - greedy)


def firm_welfare(*, start: datetime, end: datetime) -> WelfareImpact:
    """Firm-interval welfare of the clearing and of both baselines over [start, end)."""
    run_impact_ensure(start=start, end=end)
    qs = ImpactFigure.objects.filter(
        interval_start__gte=start, interval_start__lt=end, organisation__isnull=True
    )
    return _welfare(_sums(qs))


def impact_for(*, actor: Actor, start: datetime, end: datetime, ledger: bool = True) -> Impact:
    """The actor's organisation's figures over [start, end); the market's for overseers.
    `ledger=False` (the dashboard's card) leaves out the settled money and its count."""
    # A memo, not a business write: figures a run lacks (runs cleared before the memo existed,
    # or re-dispatched since) are computed here, a bounded number per request (20–40 ms each);
    # `manage.py record_impact` computes a whole period at once.
    cleared, pending = run_impact_ensure(start=start, end=end, limit=ON_READ_LIMIT)
    market_wide = actor.oversees_market
    org = actor.organisation
    qs = ImpactFigure.objects.filter(interval_start__gte=start, interval_start__lt=end)
    sums = _sums(qs if market_wide else qs.filter(organisation=org))
    money = _ledger(None if market_wide else org.pk, start, end) if ledger else {}
    settled = (
        IntervalSettlement.objects.filter(interval_start__gte=start, interval_start__lt=end).count()
        if ledger
        else 0
    )

    def shows(role: str, metric_prefix: str) -> bool:
        return market_wide or org.has_role(role) or any(m.startswith(metric_prefix) for m in sums)

    return Impact(
        start=start,
        end=end,
        market_wide=market_wide,
        intervals_in_period=int((end - start) / calendar.INTERVAL),
        intervals_cleared=cleared,
        intervals_settled=settled,
        owner=_owner(sums, money) if shows(OrganisationRole.WORKLOAD_OWNER, "owner.") else None,
        provider=_provider(sums, money)
        if shows(OrganisationRole.COMPUTE_PROVIDER, "provider.")
        else None,
        supplier=_supplier(sums, money)
        if shows(OrganisationRole.POWER_SUPPLIER, "supplier.")
        else None,
        welfare=_welfare(sums) if market_wide else None,
        runs_pending=pending,
    )


@dataclass(frozen=True)
class DailyImpact:
    """Per JST day of the period (days with no cleared run are left out)."""

    days: list[datetime]  # JST midnight of each day, aware
    saved_vs_stay_jpy: list[Decimal]
    saved_vs_greedy_jpy: list[Decimal]
    utilisation_pct: list[Decimal | None]  # CU sold ÷ offered × 100
    kwh_sold: list[Decimal]


_DAILY_METRICS = (
    Metric.OWNER_ENERGY_JPY,
    Metric.OWNER_STAY_ENERGY_JPY,
    Metric.OWNER_GREEDY_ENERGY_JPY,
    Metric.OWNER_GREEDY_ACTUAL_ENERGY_JPY,
    Metric.PROVIDER_OFFERED_CU_H,
    Metric.PROVIDER_SOLD_CU_H,
    Metric.SUPPLIER_KWH,
)


def daily_impact(*, actor: Actor, start: datetime, end: datetime) -> DailyImpact:
    """The charts' series: the same stored figures as `impact_for`, summed per JST day
    (call it after `impact_for`, which brings the figures up to date)."""
    qs = ImpactFigure.objects.filter(
        interval_start__gte=start,
        interval_start__lt=end,
        metric__in=[str(m) for m in _DAILY_METRICS],
    )
    if not actor.oversees_market:
        qs = qs.filter(organisation=actor.organisation)
    per_day: dict[datetime, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    rows = qs.values("interval_start", "metric").annotate(v=Sum("value")).order_by()
    for row in rows:
        local = calendar.to_jst(row["interval_start"])
        day = local.replace(hour=0, minute=0, second=0, microsecond=0)
        per_day[day][row["metric"]] += _stored(row["v"])
    days = sorted(per_day)

    def get(day: datetime, metric: Metric) -> Decimal:
        return per_day[day][str(metric)]

    return DailyImpact(
        days=days,
        saved_vs_stay_jpy=[
            get(d, Metric.OWNER_STAY_ENERGY_JPY) - get(d, Metric.OWNER_ENERGY_JPY) for d in days
        ],
        saved_vs_greedy_jpy=[
            get(d, Metric.OWNER_GREEDY_ENERGY_JPY) - get(d, Metric.OWNER_GREEDY_ACTUAL_ENERGY_JPY)
            for d in days
        ],
        utilisation_pct=[
            _ratio(get(d, Metric.PROVIDER_SOLD_CU_H) * 100, get(d, Metric.PROVIDER_OFFERED_CU_H))
            for d in days
        ],
        kwh_sold=[get(d, Metric.SUPPLIER_KWH) for d in days],
    )


def month_impact(*, actor: Actor, month: str) -> Impact:
    start, end = month_bounds(month)
    return impact_for(actor=actor, start=start, end=end)
