"""Who acts on a request and what they may do: the platform's side of access control.

The platform knows an actor only by its shape (`ActorLike`: one organisation, scopes, a
label for the audit chain). Which user acts for which organisation is the operators app's
knowledge: `settings.WATTBIT_ACTOR_FOR_USER` names that function, the one thing the
platform is told about an app — as Django is told `AUTH_USER_MODEL` — so that the platform
imports no app (docs/architecture.md).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Protocol

from django.conf import settings
from django.db import models
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    """What an actor may do: memberships grant scopes by role, API keys carry them."""

    READ = "read", _("Read")
    TRADE = "trade", _("Trade")
    ADMIN = "admin", _("Admin")


class ActorLike(Protocol):
    """What the platform reads of an actor (operators.actors.Actor is the one there is)."""

    organisation: Any
    scopes: frozenset[str]

    @property
    def label(self) -> str: ...

    @property
    def is_regulator(self) -> bool: ...

    def can(self, scope: str) -> bool: ...


@functools.cache
def _actor_for_user() -> Callable[[Any], ActorLike | None]:
    return import_string(settings.WATTBIT_ACTOR_FOR_USER)


def actor_for_user(user) -> ActorLike | None:
    """The actor a logged-in user is, or None (no membership, an inactive organisation)."""
    return _actor_for_user()(user)


def request_actor(request) -> ActorLike | None:
    """The actor of an API request (an API key's, else the session user's), cached on it."""
    cached = getattr(request, "_wattbit_actor", None)
    if cached is not None:
        return cached
    user = request.user
    actor = getattr(user, "actor", None) or (
        actor_for_user(user) if user and user.is_authenticated else None
    )
    request._wattbit_actor = actor
    return actor
