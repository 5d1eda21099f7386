"""The market operator's parameters: changed only through here, validated and audited."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from aggregator.platform.access import Scope
from aggregator.platform.audit import audit_record
from aggregator.platform.errors import Forbidden, InvalidInput
from market.choices import MarketAudit
from market.models import MarketParameters
from operators.actors import Actor

EDITABLE = (
    "gate_closure_lead_minutes",
    "horizon_intervals",
    "max_bid_intervals",
    "max_days_ahead",
    "capacity_price_min",
    "capacity_price_max",
    "energy_price_min",
    "energy_price_max",
    "limit_price_min",
    "limit_price_max",
)
BOUNDS = {
    "gate_closure_lead_minutes": (0, 24 * 60),
    "horizon_intervals": (1, 7 * 48),
    "max_bid_intervals": (1, 31 * 48),
    "max_days_ahead": (1, 60),
}


def _snapshot(params: MarketParameters) -> dict[str, str]:
    return {name: str(getattr(params, name)) for name in EDITABLE}


@transaction.atomic
def market_parameters_update(*, actor: Actor, **changes: Any) -> MarketParameters:
    """Set market parameters; every change is one audit event with old and new values."""
    if not actor.organisation.is_market_operator or not actor.can(Scope.ADMIN):
        raise Forbidden(_("Only the market operator's admins change market parameters."))
    errors: dict[str, list[str]] = {}
    for name in set(changes) - set(EDITABLE):
        errors[name] = [_("Unknown field.")]
    for name, (low, high) in BOUNDS.items():
        if name in changes and not (low <= int(changes[name]) <= high):
            errors[name] = [_("Between %(low)d and %(high)d.") % {"low": low, "high": high}]
    params = MarketParameters.objects.select_for_update().get(pk=MarketParameters.current().pk)
    merged = {**_snapshot(params), **{k: str(v) for k, v in changes.items() if k in EDITABLE}}
    for kind in ("capacity_price", "energy_price", "limit_price"):
        if Decimal(merged[f"{kind}_min"]) >= Decimal(merged[f"{kind}_max"]):
            errors[f"{kind}_max"] = [_("The maximum must be above the minimum.")]
    if int(merged["horizon_intervals"]) > int(merged["max_bid_intervals"]):
        errors["horizon_intervals"] = [_("The horizon cannot be longer than the longest bid.")]
    if errors:
        raise InvalidInput.from_errors(errors)
    before = _snapshot(params)
    for name, value in changes.items():
        setattr(params, name, value)
    params.save()
    after = _snapshot(params)
    audit_record(
        code=MarketAudit.PARAMETERS_CHANGED,
        actor_label=actor.label,
        actor_user=actor.user,
        organisation=actor.organisation,
        obj=params,
        payload={
            "old": {k: v for k, v in before.items() if before[k] != after[k]},
            "new": {k: v for k, v in after.items() if before[k] != after[k]},
        },
    )
    return params
