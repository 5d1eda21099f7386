"""The market operator's settlement parameters: changed only through here, validated, audited.

The admin shows them read-only (settlement/admin.py); the portal page and any future API
call this service, so every change is checked against the bounds below and recorded on the
audit chain with its old and new values.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from aggregator.platform.access import Scope
from aggregator.platform.audit import audit_record
from aggregator.platform.errors import Forbidden, InvalidInput
from operators.actors import Actor
from settlement.choices import SettlementAudit
from settlement.models import SettlementParameters

# Inclusive bounds. Deviation ≥ 1 keeps a shortfall's charge at or above the cleared price
# (also a database check); the rest keep a typo from stopping settlement or metering.
BOUNDS: dict[str, tuple[Decimal, Decimal]] = {
    "market_fee_jpy_per_cu_h": (Decimal(0), Decimal(10_000)),
    "deviation_multiplier": (Decimal(1), Decimal(100)),
    "metering_deadline_hours": (Decimal(0), Decimal(7 * 24)),
    "late_metering_days": (Decimal(0), Decimal(366)),
    "metering_tolerance_pct": (Decimal(0), Decimal(100)),
    "consumption_tax_rate": (Decimal(0), Decimal(1)),
}
EDITABLE = tuple(BOUNDS)
INTEGER_FIELDS = frozenset({"metering_deadline_hours", "late_metering_days"})


def _snapshot(params: SettlementParameters) -> dict[str, str]:
    return {name: str(getattr(params, name)) for name in EDITABLE}


def _checked_value(name: str, value: Any, errors: dict[str, list[str]]) -> Decimal | int | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors[name] = [_("Enter a number.")]
        return None
    low, high = BOUNDS[name]
    if not number.is_finite() or not (low <= number <= high):
        errors[name] = [_("Between %(low)s and %(high)s.") % {"low": low, "high": high}]
        return None
    if name in INTEGER_FIELDS:
        if number != number.to_integral_value():
            errors[name] = [_("Enter a whole number.")]
            return None
        return int(number)
    return number


@transaction.atomic
def settlement_parameters_update(*, actor: Actor, **changes: Any) -> SettlementParameters:
    """Set settlement parameters; every change is one audit event with old and new values."""
    if not actor.organisation.is_market_operator or not actor.can(Scope.ADMIN):
        raise Forbidden(_("Only the market operator's admins change settlement parameters."))
    errors: dict[str, list[str]] = {}
    for name in set(changes) - set(EDITABLE):
        errors[name] = [_("Unknown field.")]
    cleaned = {
        name: _checked_value(name, value, errors)
        for name, value in changes.items()
        if name in BOUNDS
    }
    if errors:
        raise InvalidInput.from_errors(errors)
    SettlementParameters.current()  # the row exists from here on
    params = SettlementParameters.objects.select_for_update().get(pk=1)
    before = _snapshot(params)
    for name, value in cleaned.items():
        setattr(params, name, value)
    params.save()
    params.refresh_from_db()
    after = _snapshot(params)
    changed = [k for k in EDITABLE if before[k] != after[k]]
    if changed:
        audit_record(
            code=SettlementAudit.PARAMETERS_CHANGED,
            actor_label=actor.label,
            actor_user=actor.user,
            organisation=actor.organisation,
            obj=params,
            payload={
                "old": {k: before[k] for k in changed},
                "new": {k: after[k] for k in changed},
            },
        )
    return params
