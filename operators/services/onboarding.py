"""Onboarding a participant: its organisation and its first admin, in one step."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from aggregator.platform.errors import InvalidInput
from operators.actors import Actor
from operators.choices import MemberRole
from operators.models import Membership
from operators.services.organisations import member_add, organisation_create


@transaction.atomic
def participant_onboard(
    *, actor: Actor, organisation: dict[str, Any], admin: dict[str, str]
) -> Membership:
    """Create the organisation and its first admin user; either both exist or neither."""
    errors: dict[str, list[str]] = {}
    org = None
    try:
        org = organisation_create(actor=actor, **organisation)
    except InvalidInput as exc:
        errors.update(exc.errors)
    if org is None:
        # Check the admin's fields too, so the operator sees every problem at once.
        raise InvalidInput.from_errors(errors)
    try:
        membership = member_add(actor=None, organisation=org, role=MemberRole.ADMIN, **admin)
    except InvalidInput as exc:
        errors.update({f"admin_{k}": v for k, v in exc.errors.items()})
        raise InvalidInput.from_errors(errors) from exc
    return membership
