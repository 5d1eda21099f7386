"""Reads for participants, always scoped to what the requesting organisation may see."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from operators.actors import Actor
from operators.crypto import decrypt_secret, webhook_signing_key
from operators.models import ApiKey, Membership, Organisation, Site, WebhookEndpoint
from operators.webhooks import SigningKey


def organisation_list(*, actor: Actor) -> QuerySet[Organisation]:
    # Regulators oversee the whole market; everyone else sees only itself.
    if actor.is_regulator:
        return Organisation.objects.all()
    return Organisation.objects.filter(pk=actor.organisation.pk)


def member_list(*, actor: Actor) -> QuerySet[Membership]:
    qs = Membership.objects.select_related("user", "organisation")
    if actor.is_regulator:
        return qs
    return qs.filter(organisation=actor.organisation)


def api_key_list(*, actor: Actor) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(organisation=actor.organisation)


def site_list(*, actor: Actor) -> QuerySet[Site]:
    """Full site records: own sites (all sites for a regulator)."""
    qs = Site.objects.select_related("area", "organisation")
    if actor.is_regulator:
        return qs
    return qs.filter(organisation=actor.organisation)


def site_directory() -> QuerySet[Site]:
    """The public summary of every active site (id, area, accelerator, capacity)."""
    return Site.objects.filter(is_active=True).only(
        "id", "code", "area_id", "accelerator", "capacity_cu"
    )


def webhook_endpoint_list(*, actor: Actor) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(organisation=actor.organisation)


def webhook_signing_keys(*, endpoint: WebhookEndpoint, now: datetime) -> list[SigningKey]:
    """The keys that sign this endpoint's pushes at `now`: the current secret's, then the
    previous secret's while its overlap lasts. For the dispatch relay (the system acts), so
    not scoped to a requester; raises ValueError or InvalidTag for an unreadable secret."""
    keys = [
        SigningKey(
            webhook_signing_key(decrypt_secret(endpoint.secret_encrypted)),
            legacy=endpoint.secret_legacy,
        )
    ]
    if endpoint.previous_secret_signs_until(now) is not None:
        previous = decrypt_secret(endpoint.previous_secret_encrypted)
        keys.append(
            SigningKey(webhook_signing_key(previous), legacy=endpoint.previous_secret_legacy)
        )
    return keys
