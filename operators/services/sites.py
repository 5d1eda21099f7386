"""Registering and editing compute providers' sites, with their validation rules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aggregator.platform.access import Scope
from aggregator.platform.errors import Forbidden, InvalidInput, NotFound
from aggregator.platform.numbers import to_decimal
from operators.actors import Actor
from operators.choices import (
    PREFECTURES,
    Accelerator,
    OperatorsAudit,
    OrganisationRole,
    ResidencyTag,
)
from operators.models import (
    DemandZone,
    GridArea,
    Site,
)
from operators.services.common import record_change, require_scope

# --- Sites -------------------------------------------------------------------------------

# Rules other apps attach to a site's capacity: the market's "live offers must still fit".
# Apps depend on operators, never the reverse, so operators only calls what was registered
# (each app registers when it loads). A guard gets the locked site, the new capacity and
# the time, and returns error messages for `capacity_cu`.
CapacityGuard = Callable[[Site, int, datetime], list[str]]
_capacity_guards: list[CapacityGuard] = []


def site_capacity_guard(guard: CapacityGuard) -> CapacityGuard:
    """Register `guard` (a decorator); every capacity change must pass every guard."""
    if guard not in _capacity_guards:
        _capacity_guards.append(guard)
    return guard


SITE_FIELDS = (
    "code",
    "name",
    "area",
    "prefecture",
    "accelerator",
    "capacity_cu",
    "cu_description",
    "kw_per_cu",
    "pue",
    "residency_tags",
    "latency_ms",
    "grid_connection_cap_kw",
    "is_active",
)


_decimal = to_decimal


def _clean_site(data: dict[str, Any], errors: dict[str, list[str]]) -> dict[str, Any]:
    clean: dict[str, Any] = {}

    def err(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    for field, value in data.items():
        if field not in SITE_FIELDS:
            err(field, _("Unknown field."))
        elif field in ("code", "name") and not str(value or "").strip():
            err(field, _("This field may not be blank."))
        elif field == "area":
            area = (
                value if isinstance(value, GridArea) else GridArea.objects.filter(pk=value).first()
            )
            if area is None:
                err(field, _("Unknown grid area '%(area)s'.") % {"area": value})
            clean[field] = area
            continue
        elif field == "prefecture" and value not in PREFECTURES:
            err(
                field,
                _("Unknown prefecture '%(value)s'; use the romanised name, e.g. 'chiba'.")
                % {"value": value},
            )
        elif field == "accelerator" and value not in Accelerator.values:
            err(field, _("Unknown accelerator class '%(value)s'.") % {"value": value})
        elif field == "capacity_cu" and (not isinstance(value, int) or value < 1):
            err(field, _("Capacity must be a whole number of compute units, at least 1."))
        elif field == "kw_per_cu":
            number = _decimal(value)
            if number is None or number <= 0:
                err(field, _("kW per compute unit must be greater than 0."))
            elif number > 100:
                err(field, _("kW per compute unit above 100 is not plausible; check the unit."))
            clean[field] = number
            continue
        elif field == "pue":
            number = _decimal(value)
            if number is None or number < 1:
                err(field, _("PUE must be at least 1.0 (facility energy ≥ IT energy)."))
            elif number > 3:
                err(field, _("PUE above 3.0 is not plausible; check the value."))
            clean[field] = number
            continue
        elif field == "grid_connection_cap_kw" and value is not None:
            number = _decimal(value)
            if number is None or number <= 0:
                err(field, _("The grid-connection cap must be greater than 0 kW, or empty."))
            clean[field] = number
            continue
        elif field == "residency_tags":
            if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
                err(field, _("Give a list of tags."))
            elif unknown := sorted(set(value) - set(ResidencyTag.values)):
                err(field, _("Unknown residency tag(s): %(tags)s.") % {"tags": ", ".join(unknown)})
            else:
                value = sorted(set(value))
        elif field == "latency_ms":
            value = _clean_latency(value, err)
        clean[field] = value
    return clean


def _clean_latency(value: Any, err) -> dict[str, int]:
    if not isinstance(value, dict):
        err("latency_ms", _("Give latencies as {zone: milliseconds}."))
        return {}
    known = set(DemandZone.objects.values_list("code", flat=True))
    clean: dict[str, int] = {}
    for zone, ms in sorted(value.items()):
        if zone not in known:
            err(
                "latency_ms",
                _("Unknown demand zone '%(zone)s'. Known: %(known)s.")
                % {"zone": zone, "known": ", ".join(sorted(known))},
            )
        elif isinstance(ms, bool) or not isinstance(ms, int | float) or not 0 <= ms <= 1000:
            err(
                "latency_ms",
                _("Latency to '%(zone)s' must be a number of milliseconds, 0–1000.")
                % {"zone": zone},
            )
        else:
            clean[zone] = round(ms)
    return clean


def _site_snapshot(site: Site) -> dict[str, Any]:
    snap = {f: getattr(site, f) for f in SITE_FIELDS if f != "area"}
    snap["area"] = site.area_id
    return snap


def _require_provider(actor: Actor) -> None:
    require_scope(actor, Scope.TRADE)
    if not actor.organisation.has_role(OrganisationRole.COMPUTE_PROVIDER):
        raise Forbidden(_("Only compute providers register sites."))


@transaction.atomic
def site_register(*, actor: Actor, **fields: Any) -> Site:
    _require_provider(actor)
    errors: dict[str, list[str]] = {}
    required = (
        "code",
        "name",
        "area",
        "prefecture",
        "accelerator",
        "capacity_cu",
        "kw_per_cu",
        "pue",
    )
    for field in required:
        if fields.get(field) in (None, ""):
            errors.setdefault(field, []).append(_("This field is required."))
    clean = _clean_site({k: v for k, v in fields.items() if v is not None}, errors)
    if fields.get("code") and Site.objects.filter(code=fields["code"]).exists():
        errors.setdefault("code", []).append(
            _("A site with code '%(code)s' already exists.") % {"code": fields["code"]}
        )
    if errors:
        raise InvalidInput.from_errors(errors)
    site = Site.objects.create(organisation=actor.organisation, **clean)
    record_change(actor, OperatorsAudit.SITE_CREATED, site, {"new": _site_snapshot(site)})
    return site


@transaction.atomic
def site_update(*, actor: Actor, site: Site, **changes: Any) -> Site:
    _require_provider(actor)
    if site.organisation_id != actor.organisation.pk:
        raise NotFound(_("No such site."))
    errors: dict[str, list[str]] = {}
    if "code" in changes and changes["code"] != site.code:
        errors["code"] = [_("A site's code cannot change: bids and results refer to it.")]
    clean = _clean_site(changes, errors)
    if errors:
        raise InvalidInput.from_errors(errors)
    site = Site.objects.select_for_update().get(pk=site.pk)
    if "capacity_cu" in clean and clean["capacity_cu"] < site.capacity_cu:
        # Under the site's lock: an offer written meanwhile waits, then sees the new value.
        now = timezone.now()
        problems = [m for guard in _capacity_guards for m in guard(site, clean["capacity_cu"], now)]
        if problems:
            raise InvalidInput.from_errors({"capacity_cu": problems})
    before = _site_snapshot(site)
    for field, value in clean.items():
        setattr(site, field, value)
    site.save()
    record_change(
        actor, OperatorsAudit.SITE_UPDATED, site, {"old": before, "new": _site_snapshot(site)}
    )
    return site
