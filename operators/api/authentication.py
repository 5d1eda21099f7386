"""`Authorization: Api-Key <key>` authentication for machine clients."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from aggregator.platform.api.throttling import FailedKeyLimiter
from operators.actors import Actor, actor_for_api_key
from operators.services import api_key_authenticate


class ApiKeyPrincipal:
    """Stands in for request.user when a key, not a person, is calling."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False

    def __init__(self, actor: Actor) -> None:
        self.actor = actor
        self.pk = None
        self.username = actor.label

    def __str__(self) -> str:
        return self.username


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Api-Key"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        keyword, _sep, key = header.partition(" ")
        if keyword != self.keyword:
            return None
        limiter = FailedKeyLimiter(request)
        limiter.check()
        api_key = api_key_authenticate(key.strip())
        if api_key is None:
            limiter.failed()
            # Same answer for unknown, malformed and revoked keys: nothing to probe.
            raise exceptions.AuthenticationFailed(_("Invalid or revoked API key."))
        return ApiKeyPrincipal(actor_for_api_key(api_key)), api_key

    def authenticate_header(self, request) -> str:
        return self.keyword


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>` — create keys in the portal or at /api/v1/api-keys/.",
        }
