"""Reads for participants, always scoped to what the requesting organisation may see."""

from __future__ import annotations

from django.db.models import QuerySet

from operators.actors import Actor
from operators.models import ApiKey, Membership, Organisation, Site, WebhookEndpoint


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
