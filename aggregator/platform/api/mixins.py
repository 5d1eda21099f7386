"""The base of every scoped API view."""

from __future__ import annotations

from aggregator.platform.access import request_actor


class ActorMixin:
    """Scopes every queryset to the acting organisation through the app's selector."""

    model = None
    selector = None

    @property
    def actor(self):
        return request_actor(self.request)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request actor
            return self.model.objects.none()
        return type(self).selector(actor=self.actor)
