"""Who may call what: every API request acts for one organisation, within its scopes."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from aggregator.platform.access import Scope, request_actor


class IsParticipant(BasePermission):
    """Authenticated for an active organisation; reads need `read`, writes the view's scope.

    Views name the scope their writes need in `write_scope` (default `trade`).
    Regulators never write market data, but may manage their own keys and members.
    """

    message = "You do not have permission for this action."

    def has_permission(self, request, view) -> bool:
        actor = request_actor(request)
        if actor is None:
            return False
        if request.method in SAFE_METHODS:
            return actor.can(Scope.READ)
        # POSTs that change nothing in the market (a regulator's replay) need only `read`.
        if getattr(view, "action", None) in getattr(view, "read_only_actions", ()):
            return actor.can(Scope.READ)
        scope = getattr(view, "write_scope", Scope.TRADE)
        if actor.is_regulator and scope != Scope.ADMIN:
            return False
        return actor.can(scope)
