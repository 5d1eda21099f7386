"""Writes for participants: the only place that changes organisations, members, keys, sites, webhooks.

Every function is atomic and records an audit event in the same transaction; bad input
raises InvalidInput before anything is written.
"""

from operators.services.credentials import (
    api_key_authenticate,
    api_key_create,
    api_key_revoke,
    webhook_endpoint_create,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_update,
)
from operators.services.onboarding import participant_onboard
from operators.services.organisations import (
    member_add,
    member_change_role,
    member_deactivate,
    organisation_create,
    organisation_update,
)
from operators.services.sites import site_register, site_update

__all__ = [
    "api_key_authenticate",
    "api_key_create",
    "api_key_revoke",
    "member_add",
    "member_change_role",
    "member_deactivate",
    "organisation_create",
    "organisation_update",
    "participant_onboard",
    "site_register",
    "site_update",
    "webhook_endpoint_create",
    "webhook_endpoint_rotate_secret",
    "webhook_endpoint_update",
]
