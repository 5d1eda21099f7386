"""django-oauth-toolkit's scopes backend: a client may ask only for the scopes it was given."""

from __future__ import annotations

from oauth2_provider.scopes import BaseScopes
from oauth2_provider.settings import oauth2_settings


class ClientScopes(BaseScopes):
    def get_all_scopes(self):
        return oauth2_settings.SCOPES

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        client = getattr(application, "openadr_client", None) if application else None
        return list(client.scopes) if client is not None else []

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        # A token asked for without `scope` carries every scope the client was given.
        return self.get_available_scopes(application, request)
