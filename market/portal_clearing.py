"""Portal pages of clearing outcomes: results (price heat map) and orders.

The clearing runs page and its replay belong to the exchange (aggregator/exchange/views.py)."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aggregator.platform.errors import Conflict, InvalidInput
from aggregator.platform.portal import heat_colour, portal_view
from market import calendar, clearing_selectors
from market.models.dispatch import OrderDelivery
from market.result_charts import results_charts
from market.services.dispatch import order_acknowledge as acknowledge
from operators.models import GridArea


def _day(request) -> date:
    return calendar.parse_day(request.GET.get("day", "")) or calendar.to_jst(timezone.now()).date()


@portal_view
def results(request):
    """Public per-interval energy prices and cleared CU by area for one JST day."""
    day = _day(request)
    start = calendar.slot_start(day, 1)
    end = start + 48 * calendar.INTERVAL
    rows = clearing_selectors.public_results(start=start, end=end)
    areas = list(GridArea.objects.all())
    by_key = {(r["interval_start"], r["area"]): r for r in rows}
    prices = [float(r["energy_jpy_per_kwh"]) for r in rows]
    low, high = (min(prices), max(prices)) if prices else (0.0, 0.0)
    slots = []
    for i in range(48):
        at = start + i * calendar.INTERVAL
        cells = []
        for area in areas:
            r = by_key.get((at, area.code))
            value = float(r["energy_jpy_per_kwh"]) if r else None
            cells.append({"row": r, "colour": heat_colour(value, low, high)})
        slots.append({"at": at, "slot": i + 1, "cells": cells})
    allocations = (
        clearing_selectors.allocation_list(actor=request.actor)
        .filter(interval_start__gte=start, interval_start__lt=end)
        .order_by("interval_start", "site__code")
    )
    context = {
        "day": day,
        "previous": day - timedelta(days=1),
        "next": day + timedelta(days=1),
        "areas": areas,
        "slots": slots,
        "has_results": bool(rows),
        "charts": results_charts(start=start, rows=rows, areas=areas),
        "low": low,
        "high": high,
        "allocations": clearing_selectors.allocations_by_side(
            actor=request.actor, allocations=allocations
        ),
    }
    return render(request, "market/results.html", context)


@portal_view
def orders(request):
    """Own dispatch orders with acknowledgement buttons and push state."""
    qs = (
        clearing_selectors.order_list(actor=request.actor)
        .prefetch_related(
            Prefetch("deliveries", queryset=OrderDelivery.objects.select_related("endpoint"))
        )
        .order_by("-interval_start", "kind", "-version")[:200]
    )
    return render(request, "market/orders.html", {"orders": qs})


@require_POST
@portal_view
def order_acknowledge(request, pk: int):
    order = get_object_or_404(clearing_selectors.order_list(actor=request.actor), pk=pk)
    decision = request.POST.get("decision")
    try:
        acknowledge(
            actor=request.actor,
            order=order,
            accept=decision == "accept",
            reason=request.POST.get("reason", ""),
        )
    except (InvalidInput, Conflict) as exc:
        messages.error(
            request, "; ".join(m for ms in exc.errors.values() for m in ms) or exc.detail
        )
    else:
        messages.success(request, _("Order %(id)s acknowledged.") % {"id": order.public_id})
    return redirect("market:orders")
