"""API keys and webhook endpoints: machine credentials of an organisation."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidTag
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aggregator.platform.access import Scope
from aggregator.platform.errors import InvalidInput, NotFound
from operators.actors import Actor
from operators.choices import OperatorsAudit
from operators.crypto import (
    api_key_matches,
    decrypt_secret,
    encrypt_secret,
    hash_api_key,
    new_api_key,
    new_webhook_secret,
    split_api_key,
    webhook_signing_key,
)
from operators.models import (
    ApiKey,
    WebhookEndpoint,
)
from operators.services.common import record_change, require_scope
from operators.validators import webhook_url_problem

LAST_USED_RESOLUTION = timedelta(minutes=1)


# --- API keys ----------------------------------------------------------------------------


@transaction.atomic
def api_key_create(*, actor: Actor, name: str, scopes: list[str]) -> tuple[ApiKey, str]:
    """Create a key; the full key is returned once and never stored."""
    require_scope(actor, Scope.ADMIN)
    errors: dict[str, list[str]] = {}
    if not name or not name.strip():
        errors["name"] = [_("Give the key a name so you can recognise it later.")]
    if not scopes:
        errors["scopes"] = [_("Give at least one scope.")]
    elif unknown := sorted(set(scopes) - set(Scope.values)):
        errors["scopes"] = [_("Unknown scope(s): %(scopes)s.") % {"scopes": ", ".join(unknown)}]
    if errors:
        raise InvalidInput.from_errors(errors)
    prefix, key = new_api_key()
    api_key = ApiKey.objects.create(
        organisation=actor.organisation,
        name=name.strip(),
        prefix=prefix,
        secret_sha256=hash_api_key(key),
        scopes=sorted(set(scopes)),
        created_by=actor.user,
    )
    record_change(
        actor,
        OperatorsAudit.API_KEY_CREATED,
        api_key,
        {"new": {"prefix": prefix, "name": api_key.name, "scopes": api_key.scopes}},
    )
    return api_key, key


@transaction.atomic
def api_key_revoke(*, actor: Actor, api_key: ApiKey) -> ApiKey:
    require_scope(actor, Scope.ADMIN)
    if api_key.organisation_id != actor.organisation.pk:
        raise NotFound(_("No such API key."))
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        record_change(actor, OperatorsAudit.API_KEY_REVOKED, api_key, {"prefix": api_key.prefix})
    return api_key


def api_key_authenticate(key: str) -> ApiKey | None:
    """The active key matching `key`, or None. Records last use at most once a minute."""
    parts = split_api_key(key)
    if parts is None:
        return None
    prefix = parts[0]
    api_key = (
        ApiKey.objects.select_related("organisation")
        .filter(prefix=prefix, revoked_at__isnull=True, organisation__is_active=True)
        .first()
    )
    if api_key is None or not api_key_matches(key, api_key.secret_sha256):
        return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key


# --- Webhook endpoints -------------------------------------------------------------------


def _check_webhook_url(url: str) -> None:
    problem = webhook_url_problem(url, allow_private=settings.WEBHOOK_ALLOW_PRIVATE_TARGETS)
    if problem:
        raise InvalidInput.from_errors({"url": [problem]})


@transaction.atomic
def webhook_endpoint_create(
    *, actor: Actor, url: str, description: str = ""
) -> tuple[WebhookEndpoint, str]:
    """Register a push target; the signing secret is returned once."""
    require_scope(actor, Scope.ADMIN)
    _check_webhook_url(url)
    secret = new_webhook_secret()
    endpoint = WebhookEndpoint.objects.create(
        organisation=actor.organisation,
        url=url,
        description=description,
        secret_encrypted=encrypt_secret(secret),
        secret_prefix=secret[:12],
    )
    record_change(actor, OperatorsAudit.WEBHOOK_CREATED, endpoint, {"new": {"url": url}})
    return endpoint, secret


@transaction.atomic
def webhook_endpoint_update(
    *, actor: Actor, endpoint: WebhookEndpoint, **changes: Any
) -> WebhookEndpoint:
    require_scope(actor, Scope.ADMIN)
    if endpoint.organisation_id != actor.organisation.pk:
        raise NotFound(_("No such webhook endpoint."))
    unknown = set(changes) - {"url", "description", "is_active"}
    if unknown:
        raise InvalidInput.from_errors({f: [_("This field cannot be changed.")] for f in unknown})
    if "url" in changes:
        _check_webhook_url(changes["url"])
    before = {
        "url": endpoint.url,
        "description": endpoint.description,
        "is_active": endpoint.is_active,
    }
    for field, value in changes.items():
        setattr(endpoint, field, value)
    endpoint.save()
    record_change(
        actor,
        OperatorsAudit.WEBHOOK_UPDATED,
        endpoint,
        {"old": before, "new": {k: getattr(endpoint, k) for k in before}},
    )
    return endpoint


@transaction.atomic
def webhook_endpoint_rotate_secret(
    *, actor: Actor, endpoint: WebhookEndpoint, now: datetime | None = None
) -> tuple[WebhookEndpoint, str]:
    """Issue a new signing secret, returned once. The replaced one keeps signing beside it
    for WEBHOOK_SECRET_OVERLAP_HOURS (until `previous_secret_expires_at`), then stops; a
    secret replaced earlier whose overlap has not ended stops at once (two sign at most)."""
    require_scope(actor, Scope.ADMIN)
    if endpoint.organisation_id != actor.organisation.pk:
        raise NotFound(_("No such webhook endpoint."))
    now = now or timezone.now()
    # Locked: two rotations at once would both keep the same "previous" and lose one secret.
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    dropped = endpoint.previous_secret_prefix if endpoint.previous_secret_signs_until(now) else ""
    overlap = timedelta(hours=settings.WEBHOOK_SECRET_OVERLAP_HOURS)
    if overlap and _readable(endpoint.secret_encrypted):
        endpoint.previous_secret_encrypted = endpoint.secret_encrypted
        endpoint.previous_secret_prefix = endpoint.secret_prefix
        endpoint.previous_secret_legacy = endpoint.secret_legacy
        endpoint.previous_secret_expires_at = now + overlap
    else:
        # No overlap configured, or a secret nobody can sign with: nothing to keep.
        endpoint.previous_secret_encrypted = None
        endpoint.previous_secret_prefix = ""
        endpoint.previous_secret_legacy = False
        endpoint.previous_secret_expires_at = None
    secret = new_webhook_secret()
    endpoint.secret_encrypted = encrypt_secret(secret)
    endpoint.secret_prefix = secret[:12]
    endpoint.secret_legacy = False
    endpoint.secret_rotated_at = now
    endpoint.save(
        update_fields=[
            "secret_encrypted",
            "secret_prefix",
            "secret_legacy",
            "secret_rotated_at",
            "previous_secret_encrypted",
            "previous_secret_prefix",
            "previous_secret_legacy",
            "previous_secret_expires_at",
        ]
    )
    expires = endpoint.previous_secret_expires_at
    record_change(
        actor,
        OperatorsAudit.WEBHOOK_SECRET_ROTATED,
        endpoint,
        {
            "prefix": endpoint.secret_prefix,
            "previous_prefix": endpoint.previous_secret_prefix,
            "previous_signs_until": expires.isoformat() if expires else None,
            "stopped_prefix": dropped,
        },
    )
    return endpoint, secret


def _readable(blob: bytes) -> bool:
    try:
        webhook_signing_key(decrypt_secret(blob))
    except (ValueError, InvalidTag):
        return False
    return True
