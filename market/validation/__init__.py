"""Checks of bid input: per-field messages, nothing written; shared by single and bulk submission."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from market import calendar
from market.choices import BidType
from market.validation.context import BidContext, SiteInfo
from market.validation.fields import (
    MAX_CU,
    MAX_KWH,
    Checker,
    Errors,
    each,
    interval_window,
    plain,
    price_text,
    scalar,
    series,
)
from market.validation.workload import clean_workload

__all__ = ["BidContext", "Errors", "SiteInfo", "clean_bid"]


COMMON_FIELDS = ("start", "intervals")
TYPE_FIELDS = {
    BidType.CAPACITY: ("site", "cu", "price"),
    BidType.ENERGY: ("area", "kwh", "price", "carbon_g_per_kwh", "curtailment_relief"),
    BidType.WORKLOAD: (
        "kind", "accelerator", "residency_tags", "limit_price", "zone", "max_latency_ms",
        "demand", "remaining_cu_intervals", "max_cu", "gang", "no_migration",
        "migration_cost", "home_site", "allowed_areas",
    ),
}  # fmt: skip


def clean_bid(
    bid_type: str, data: dict[str, Any], ctx: BidContext
) -> tuple[dict[str, Any], Errors]:
    """Model field values for a bid of `bid_type`, or per-field errors (then the dict is partial)."""
    c = Checker()
    known = set(COMMON_FIELDS) | set(TYPE_FIELDS[bid_type])
    for name in sorted(set(data) - known - {"type"}):
        c.err(name, _("Unknown field."))
    window = interval_window(c, data, ctx)
    n = window[1] if window else None
    fields: dict[str, Any] = {}
    if window:
        start, count = window
        fields.update(
            start=start,
            end=start + count * calendar.INTERVAL,
            interval_count=count,
            gate_closure=calendar.gate_closure(start, ctx.params.gate_closure_lead_minutes),
        )
    if bid_type == BidType.CAPACITY:
        _clean_capacity(c, data, ctx, n, fields)
    elif bid_type == BidType.ENERGY:
        _clean_energy(c, data, ctx, n, fields)
    else:
        clean_workload(c, data, ctx, n, fields)
    return fields, c.errors


def _clean_capacity(c: Checker, data: dict, ctx: BidContext, n: int | None, fields: dict) -> None:
    code = data.get("site")
    site = ctx.sites.get(str(code)) if code else None
    if not code:
        c.err("site", _("This field is required."))
    elif site is None:
        c.err("site", _("Unknown or inactive site '%(code)s'.") % {"code": code})
    elif site.organisation_id != ctx.organisation_id:
        c.err(
            "site",
            _("Site '%(code)s' is not yours; offer capacity only at your own sites.")
            % {"code": code},
        )
        site = None
    cu = series(c, "cu", data.get("cu"), n, minimum=Decimal(0), maximum=MAX_CU, max_unit="CU")
    if cu is not None and site is not None and max(cu) > site.capacity_cu:
        c.err("cu", _("More than the site's capacity of %(cap)d CU.") % {"cap": site.capacity_cu})
    p = ctx.params
    price = series(
        c,
        "price",
        data.get("price"),
        n,
        minimum=p.capacity_price_min,
        maximum=p.capacity_price_max,
        unit="JPY/CU-h",
    )
    if site is not None:
        fields["site_id"] = site.pk
    if cu is not None and price is not None:
        fields.update(cu=each(plain, cu), price=each(price_text, price))


def _clean_energy(c: Checker, data: dict, ctx: BidContext, n: int | None, fields: dict) -> None:
    area = data.get("area")
    if not area:
        c.err("area", _("This field is required."))
    elif not isinstance(area, str) or area not in ctx.areas:
        c.err("area", _("Unknown grid area '%(area)s'.") % {"area": area})
    else:
        fields["area_id"] = area
    kwh = series(c, "kwh", data.get("kwh"), n, minimum=Decimal(0), maximum=MAX_KWH, max_unit="kWh")
    p = ctx.params
    price = series(
        c,
        "price",
        data.get("price"),
        n,
        minimum=p.energy_price_min,
        maximum=p.energy_price_max,
        unit="JPY/kWh",
    )
    carbon = scalar(c, "carbon_g_per_kwh", data.get("carbon_g_per_kwh"), minimum=Decimal(0))
    if carbon is not None and carbon > 2000:
        c.err("carbon_g_per_kwh", _("Above 2,000 gCO2/kWh is not plausible; check the unit."))
    relief = data.get("curtailment_relief", False)
    if not isinstance(relief, bool):
        c.err("curtailment_relief", _("Must be true or false."))
    if kwh is not None and price is not None:
        fields.update(kwh=each(plain, kwh), price=each(price_text, price))
    fields.update(carbon_g_per_kwh=carbon, curtailment_relief=bool(relief))
