"""Who acts on a VTN request: the organisation of the OAuth2 client, within the token's
scopes. The spec's scopes become the REST API's (read; trade for reports)."""

from __future__ import annotations

from aggregator.openadr.choices import OadrScope
from aggregator.openadr.models import VenClient
from aggregator.platform.access import Scope
from operators.actors import Actor


def actor_for_client(client: VenClient, token_scopes: set[str]) -> Actor:
    scopes = {Scope.READ}
    # A report acknowledges an order: the REST API's `trade`. Regulators never get it.
    if OadrScope.WRITE_REPORTS in token_scopes and not client.organisation.is_regulator:
        scopes.add(Scope.TRADE)
    return Actor(
        organisation=client.organisation,
        scopes=frozenset(scopes),
        machine_label=f"openadr:{client.application.client_id}",
    )
