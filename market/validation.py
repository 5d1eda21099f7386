"""Checks of bid input: per-field messages, nothing written; shared by single and bulk submission."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from market import calendar
from market.choices import BidType, WorkloadKind
from market.models import MarketParameters
from operators.choices import Accelerator, ResidencyTag
from operators.models import DemandZone, GridArea, Site

Errors = dict[str, list[str]]

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
BATCH_ONLY = ("remaining_cu_intervals", "gang", "no_migration", "migration_cost", "home_site")


@dataclass(frozen=True)
class SiteInfo:
    pk: int
    code: str
    organisation_id: int
    area: str
    accelerator: str
    capacity_cu: int
    residency: frozenset[str]
    latency_ms: dict[str, int]


@dataclass
class BidContext:
    """What validation needs from the database, loaded once (a bulk of 10,000 bids shares it)."""

    now: datetime
    params: MarketParameters
    organisation_id: int
    sites: dict[str, SiteInfo] = field(default_factory=dict)
    areas: frozenset[str] = frozenset()
    zones: frozenset[str] = frozenset()

    @classmethod
    def load(cls, *, organisation_id: int, now: datetime) -> BidContext:
        sites = {
            s.code: SiteInfo(
                pk=s.pk,
                code=s.code,
                organisation_id=s.organisation_id,
                area=s.area_id,
                accelerator=s.accelerator,
                capacity_cu=s.capacity_cu,
                residency=frozenset(s.residency_tags or ()),
                latency_ms=dict(s.latency_ms or {}),
            )
            for s in Site.objects.filter(is_active=True)
        }
        return cls(
            now=now,
            params=MarketParameters.current(),
            organisation_id=organisation_id,
            sites=sites,
            areas=frozenset(GridArea.objects.values_list("code", flat=True)),
            zones=frozenset(DemandZone.objects.values_list("code", flat=True)),
        )


class _Checker:
    def __init__(self) -> None:
        self.errors: Errors = {}

    def err(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _plain(number: Decimal) -> int | float:
    """A JSON number for a quantity: whole numbers stay integers."""
    return int(number) if number == number.to_integral_value() else float(number)


def _show(number: Decimal) -> str:
    return f"{number.normalize():f}"


def _price_text(number: Decimal) -> str:
    return str(number.quantize(Decimal("0.0001")))


def _series(
    c: _Checker,
    name: str,
    value: Any,
    n: int | None,
    *,
    minimum: Decimal | None = None,
    maximum: Decimal | None = None,
    unit: str = "",
) -> list[Decimal] | None:
    """A per-interval profile: a list of n numbers, or one number meaning 'every interval'."""
    if value is None:
        c.err(name, _("This field is required."))
        return None
    if isinstance(value, list):
        if n is not None and len(value) != n:
            c.err(
                name,
                _("Give %(n)d values, one per interval (got %(got)d).")
                % {"n": n, "got": len(value)},
            )
            return None
        values = value
    else:
        values = [value] * (n or 1)
    out: list[Decimal] = []
    for i, item in enumerate(values):
        number = _number(item)
        if number is None:
            c.err(name, _("Interval %(i)d: %(v)r is not a number.") % {"i": i, "v": item})
            return None
        if minimum is not None and number < minimum:
            if not unit:
                c.err(
                    name,
                    _("Quantities cannot be negative (interval %(i)d: %(v)s).")
                    % {"i": i, "v": number},
                )
            else:
                c.err(
                    name,
                    _("Interval %(i)d: %(v)s is below the market minimum of %(min)s %(unit)s.")
                    % {"i": i, "v": number, "min": _show(minimum), "unit": unit},
                )
            return None
        if maximum is not None and number > maximum:
            c.err(
                name,
                _("Interval %(i)d: %(v)s is above the market maximum of %(max)s %(unit)s.")
                % {"i": i, "v": number, "max": _show(maximum), "unit": unit},
            )
            return None
        out.append(number)
    return out


def _scalar(
    c: _Checker,
    name: str,
    value: Any,
    *,
    minimum=None,
    maximum=None,
    unit="",
    strict_positive=False,
    required=True,
) -> Decimal | None:
    if value is None or value == "":
        if required:
            c.err(name, _("This field is required."))
        return None
    number = _number(value)
    if number is None:
        c.err(name, _("%(v)r is not a number.") % {"v": value})
    elif strict_positive and number <= 0:
        c.err(name, _("Must be greater than 0."))
    elif minimum is not None and number < minimum:
        if not unit:
            c.err(name, _("Cannot be negative."))
        else:
            c.err(
                name,
                _("Below the market minimum of %(min)s %(unit)s.")
                % {"min": _show(minimum), "unit": unit},
            )
    elif maximum is not None and number > maximum:
        c.err(
            name,
            _("Above the market maximum of %(max)s %(unit)s.")
            % {"max": _show(maximum), "unit": unit},
        )
    else:
        return number
    return None


def _window(c: _Checker, data: dict, ctx: BidContext) -> tuple[datetime, int] | None:
    raw = data.get("start")
    start = raw if isinstance(raw, datetime) else parse_datetime(str(raw)) if raw else None
    count = data.get("intervals")
    lead = ctx.params.gate_closure_lead_minutes
    if raw in (None, ""):
        c.err("start", _("This field is required."))
    elif start is None or start.tzinfo is None:
        c.err("start", _("Give an ISO 8601 time with a timezone, e.g. 2026-04-01T09:00:00+09:00."))
        start = None
    elif not calendar.is_aligned(start):
        c.err("start", _("Intervals start on the hour or half hour (JEPX slots)."))
        start = None
    else:
        start = calendar.as_utc(start)
        closure = calendar.gate_closure(start, lead)
        if ctx.now >= closure:
            opens = calendar.first_open_interval(ctx.now, lead)
            c.err(
                "start",
                _(
                    "The interval starting %(start)s JST is past its gate closure (%(gc)s JST); "
                    "the earliest open interval starts %(open)s JST."
                )
                % {
                    "start": f"{calendar.to_jst(start):%Y-%m-%d %H:%M}",
                    "gc": f"{calendar.to_jst(closure):%Y-%m-%d %H:%M:%S}",
                    "open": f"{calendar.to_jst(opens):%Y-%m-%d %H:%M}",
                },
            )
            start = None
        elif start > ctx.now + timedelta(days=ctx.params.max_days_ahead):
            c.err(
                "start",
                _("Bids reach at most %(d)d days ahead.") % {"d": ctx.params.max_days_ahead},
            )
            start = None
    if isinstance(count, bool) or not isinstance(count, int):
        c.err("intervals", _("Give the number of 30-minute intervals as a whole number."))
        count = None
    elif not 1 <= count <= ctx.params.max_bid_intervals:
        c.err(
            "intervals",
            _("Between 1 and %(max)d intervals.") % {"max": ctx.params.max_bid_intervals},
        )
        count = None
    if start is None or count is None:
        return None
    return start, count


def clean_bid(
    bid_type: str, data: dict[str, Any], ctx: BidContext
) -> tuple[dict[str, Any], Errors]:
    """Model field values for a bid of `bid_type`, or per-field errors (then the dict is partial)."""
    c = _Checker()
    known = set(COMMON_FIELDS) | set(TYPE_FIELDS[bid_type])
    for name in sorted(set(data) - known - {"type"}):
        c.err(name, _("Unknown field."))
    window = _window(c, data, ctx)
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
        _clean_workload(c, data, ctx, n, fields)
    return fields, c.errors


def _clean_capacity(c: _Checker, data: dict, ctx: BidContext, n: int | None, fields: dict) -> None:
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
    cu = _series(c, "cu", data.get("cu"), n, minimum=Decimal(0))
    if cu is not None and site is not None and max(cu) > site.capacity_cu:
        c.err("cu", _("More than the site's capacity of %(cap)d CU.") % {"cap": site.capacity_cu})
    p = ctx.params
    price = _series(
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
        fields.update(cu=[_plain(v) for v in cu], price=[_price_text(v) for v in price])


def _clean_energy(c: _Checker, data: dict, ctx: BidContext, n: int | None, fields: dict) -> None:
    area = data.get("area")
    if not area:
        c.err("area", _("This field is required."))
    elif area not in ctx.areas:
        c.err("area", _("Unknown grid area '%(area)s'.") % {"area": area})
    else:
        fields["area_id"] = area
    kwh = _series(c, "kwh", data.get("kwh"), n, minimum=Decimal(0))
    p = ctx.params
    price = _series(
        c,
        "price",
        data.get("price"),
        n,
        minimum=p.energy_price_min,
        maximum=p.energy_price_max,
        unit="JPY/kWh",
    )
    carbon = _scalar(c, "carbon_g_per_kwh", data.get("carbon_g_per_kwh"), minimum=Decimal(0))
    if carbon is not None and carbon > 2000:
        c.err("carbon_g_per_kwh", _("Above 2,000 gCO2/kWh is not plausible; check the unit."))
    relief = data.get("curtailment_relief", False)
    if not isinstance(relief, bool):
        c.err("curtailment_relief", _("Must be true or false."))
    if kwh is not None and price is not None:
        fields.update(kwh=[_plain(v) for v in kwh], price=[_price_text(v) for v in price])
    fields.update(carbon_g_per_kwh=carbon, curtailment_relief=bool(relief))


def _tags(
    c: _Checker, name: str, value: Any, allowed: frozenset[str] | set[str], what: str
) -> list[str]:
    if value in (None, ""):
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        c.err(name, _("Give a list of %(what)s.") % {"what": what})
        return []
    if unknown := sorted(set(value) - set(allowed)):
        c.err(name, _("Unknown %(what)s: %(names)s.") % {"what": what, "names": ", ".join(unknown)})
        return []
    return sorted(set(value))


def _clean_workload(c: _Checker, data: dict, ctx: BidContext, n: int | None, fields: dict) -> None:
    p = ctx.params
    kind = data.get("kind")
    if kind not in WorkloadKind.values:
        c.err("kind", _("Choose one of: %(kinds)s.") % {"kinds": ", ".join(WorkloadKind.values)})
        kind = None
    accelerator = data.get("accelerator")
    if accelerator not in Accelerator.values:
        c.err("accelerator", _("Unknown accelerator class '%(a)s'.") % {"a": accelerator})
        accelerator = None
    residency = _tags(
        c,
        "residency_tags",
        data.get("residency_tags"),
        set(ResidencyTag.values),
        _("residency tags"),
    )
    areas = _tags(c, "allowed_areas", data.get("allowed_areas"), ctx.areas, _("grid areas"))
    limit = _scalar(
        c,
        "limit_price",
        data.get("limit_price"),
        minimum=p.limit_price_min,
        maximum=p.limit_price_max,
        unit="JPY/CU-h",
    )
    zone = data.get("zone") or None
    if zone is not None and zone not in ctx.zones:
        c.err("zone", _("Unknown demand zone '%(z)s'.") % {"z": zone})
        zone = None
    latency = data.get("max_latency_ms")
    if latency is not None:
        if isinstance(latency, bool) or not isinstance(latency, int) or not 0 <= latency <= 1000:
            c.err("max_latency_ms", _("Milliseconds as a whole number, 0–1000."))
            latency = None
        elif not data.get("zone"):
            c.err("zone", _("Name the demand zone the latency limit refers to."))
    max_cu = _scalar(
        c, "max_cu", data.get("max_cu"), strict_positive=True, required=kind == WorkloadKind.BATCH
    )
    fields.update(
        kind=kind,
        accelerator=accelerator,
        residency_tags=residency,
        allowed_areas=areas,
        allowed_areas_text="".join(f",{a}" for a in areas) + ("," if areas else ""),
        limit_price=limit,
        zone_id=zone,
        max_latency_ms=latency,
        max_cu=max_cu,
    )
    if kind == WorkloadKind.INFERENCE:
        for name in BATCH_ONLY:
            if data.get(name) not in (None, False, 0, "0", ""):
                c.err(name, _("Only for batch workloads."))
        demand = _series(c, "demand", data.get("demand"), n, minimum=Decimal(0))
        if demand is not None:
            fields["demand"] = [_plain(v) for v in demand]
        fields.update(
            remaining_cu_intervals=None,
            gang=None,
            no_migration=False,
            migration_cost=Decimal(0),
            home_site_id=None,
        )
    elif kind == WorkloadKind.BATCH:
        if data.get("demand") is not None:
            c.err(
                "demand",
                _("Only for inference workloads; batch work gives remaining_cu_intervals."),
            )
        fields["demand"] = None
        fields["remaining_cu_intervals"] = _scalar(
            c, "remaining_cu_intervals", data.get("remaining_cu_intervals"), strict_positive=True
        )
        gang = data.get("gang")
        if gang is not None and (isinstance(gang, bool) or not isinstance(gang, int) or gang < 1):
            c.err("gang", _("A whole number of CU, at least 1."))
            gang = None
        elif gang is not None and max_cu is not None and gang > max_cu:
            c.err("gang", _("Larger than max_cu: no allocation could ever be made."))
        fields["gang"] = gang
        fields["migration_cost"] = _scalar(
            c, "migration_cost", data.get("migration_cost", 0), minimum=Decimal(0)
        ) or Decimal(0)
        no_migration = data.get("no_migration", False)
        if not isinstance(no_migration, bool):
            c.err("no_migration", _("Must be true or false."))
        fields["no_migration"] = bool(no_migration)
        home = data.get("home_site") or None
        fields["home_site_id"] = None
        if home is not None:
            if home not in ctx.sites:
                c.err("home_site", _("Unknown or inactive site '%(code)s'.") % {"code": home})
            else:
                fields["home_site_id"] = ctx.sites[home].pk
    if accelerator and not c.errors:
        _check_hostable(c, ctx, accelerator, residency, areas, zone, latency)


def _check_hostable(
    c: _Checker,
    ctx: BidContext,
    accelerator: str,
    residency: list[str],
    areas: list[str],
    zone: str | None,
    latency: int | None,
) -> None:
    """Refuse a workload that no registered site could ever host; name the first blocking rule."""
    sites = [s for s in ctx.sites.values() if s.accelerator == accelerator]
    if not sites:
        c.err(
            "accelerator", _("No registered site offers '%(a)s' accelerators.") % {"a": accelerator}
        )
        return
    sites = [s for s in sites if set(residency) <= s.residency]
    if not sites:
        c.err(
            "residency_tags",
            _("No '%(a)s' site meets residency %(r)s.")
            % {"a": accelerator, "r": ", ".join(residency)},
        )
        return
    if areas:
        sites = [s for s in sites if s.area in areas]
        if not sites:
            c.err(
                "allowed_areas",
                _("No suitable site in the allowed areas %(x)s.") % {"x": ", ".join(areas)},
            )
            return
    if zone and latency is not None:
        sites = [s for s in sites if s.latency_ms.get(zone, math.inf) <= latency]
        if not sites:
            c.err(
                "max_latency_ms",
                _("No suitable site is within %(ms)d ms of '%(z)s'.") % {"ms": latency, "z": zone},
            )
