"""Checks of workload bids, including whether any registered site could ever host one."""

from __future__ import annotations

import math
from decimal import Decimal

from django.utils.translation import gettext as _

from market.choices import WorkloadKind
from market.validation.context import BidContext
from market.validation.fields import (
    MAX_CU,
    MAX_CU_INTERVALS,
    Checker,
    each,
    plain,
    scalar,
    series,
    tags,
)
from operators.choices import Accelerator, ResidencyTag

BATCH_ONLY = ("remaining_cu_intervals", "gang", "no_migration", "migration_cost", "home_site")


def clean_workload(c: Checker, data: dict, ctx: BidContext, n: int | None, fields: dict) -> None:
    """A workload bid's fields: what every workload gives, then its kind's own, then whether
    any active site could host it at all."""
    p = ctx.params
    kind = data.get("kind")
    if kind not in WorkloadKind.values:
        c.err("kind", _("Choose one of: %(kinds)s.") % {"kinds": ", ".join(WorkloadKind.values)})
        kind = None
    accelerator = data.get("accelerator")
    if accelerator not in Accelerator.values:
        c.err("accelerator", _("Unknown accelerator class '%(a)s'.") % {"a": accelerator})
        accelerator = None
    residency = tags(
        c,
        "residency_tags",
        data.get("residency_tags"),
        set(ResidencyTag.values),
        _("residency tags"),
    )
    areas = tags(c, "allowed_areas", data.get("allowed_areas"), ctx.areas, _("grid areas"))
    limit = scalar(
        c,
        "limit_price",
        data.get("limit_price"),
        minimum=p.limit_price_min,
        maximum=p.limit_price_max,
        unit="JPY/CU-h",
    )
    zone = data.get("zone") or None
    if zone is not None and (not isinstance(zone, str) or zone not in ctx.zones):
        c.err("zone", _("Unknown demand zone '%(z)s'.") % {"z": zone})
        zone = None
    latency = data.get("max_latency_ms")
    if latency is not None:
        if isinstance(latency, bool) or not isinstance(latency, int) or not 0 <= latency <= 1000:
            c.err("max_latency_ms", _("Milliseconds as a whole number, 0–1000."))
            latency = None
        elif not data.get("zone"):
            c.err("zone", _("Name the demand zone the latency limit refers to."))
    max_cu = scalar(
        c, "max_cu", data.get("max_cu"), strict_positive=True, required=kind == WorkloadKind.BATCH,
        maximum=MAX_CU, max_unit="CU",
    )  # fmt: skip
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
        _clean_inference(c, data, n, fields)
    elif kind == WorkloadKind.BATCH:
        _clean_batch(c, data, ctx, fields, max_cu)
    if accelerator and not c.errors:
        _check_hostable(c, ctx, accelerator, residency, areas, zone, latency)


def _clean_inference(c: Checker, data: dict, n: int | None, fields: dict) -> None:
    """Inference: a CU demand per interval; nothing of batch work."""
    for name in BATCH_ONLY:
        if data.get(name) not in (None, False, 0, "0", ""):
            c.err(name, _("Only for batch workloads."))
    demand = series(
        c, "demand", data.get("demand"), n, minimum=Decimal(0), maximum=MAX_CU, max_unit="CU"
    )
    if demand is not None:
        fields["demand"] = each(plain, demand)
    fields.update(
        remaining_cu_intervals=None,
        gang=None,
        no_migration=False,
        migration_cost=Decimal(0),
        home_site_id=None,
    )


def _clean_batch(
    c: Checker, data: dict, ctx: BidContext, fields: dict, max_cu: Decimal | None
) -> None:
    """Batch: remaining work, an optional gang size, migration terms and a home site."""
    p = ctx.params
    if data.get("demand") is not None:
        c.err(
            "demand",
            _("Only for inference workloads; batch work gives remaining_cu_intervals."),
        )
    fields["demand"] = None
    fields["remaining_cu_intervals"] = scalar(
        c, "remaining_cu_intervals", data.get("remaining_cu_intervals"), strict_positive=True,
        maximum=MAX_CU_INTERVALS, max_unit="CU-intervals",
    )  # fmt: skip
    gang = data.get("gang")
    if gang is not None and (isinstance(gang, bool) or not isinstance(gang, int) or gang < 1):
        c.err("gang", _("A whole number of CU, at least 1."))
        gang = None
    elif gang is not None and max_cu is not None and gang > max_cu:
        c.err("gang", _("Larger than max_cu: no allocation could ever be made."))
    fields["gang"] = gang
    fields["migration_cost"] = scalar(
        c, "migration_cost", data.get("migration_cost", 0), minimum=Decimal(0),
        maximum=p.limit_price_max, max_unit="JPY per CU",
    ) or Decimal(0)  # fmt: skip
    no_migration = data.get("no_migration", False)
    if not isinstance(no_migration, bool):
        c.err("no_migration", _("Must be true or false."))
    fields["no_migration"] = bool(no_migration)
    home = data.get("home_site") or None
    fields["home_site_id"] = None
    if home is not None:
        if not isinstance(home, str) or home not in ctx.sites:
            c.err("home_site", _("Unknown or inactive site '%(code)s'.") % {"code": home})
        else:
            fields["home_site_id"] = ctx.sites[home].pk


def _check_hostable(
    c: Checker,
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
