"""CSV exports of the market's portal tables: `<page>/export.csv` beside each page.

Each export reads through the page's own selector with the page's own query (`?day=`), so a
download holds exactly the rows the page shows an actor — an organisation's own rows, a
regulator's all — and never more. The file conventions are aggregator.platform.csv_export's.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _

from aggregator.platform.csv_export import csv_response
from aggregator.platform.portal import portal_view
from aggregator.platform.public_ids import WORKLOAD, format_public_id
from market import calendar, clearing_selectors
from market.models.dispatch import OrderDelivery
from market.portal_awards import awards_day
from operators.actors import Actor
from operators.models import GridArea

# The orders page lists the newest 200 order versions; so does its export.
ORDERS_SHOWN = 200


def _day(request) -> date:
    """The page's day: `?day=YYYY-MM-DD`, else today (JST), as the results page reads it."""
    return calendar.parse_day(request.GET.get("day", "")) or calendar.to_jst(timezone.now()).date()


def _day_bounds(day: date) -> tuple:
    start = calendar.slot_start(day, 1)
    return start, start + calendar.SLOTS_PER_DAY * calendar.INTERVAL


def _area_name(area: GridArea) -> str:
    return area.name_ja if (get_language() or "").startswith("ja") else area.name_en


@portal_view
def results_csv(request):
    """The results page's public table: per firm interval and area, prices and volumes."""
    day = _day(request)
    start, end = _day_bounds(day)
    areas = {a.code: a for a in GridArea.objects.all()}
    rows = sorted(
        clearing_selectors.public_results(start=start, end=end),
        key=lambda r: (r["interval_start"], r["area"]),
    )
    header = [
        _("Slot"),
        _("Interval start (JST)"),
        _("Grid area"),
        _("Area name"),
        _("Energy price (JPY/kWh)"),
        _("Compute price (JPY/CU-h)"),
        _("CU cleared"),
        _("CU-hours cleared"),
        _("kWh from energy offers"),
        _("kWh from the grid"),
    ]
    body = (
        [
            calendar.slot_of(r["interval_start"])[1],
            r["interval_start"],
            r["area"],
            _area_name(areas[r["area"]]) if r["area"] in areas else "",
            r["energy_jpy_per_kwh"],
            r["compute_jpy_per_cu_h"],
            r["cu_cleared"],
            r["cu_cleared"] * calendar.INTERVAL_MINUTES / 60,
            r["kwh_from_offers"],
            r["kwh_from_grid"],
        ]
        for r in rows
    )
    return csv_response(filename=f"wattbit-results-{day:%Y-%m-%d}.csv", header=header, rows=body)


def _allocation_rows(actor: Actor, day: date) -> Iterator[list[Any]]:
    start, end = _day_bounds(day)
    allocations = (
        clearing_selectors.allocation_list(actor=actor)
        .filter(interval_start__gte=start, interval_start__lt=end)
        .order_by("interval_start", "site__code")
    )
    sides = clearing_selectors.allocations_by_side(actor=actor, allocations=allocations)
    names = {"all": "", "placed": _("placed"), "hosted": _("hosted")}
    for side, rows in sides.items():
        for a in rows:
            yield [
                names[side],
                a.interval_start,
                format_public_id(WORKLOAD, a.workload_id),
                a.workload.organisation.slug,
                a.site.code,
                a.site.organisation.slug,
                a.cu,
                a.cu_h,
                a.compute_jpy_per_cu_h,
                a.all_in_jpy_per_cu_h,
                a.compute_value,
                a.all_in_value,
            ]


@portal_view
def allocations_csv(request):
    """The results page's allocation tables of the day: one's own workloads (`placed`) and
    others' at one's sites (`hosted`); a regulator's, everyone's."""
    day = _day(request)
    header = [
        _("Side"),
        _("Interval start (JST)"),
        _("Workload"),
        _("Owner"),
        _("Site"),
        _("Provider"),
        "CU",
        _("CU-hours"),
        _("Compute price (JPY/CU-h)"),
        _("All-in price (JPY/CU-h)"),
        _("Compute value (JPY)"),
        _("All-in value (JPY)"),
    ]
    return csv_response(
        filename=f"wattbit-allocations-{day:%Y-%m-%d}.csv",
        header=header,
        rows=_allocation_rows(request.actor, day),
    )


def _orders(actor: Actor) -> QuerySet:
    return (
        clearing_selectors.order_list(actor=actor)
        .prefetch_related(
            Prefetch("deliveries", queryset=OrderDelivery.objects.select_related("endpoint"))
        )
        .order_by("-interval_start", "kind", "-version")[:ORDERS_SHOWN]
    )


def _order_rows(orders: QuerySet) -> Iterator[list[Any]]:
    for o in orders:
        head = [
            o.public_id,
            o.organisation.slug,
            o.get_kind_display(),
            o.interval_start,
            o.site.code if o.site else "",
            o.area_id or "",
            o.version,
            o.is_current,
            o.get_ack_state_display(),
            o.ack_reason,
            " ".join(d.get_state_display() for d in o.deliveries.all()),
        ]
        # One row per line of the order (a workload or an energy offer), so that the
        # quantities and prices sum in a spreadsheet; an order with no line keeps one row.
        for line in o.lines or [{}]:
            yield [
                *head,
                line.get("workload", ""),
                line.get("owner", ""),
                line.get("site", ""),
                line.get("cu"),
                line.get("jpy_per_cu_h"),
                line.get("all_in_jpy_per_cu_h"),
                line.get("offer", ""),
                line.get("kwh"),
                line.get("jpy_per_kwh"),
            ]


@portal_view
def orders_csv(request):
    """The orders page's table: one's dispatch orders (a regulator's, all), one row per line."""
    header = [
        pgettext("dispatch", "Order"),
        _("Organisation"),
        _("Kind"),
        _("Interval start (JST)"),
        _("Site"),
        _("Grid area"),
        _("Version"),
        _("Current"),
        _("Acknowledgement"),
        _("Reason"),
        _("Push"),
        _("Workload"),
        _("Owner"),
        _("Line site"),
        "CU",
        _("Compute price (JPY/CU-h)"),
        _("All-in price (JPY/CU-h)"),
        _("Offer"),
        "kWh",
        _("Energy price (JPY/kWh)"),
    ]
    today = calendar.to_jst(timezone.now()).date()
    return csv_response(
        filename=f"wattbit-orders-{today:%Y-%m-%d}.csv",
        header=header,
        rows=_order_rows(_orders(request.actor)),
    )


@portal_view
def awards_csv(request):
    """The awards page's table: one day of one's energy awards (a regulator's, everyone's)."""
    qs = clearing_selectors.energy_award_list(actor=request.actor)
    day = awards_day(qs, request.GET.get("day", ""))
    start = calendar.slot_start(day, 1)
    awards = qs.filter(
        interval_start__gte=start, interval_start__lt=start + timedelta(days=1)
    ).order_by("interval_start", "offer_id")
    header = [
        _("Slot"),
        _("Interval start (JST)"),
        _("Organisation"),
        _("Offer"),
        _("Grid area"),
        "kWh",
        _("Price (JPY/kWh)"),
        _("Award value (JPY)"),
    ]
    body = (
        [
            calendar.slot_of(a.interval_start)[1],
            a.interval_start,
            a.offer.organisation.slug,
            a.offer.public_id,
            a.offer.area_id,
            a.kwh,
            a.jpy_per_kwh,
            a.kwh * a.jpy_per_kwh,
        ]
        for a in awards
    )
    return csv_response(filename=f"wattbit-awards-{day:%Y-%m-%d}.csv", header=header, rows=body)
