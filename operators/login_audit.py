"""Portal login lockouts (django-axes) go into the audit chain, like every other event."""

from __future__ import annotations

from axes.signals import user_locked_out
from django.db import transaction
from django.dispatch import receiver

from aggregator.platform.audit import audit_record
from aggregator.platform.audit_codes import SYSTEM_ACTOR
from operators.choices import OperatorsAudit


@receiver(user_locked_out, dispatch_uid="operators.login_locked_out")
def record_lockout(sender, request, username, ip_address, **kwargs) -> None:
    # The audit row is the record of a security event, not a business rule: axes has
    # already decided; this only writes down who was locked out, from where.
    with transaction.atomic():
        audit_record(
            code=OperatorsAudit.LOGIN_LOCKED_OUT,
            actor_label=SYSTEM_ACTOR,
            object_type="auth.user",
            object_id=str(username or "")[:150],
            payload={"username": str(username or "")[:150], "ip_address": ip_address or ""},
        )
