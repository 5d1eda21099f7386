"""Portal page of a power supplier's energy awards: what each offer sold, at what price.

Awards exist for firm intervals only; the money follows in settlement, on metered delivery
(the statements page), so the page calls the award's value what it is, not revenue paid.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.db.models import QuerySet
from django.shortcuts import render
from django.utils import timezone

from aggregator.platform.portal import portal_view
from market import calendar, clearing_selectors
from market.models.clearing import EnergyAward

ZERO = Decimal(0)


def awards_day(qs: QuerySet[EnergyAward], text: str) -> date:
    """The page's day (its CSV's too): `?day=`, else the last day with awards, else today."""
    day = calendar.parse_day(text)
    if day is None:
        latest = qs.order_by("-interval_start").values_list("interval_start", flat=True).first()
        day = calendar.to_jst(latest or timezone.now()).date()
    return day


@portal_view
def awards(request):
    """One JST day of one's energy awards (regulators: everyone's), with the day's totals.

    Without `?day=` the page opens on the last day that has awards, so a supplier lands on
    its latest sales rather than on an empty today.
    """
    qs = clearing_selectors.energy_award_list(actor=request.actor)
    day = awards_day(qs, request.GET.get("day", ""))
    start = calendar.slot_start(day, 1)
    rows = []
    kwh = value = ZERO
    for award in qs.filter(interval_start__gte=start, interval_start__lt=start + timedelta(days=1)):
        award_value = award.kwh * award.jpy_per_kwh
        rows.append(
            {
                "award": award,
                "slot": calendar.slot_of(award.interval_start)[1],
                "value": award_value,
            }
        )
        kwh += award.kwh
        value += award_value
    context = {
        "day": day,
        "previous": day - timedelta(days=1),
        "next": day + timedelta(days=1),
        "rows": rows,
        "total_kwh": kwh,
        "total_value": value,
        "mean_price": value / kwh if kwh else None,
    }
    return render(request, "market/awards.html", context)
