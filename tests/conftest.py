"""Shared fixtures: two provider organisations, a regulator, and clients acting for each.

Parties follow healthchecks' alice/bob/charlie: alice (admin) and bob (viewer) share the
organisation "alpha"; charlie is the outsider at "beta"; "reg" is the regulator.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation
from rest_framework.test import APIClient

from aggregator.platform.access import Scope
from operators import services
from operators.actors import Actor
from operators.choices import MEMBER_ROLE_SCOPES, MemberRole

PASSWORD = "correct-horse-battery-9"


def _org(slug: str, roles: list[str]):
    return services.organisation_create(
        actor=None,
        slug=slug,
        legal_name_ja=f"{slug}株式会社",
        legal_name_en=f"{slug} K.K.",
        roles=roles,
    )


def _member(org, username: str, role: str):
    return services.member_add(
        actor=None,
        organisation=org,
        username=username,
        email=f"{username}@example.jp",
        role=role,
        password=PASSWORD,
    )


@pytest.fixture(autouse=True)
def english_outside_requests():
    """Messages of services and commands called directly come in English in every test.

    Django keeps the language a request activated for the rest of the thread, so without this
    a test's messages depended on whether an earlier test had made an API request (the API
    answers in English, the portal and commands in the default Japanese). Requests still
    choose their own language through the middleware.
    """
    with translation.override("en"):
        yield


@pytest.fixture
def alpha(db):
    return _org("alpha", ["compute_provider", "workload_owner"])


@pytest.fixture
def beta(db):
    return _org("beta", ["compute_provider"])


@pytest.fixture
def regulator_org(db):
    return _org("reg", ["regulator"])


@pytest.fixture
def alice(alpha):
    return _member(alpha, "alice", MemberRole.ADMIN)


@pytest.fixture
def bob(alpha):
    return _member(alpha, "bob", MemberRole.VIEWER)


@pytest.fixture
def trent(alpha):
    return _member(alpha, "trent", MemberRole.TRADER)


@pytest.fixture
def charlie(beta):
    return _member(beta, "charlie", MemberRole.ADMIN)


@pytest.fixture
def rita(regulator_org):
    return _member(regulator_org, "rita", MemberRole.ADMIN)


def actor_of(membership) -> Actor:
    return Actor(
        organisation=membership.organisation,
        scopes=MEMBER_ROLE_SCOPES[membership.role],
        user=membership.user,
    )


def portal_client(membership) -> Client:
    """A browser-like client logged in through the login form's backend, in English."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert client.login(username=membership.user.username, password=PASSWORD)
    return client


def client_for(membership) -> APIClient:
    client = APIClient()
    client.force_login(membership.user)
    return client


def key_client(membership, scopes=(Scope.READ, Scope.TRADE, Scope.ADMIN)) -> tuple[APIClient, str]:
    admin_actor = Actor(
        organisation=membership.organisation,
        scopes=MEMBER_ROLE_SCOPES[MemberRole.ADMIN],
        user=membership.user,
    )
    _api_key, key = services.api_key_create(actor=admin_actor, name="test", scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client, key


SITE_DATA = {
    "code": "alpha-tky-1",
    "name": "Alpha Tokyo 1",
    "area": "tokyo",
    "prefecture": "chiba",
    "accelerator": "h100",
    "capacity_cu": 64,
    "kw_per_cu": "1.0",
    "pue": "1.3",
    "residency_tags": ["jp"],
    "latency_ms": {"tokyo": 2, "osaka": 9},
}


@pytest.fixture
def alpha_site(alice):
    return services.site_register(actor=actor_of(alice), **{**SITE_DATA})


@pytest.fixture
def beta_site(charlie):
    return services.site_register(
        actor=actor_of(charlie),
        **{**SITE_DATA, "code": "beta-kyu-1", "area": "kyushu", "prefecture": "fukuoka"},
    )


@pytest.fixture
def reference_data(transactional_db):
    """The areas and zones a migration loads, for transactional tests.

    A transactional test ends with a flush that empties every table, migration data
    included; `serialized_rollback` restores it only in some orderings, so tests that run
    a live server or real workers load it again here (the loader is idempotent).
    """
    import importlib

    from django.apps import apps

    migration = importlib.import_module("operators.migrations.0002_reference_areas_and_zones")
    migration.load(apps, None)
