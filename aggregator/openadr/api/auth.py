"""Bearer tokens of django-oauth-toolkit's client-credentials grant, and the spec's scopes
per operation (the OpenADR 3.1.1 OpenAPI document's `security` of each path)."""

from __future__ import annotations

from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from rest_framework import exceptions
from rest_framework.permissions import BasePermission

from aggregator.openadr.actors import actor_for_client
from operators.api.authentication import ApiKeyPrincipal


class VenTokenAuthentication(OAuth2Authentication):
    """`Authorization: Bearer <token>`; the request acts for the client's organisation."""

    def authenticate(self, request):
        outcome = super().authenticate(request)
        if outcome is None:
            return None
        _user, token = outcome
        client = getattr(token.application, "openadr_client", None) if token.application else None
        if client is None or not client.organisation.is_active:
            raise exceptions.AuthenticationFailed("This token is not an OpenADR client's.")
        request.openadr_client = client
        actor = actor_for_client(client, set(token.scope.split()))
        return ApiKeyPrincipal(actor), token


class SpecScopes(BasePermission):
    """The view's `scopes` name, per HTTP method, the scopes of which the token needs one."""

    message = "The token lacks the scope this operation needs."

    def has_permission(self, request, view) -> bool:
        token = request.auth
        if token is None or not hasattr(token, "scope"):
            return False
        wanted = view.scopes.get(request.method, ())
        return bool(set(token.scope.split()) & set(wanted))
