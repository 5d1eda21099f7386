"""Who is acting: a portal user or an API key, always on behalf of one organisation."""

from __future__ import annotations

from dataclasses import dataclass

from aggregator.platform.access import Scope
from operators.choices import MEMBER_ROLE_SCOPES
from operators.models import ApiKey, Organisation


@dataclass(frozen=True)
class Actor:
    organisation: Organisation
    scopes: frozenset[str]
    user: object | None = None
    api_key: ApiKey | None = None
    # Another machine credential's name for the audit chain (an OpenADR client's).
    machine_label: str | None = None

    @property
    def label(self) -> str:
        if self.machine_label is not None:
            return self.machine_label
        if self.api_key is not None:
            return f"api-key:{self.api_key.prefix}"
        return f"user:{getattr(self.user, 'username', '?')}"

    @property
    def is_regulator(self) -> bool:
        return self.organisation.is_regulator

    @property
    def oversees_market(self) -> bool:
        """The market operator and regulators see the oversight pages (regulators only read)."""
        return self.organisation.is_market_operator or self.is_regulator

    def can(self, scope: str) -> bool:
        return scope in self.scopes

    @property
    def can_write(self) -> bool:
        # Regulators oversee; they never change anything, whatever their scopes say.
        return not self.is_regulator and self.can(Scope.TRADE)


def actor_for_user(user) -> Actor | None:
    membership = getattr(user, "membership", None) if user.is_authenticated else None
    if membership is None or not membership.organisation.is_active or not user.is_active:
        return None
    return Actor(
        organisation=membership.organisation,
        scopes=MEMBER_ROLE_SCOPES[membership.role],
        user=user,
    )


def actor_for_api_key(api_key: ApiKey) -> Actor:
    return Actor(
        organisation=api_key.organisation, scopes=frozenset(api_key.scopes), api_key=api_key
    )
