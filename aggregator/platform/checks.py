"""System checks of the platform: the integrity key must exist outside the database."""

from __future__ import annotations

from django.core.checks import Error, register

from aggregator.platform.integrity import key_problem


@register()
def integrity_key_check(app_configs, **kwargs):
    """wattbit.E001: no usable AUDIT_HMAC_KEY (production never derives one)."""
    problem = key_problem()
    if problem is None:
        return []
    return [
        Error(
            problem,
            hint="Set AUDIT_HMAC_KEY (or AUDIT_HMAC_KEY_FILE) to a long random string kept "
            "outside the database and its backups; see docs/security.md.",
            id="wattbit.E001",
        )
    ]
