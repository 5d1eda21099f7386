"""Carbon-aware windows from the market's public signals, in the Carbon Aware SDK's terms.

A data point is one 30-minute interval of an area. Its rating (gCO2/kWh) is what one more
kWh drawn there emits:
- 0 where the area forecasts curtailment in that interval: the extra load takes renewable
  energy that would otherwise be curtailed;
- otherwise the area's carbon intensity: a published carbon signal, else its annual factor
  (`selectors.carbon_series`).

A window of `window_intervals` consecutive points is rated by their mean. The optimal
windows are those with the least mean rating. Among them the cheapest by mean JEPX price
(area, else system price) comes first, then the earliest. Everything here is public market
information: no bid, sealed or cleared, enters it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Max

from market import calendar
from market.choices import SignalKind
from market.models import Signal
from market.selectors import carbon_series, latest_signals

RATING_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class DataPoint:
    location: str  # the name the client asked for
    area: str
    start: datetime
    minutes: int
    rating: Decimal
    price: Decimal | None  # mean JEPX price over the window, for ordering equal ratings


@dataclass(frozen=True)
class Forecast:
    location: str
    area: str
    generated_at: datetime
    data_start_at: datetime
    data_end_at: datetime
    window_minutes: int
    points: list[DataPoint]  # every window inside the range, in time order
    optimal: list[DataPoint]  # the least rated, cheapest first


def _interval_values(area: str, start: datetime, count: int):
    """(ratings, prices) per interval from `start`; None where the data is missing."""
    end = start + count * calendar.INTERVAL
    carbon = carbon_series(area=area, start=start, count=count)
    curtailment = latest_signals(kind=SignalKind.CURTAILMENT_MW, start=start, end=end)
    prices = latest_signals(kind=SignalKind.AREA_PRICE, start=start, end=end)
    system = latest_signals(kind=SignalKind.SYSTEM_PRICE, start=start, end=end)
    ratings: list[Decimal | None] = []
    costs: list[Decimal | None] = []
    for i, at in enumerate(calendar.interval_starts(start, count)):
        curtailed = curtailment.get((area, at))
        ratings.append(Decimal(0) if curtailed and curtailed > 0 else carbon[i])
        costs.append(prices.get((area, at), system.get((None, at))))
    return ratings, costs


def _mean(values: list[Decimal]) -> Decimal:
    return (sum(values) / len(values)).quantize(RATING_PLACES)


def windows(
    *, location: str, area: str, start: datetime, count: int, window_intervals: int
) -> list[DataPoint]:
    """Every window of `window_intervals` points that fits in the `count` intervals from
    `start` and has a rating for each of them, in time order."""
    ratings, costs = _interval_values(area, start, count)
    out = []
    for i in range(count - window_intervals + 1):
        chunk = ratings[i : i + window_intervals]
        if any(r is None for r in chunk):
            continue
        prices = costs[i : i + window_intervals]
        out.append(
            DataPoint(
                location=location,
                area=area,
                start=start + i * calendar.INTERVAL,
                minutes=window_intervals * 30,
                rating=_mean(chunk),
                price=None if any(p is None for p in prices) else _mean(prices),
            )
        )
    return out


def optimal(points: list[DataPoint]) -> list[DataPoint]:
    """The least rated points, cheapest first (a point without a price last), then earliest."""
    if not points:
        return []
    least = min(p.rating for p in points)
    best = [p for p in points if p.rating == least]
    return sorted(best, key=lambda p: (p.price is None, p.price or 0, p.start, p.location))


def generated_at(area: str, now: datetime) -> datetime:
    """When the newest carbon or curtailment signal of the area was published; `now` where
    the forecast rests on annual factors only (it is made at request time)."""
    latest = Signal.objects.filter(
        area_id=area, kind__in=[SignalKind.CARBON, SignalKind.CURTAILMENT_MW]
    ).aggregate(latest=Max("published_at"))["latest"]
    return latest or now


def forecast(
    *,
    location: str,
    area: str,
    start: datetime,
    count: int,
    window_intervals: int,
    now: datetime,
) -> Forecast:
    points = windows(
        location=location, area=area, start=start, count=count, window_intervals=window_intervals
    )
    return Forecast(
        location=location,
        area=area,
        generated_at=generated_at(area, now),
        data_start_at=start,
        data_end_at=start + count * calendar.INTERVAL,
        window_minutes=window_intervals * 30,
        points=points,
        optimal=optimal(points),
    )
