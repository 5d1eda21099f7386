"""Rate limits per organisation, whether it calls with a key or a portal session."""

from rest_framework.throttling import SimpleRateThrottle

from operators.api.permissions import request_actor


class OrganisationRateThrottle(SimpleRateThrottle):
    scope = "organisation"

    def get_cache_key(self, request, view):
        actor = request_actor(request)
        if actor is None:
            return None  # anonymous requests fall to AnonRateThrottle
        return self.cache_format % {"scope": self.scope, "ident": actor.organisation.pk}
