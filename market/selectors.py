"""Reads of the market, scoped to the requester: bids are sealed — only the owner reads them."""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Max, QuerySet, Sum

from market import calendar
from market.choices import BidType, SignalKind
from market.datafiles import DATA_DIR
from market.models import (
    Allocation,
    BidRevision,
    CapacityOffer,
    CarbonFactor,
    ClearingRun,
    EnergyOffer,
    Signal,
    WorkloadBid,
)
from operators.actors import Actor

INTERCONNECTOR_FILE = "interconnector_capacity_compiled.csv"


def _own(qs: QuerySet, actor: Actor) -> QuerySet:
    # Sealed: the owner's organisation only. Regulators and the market operator see
    # individual bids nowhere; after clearing they read aggregated public results instead.
    return qs.filter(organisation_id=actor.organisation.pk)


def capacity_offer_list(*, actor: Actor) -> QuerySet[CapacityOffer]:
    return _own(CapacityOffer.objects.select_related("site"), actor)


def energy_offer_list(*, actor: Actor) -> QuerySet[EnergyOffer]:
    return _own(EnergyOffer.objects.all(), actor)


def workload_bid_list(*, actor: Actor) -> QuerySet[WorkloadBid]:
    return _own(WorkloadBid.objects.select_related("home_site"), actor)


def bid_revision_list(*, actor: Actor, bid_type: BidType, bid_id: int) -> QuerySet[BidRevision]:
    return BidRevision.objects.filter(
        organisation_id=actor.organisation.pk, bid_type=bid_type, bid_id=bid_id
    ).order_by("revision")


def signal_list() -> QuerySet[Signal]:
    """Signals are public market information: every participant reads them."""
    return Signal.objects.all()


def _publications(kind: str, start: datetime, end: datetime) -> QuerySet[Signal]:
    # Oldest publication first, so that building a dict keeps the latest one per interval.
    return Signal.objects.filter(
        kind=kind, interval_start__gte=start, interval_start__lt=end
    ).order_by("interval_start", "published_at", "id")


def latest_signals(
    *, kind: str, start: datetime, end: datetime
) -> dict[tuple[str | None, datetime], Decimal]:
    """The latest published value per (area, interval) in [start, end), every area at once
    (the system-wide series has area None). Later publications overwrite earlier ones."""
    rows = _publications(kind, start, end).values_list("area_id", "interval_start", "value")
    return {(area, at): value for area, at, value in rows}


def signal_series(
    *, kind: str, area: str | None, start: datetime, end: datetime
) -> dict[datetime, Decimal]:
    """The latest published value per interval in [start, end) of one area (None: system)."""
    rows = _publications(kind, start, end).filter(area_id=area)
    return dict(rows.values_list("interval_start", "value"))


def annual_carbon_factors(*, area: str | None = None) -> dict[str, dict[int, Decimal]]:
    """{area: {year: g/kWh}} of every area (or of one)."""
    rows = CarbonFactor.objects.all() if area is None else CarbonFactor.objects.filter(area_id=area)
    factors: dict[str, dict[int, Decimal]] = {}
    for code, year, value in rows.values_list("area_id", "year", "g_per_kwh"):
        factors.setdefault(code, {})[year] = value
    return factors


def factor_for_year(factors: dict[int, Decimal], year: int) -> Decimal | None:
    """The rule for an annual factor: `year`'s, else the nearest earlier year's, else the
    earliest known (None when the area has none)."""
    if not factors:
        return None
    earlier = [y for y in factors if y <= year]
    return factors[max(earlier) if earlier else min(factors)]


def carbon_factor(*, area: str, year: int) -> Decimal | None:
    """The area's annual factor for `year` (see `factor_for_year`)."""
    return factor_for_year(annual_carbon_factors(area=area).get(area, {}), year)


def carbon_series(*, area: str, start: datetime, count: int) -> list[Decimal | None]:
    """Carbon per interval: a published carbon signal, else the area's annual factor."""
    end = start + count * calendar.INTERVAL
    published = signal_series(kind=SignalKind.CARBON, area=area, start=start, end=end)
    by_year: dict[int, Decimal | None] = {}
    out = []
    for at in calendar.interval_starts(start, count):
        if at in published:
            out.append(published[at])
            continue
        year = calendar.to_jst(at).year
        if year not in by_year:
            by_year[year] = carbon_factor(area=area, year=year)
        out.append(by_year[year])
    return out


@dataclass(frozen=True)
class Window:
    area: str
    start: datetime
    end: datetime
    mean: Decimal


def best_windows(
    *, areas: list[str], hours: float, within_hours: float, metric: str, start: datetime
) -> tuple[list[Window], list[str]]:
    """Per area, the contiguous window of `hours` with the lowest mean price or carbon,
    starting no earlier than `start` and ending within `within_hours`; ties → earliest.

    Returns the windows (best first) and the areas without enough stored data.
    """
    length = max(1, round(hours * 2))
    span = max(length, round(within_hours * 2))
    end = start + span * calendar.INTERVAL
    windows, missing = [], []
    for area in areas:
        if metric == "carbon":
            values = carbon_series(area=area, start=start, count=span)
        else:
            series = signal_series(kind=SignalKind.AREA_PRICE, area=area, start=start, end=end)
            values = [series.get(at) for at in calendar.interval_starts(start, span)]
        best: Window | None = None
        for i in range(span - length + 1):
            chunk = values[i : i + length]
            if any(v is None for v in chunk):
                continue
            mean = (sum(chunk) / length).quantize(Decimal("0.0001"))
            if best is None or mean < best.mean:
                first = start + i * calendar.INTERVAL
                best = Window(area, first, first + length * calendar.INTERVAL, mean)
        if best is None:
            missing.append(area)
        else:
            windows.append(best)
    windows.sort(key=lambda w: (w.mean, w.start, w.area))
    return windows, missing


@functools.cache
def interconnectors() -> tuple[dict[str, Any], ...]:
    """Inter-area interconnector capacities (OCCTO operational, 2025-26): reference data."""
    path = DATA_DIR / "interconnectors" / INTERCONNECTOR_FILE
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    out = []
    for row in rows:
        item: dict[str, Any] = {
            "link_id": row["link_id"],
            "name_en": row["name_en"],
            "name_ja": row["occto_name_ja"],
            "type": row["type"],
            "area_a": row["area_a"].lower(),
            "area_b": row["area_b"].lower(),
            "forward_direction": row["occto_forward_direction"],
            "notes": row["notes"],
        }
        for key in (
            "fwd_max_MW",
            "fwd_median_MW",
            "rev_max_MW",
            "rev_median_MW",
            "nominal_facility_MW",
        ):
            item[key.lower()] = int(row[key]) if row[key].strip() else None
        out.append(item)
    return tuple(out)


def cleared_through() -> datetime | None:
    """The latest interval a clearing run has started for (its snapshot is then frozen)."""
    return ClearingRun.objects.aggregate(latest=Max("interval_start"))["latest"]


def served_cu_intervals_before(start: datetime) -> dict[int, Decimal]:
    """CU-intervals already served per workload in firm intervals before `start`.

    A batch bid's remaining work shrinks as earlier runs serve it; the next snapshot must
    not offer the same work again.
    """
    rows = (
        Allocation.objects.filter(is_current=True, interval_start__lt=start)
        .values("workload_id")
        .annotate(total=Sum("cu"))
    )
    return {r["workload_id"]: r["total"] for r in rows}
