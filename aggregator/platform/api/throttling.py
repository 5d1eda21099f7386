"""Rate limits per organisation, whether it calls with a key or a portal session."""

import time

from django.conf import settings
from django.core.cache import cache
from rest_framework import exceptions
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from aggregator.platform.access import request_actor


class OrganisationRateThrottle(SimpleRateThrottle):
    scope = "organisation"

    def get_cache_key(self, request, view):
        actor = request_actor(request)
        if actor is None:
            return None  # anonymous requests fall to AnonRateThrottle
        return self.cache_format % {"scope": self.scope, "ident": actor.organisation.pk}


class FailedKeyLimiter:
    """Failed API-key attempts per client address and minute, counted in the shared cache.

    Authentication runs before DRF's throttles, so a stream of random keys used to get
    600 × 401 and never a 429. Once an address is over the limit its requests with a key
    are refused with 429 before the key is even looked up — a valid key too, or probing
    would go on, only answered differently.
    """

    def __init__(self, request) -> None:
        self.ident = BaseThrottle().get_ident(request)
        self.window = int(time.time() // 60)
        self.key = f"throttle:failed-key:{self.ident}:{self.window}"

    def check(self) -> None:
        if (cache.get(self.key) or 0) >= settings.API_FAILED_KEYS_PER_MINUTE:
            raise exceptions.Throttled(wait=60 - time.time() % 60)

    def failed(self) -> None:
        cache.add(self.key, 0, timeout=120)
        try:
            cache.incr(self.key)
        except ValueError:  # expired between add and incr
            cache.set(self.key, 1, timeout=120)
