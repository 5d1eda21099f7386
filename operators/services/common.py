"""Helpers shared by the participant services: scope checks and audit rows."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from aggregator.platform.audit import audit_record
from aggregator.platform.audit_codes import SYSTEM_ACTOR
from aggregator.platform.errors import Forbidden
from operators.actors import Actor


def require_scope(actor: Actor, scope: str) -> None:
    if not actor.can(scope):
        raise Forbidden(_("This action needs the '%(scope)s' permission.") % {"scope": scope})


def record_change(
    actor: Actor | None, code: str, obj: Any, payload: dict, organisation=None
) -> None:
    audit_record(
        code=code,
        actor_label=actor.label if actor else SYSTEM_ACTOR,
        actor_user=actor.user if actor else None,
        organisation=organisation or (actor.organisation if actor else None),
        obj=obj,
        payload=payload,
    )
