"""OAuth2 clients of the VTN: created by the market operator, one organisation each."""

from __future__ import annotations

import secrets

from django.db import transaction
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application, RefreshToken

from aggregator.openadr.choices import PARTICIPANT_SCOPES, READ_ONLY_SCOPES, OpenAdrAudit
from aggregator.openadr.models import VenClient
from aggregator.platform.audit import audit_record
from aggregator.platform.audit_codes import SYSTEM_ACTOR
from aggregator.platform.errors import InvalidInput
from operators.models import Organisation


def scopes_for(organisation: Organisation, *, read_only: bool) -> list[str]:
    """The spec's scopes a client of this organisation may ask for (docs/interop.md)."""
    if read_only or organisation.is_regulator or organisation.is_market_operator:
        return list(READ_ONLY_SCOPES)
    return list(PARTICIPANT_SCOPES)


@transaction.atomic
def openadr_client_create(
    *, organisation: Organisation, name: str = "", read_only: bool = False, actor_label: str = ""
) -> tuple[VenClient, str]:
    """A new client and its secret, returned once: the toolkit stores only its hash."""
    if not organisation.is_active:
        raise InvalidInput.from_errors({"org": ["The organisation is not active."]})
    secret = secrets.token_urlsafe(32)
    application = Application(
        name=name or f"openadr-{organisation.slug}",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret=secret,  # hashed by Application.save (hash_client_secret)
        hash_client_secret=True,
        redirect_uris="",
    )
    application.save()
    client = VenClient.objects.create(
        application=application,
        organisation=organisation,
        scopes=scopes_for(organisation, read_only=read_only),
        created_at=timezone.now(),
    )
    audit_record(
        code=OpenAdrAudit.CLIENT_CREATED,
        actor_label=actor_label or SYSTEM_ACTOR,
        organisation=organisation,
        obj=client,
        payload={"client_id": application.client_id, "scopes": client.scopes},
    )
    return client, secret


@transaction.atomic
def openadr_client_revoke(*, client_id: str, actor_label: str = "") -> VenClient:
    """Tokens deleted and the secret replaced by one nobody holds: the client is done."""
    client = (
        VenClient.objects.select_related("application", "organisation")
        .filter(application__client_id=client_id)
        .first()
    )
    if client is None:
        raise InvalidInput.from_errors({"client_id": ["No such OpenADR client."]})
    application = client.application
    AccessToken.objects.filter(application=application).delete()
    RefreshToken.objects.filter(application=application).delete()
    application.client_secret = secrets.token_urlsafe(48)  # hashed on save, never shown
    application.save()
    client.scopes = []
    client.save(update_fields=["scopes"])
    audit_record(
        code=OpenAdrAudit.CLIENT_REVOKED,
        actor_label=actor_label or SYSTEM_ACTOR,
        organisation=client.organisation,
        obj=client,
        payload={"client_id": client_id},
    )
    return client
