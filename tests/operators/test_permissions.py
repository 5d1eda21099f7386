"""The permission matrix: owner, teammate, outsider, regulator and anonymous on every endpoint."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from aggregator.platform.models import AuditEvent
from operators.models import ApiKey, Site, WebhookEndpoint
from tests.conftest import SITE_DATA, client_for, key_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def parties(alice, bob, trent, charlie, rita):
    return {
        "owner": client_for(alice),
        "viewer": client_for(bob),
        "trader": client_for(trent),
        "outsider": client_for(charlie),
        "regulator": client_for(rita),
        "anonymous": APIClient(),
    }


def _ids(response) -> list:
    return [row["id"] for row in response.json()["results"]]


READ_LISTS = [
    "/api/v1/organisations/",
    "/api/v1/members/",
    "/api/v1/api-keys/",
    "/api/v1/sites/",
    "/api/v1/site-directory/",
    "/api/v1/webhook-endpoints/",
    "/api/v1/areas/",
    "/api/v1/zones/",
    "/api/v1/organisations/me/",
]


@pytest.mark.parametrize("url", READ_LISTS)
def test_anonymous_gets_401_problem_everywhere(parties, url):
    response = parties["anonymous"].get(url)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 401


@pytest.mark.parametrize("url", READ_LISTS)
@pytest.mark.parametrize("who", ["owner", "viewer", "trader", "outsider", "regulator"])
def test_every_member_can_read_lists(parties, url, who):
    assert parties[who].get(url).status_code == 200


def test_sites_scoped_to_own_organisation(parties, alpha_site, beta_site):
    assert _ids(parties["owner"].get("/api/v1/sites/")) == [alpha_site.pk]
    assert _ids(parties["viewer"].get("/api/v1/sites/")) == [alpha_site.pk]
    assert _ids(parties["outsider"].get("/api/v1/sites/")) == [beta_site.pk]
    assert sorted(_ids(parties["regulator"].get("/api/v1/sites/"))) == sorted(
        [alpha_site.pk, beta_site.pk]
    )
    # Another tenant's object answers 404, not 403: its existence is not revealed.
    assert parties["outsider"].get(f"/api/v1/sites/{alpha_site.pk}/").status_code == 404
    assert parties["owner"].get(f"/api/v1/sites/{alpha_site.pk}/").status_code == 200


def test_site_directory_is_a_public_summary(parties, alpha_site, beta_site):
    rows = parties["outsider"].get("/api/v1/site-directory/").json()["results"]
    assert {r["code"] for r in rows} == {alpha_site.code, beta_site.code}
    assert set(rows[0]) == {"id", "code", "area", "accelerator", "capacity_cu"}


def test_site_writes_by_role(parties, alpha_site):
    url = f"/api/v1/sites/{alpha_site.pk}/"
    assert parties["viewer"].patch(url, {"capacity_cu": 10}).status_code == 403
    assert parties["outsider"].patch(url, {"capacity_cu": 10}).status_code == 404
    assert parties["regulator"].patch(url, {"capacity_cu": 10}).status_code == 403
    assert parties["anonymous"].patch(url, {"capacity_cu": 10}).status_code == 401
    assert Site.objects.get(pk=alpha_site.pk).capacity_cu == 64
    assert parties["trader"].patch(url, {"capacity_cu": 10}).status_code == 200
    assert Site.objects.get(pk=alpha_site.pk).capacity_cu == 10


def test_site_create_by_role(parties):
    data = {**SITE_DATA, "code": "new-site"}
    for who, status in [("viewer", 403), ("regulator", 403), ("anonymous", 401)]:
        assert parties[who].post("/api/v1/sites/", data).status_code == status, who
    assert not Site.objects.filter(code="new-site").exists()
    assert parties["trader"].post("/api/v1/sites/", data).status_code == 201


def test_only_compute_providers_register_sites(rita, db):
    from operators import services
    from tests.conftest import _member, _org

    owner_only = _org("gamma", ["workload_owner"])
    gina = _member(owner_only, "gina", "admin")
    response = client_for(gina).post("/api/v1/sites/", {**SITE_DATA, "code": "g-1"})
    assert response.status_code == 403
    assert "compute providers" in response.json()["detail"]
    assert services  # imported for the fixture helpers


def test_organisations_scoped(parties, alpha, beta):
    assert [
        o["slug"] for o in parties["owner"].get("/api/v1/organisations/").json()["results"]
    ] == ["alpha"]
    assert parties["owner"].get(f"/api/v1/organisations/{beta.pk}/").status_code == 404
    regulated = parties["regulator"].get("/api/v1/organisations/").json()["results"]
    assert {"alpha", "beta", "reg"} <= {o["slug"] for o in regulated}
    assert parties["owner"].get("/api/v1/organisations/me/").json()["slug"] == "alpha"


def test_organisation_update_needs_admin(parties, alpha, beta):
    url = f"/api/v1/organisations/{alpha.pk}/"
    assert parties["trader"].patch(url, {"contact_phone": "03-0000-0000"}).status_code == 403
    assert parties["outsider"].patch(url, {"contact_phone": "03"}).status_code == 404
    ok = parties["owner"].patch(url, {"contact_phone": "03-1234-5678"})
    assert ok.status_code == 200 and ok.json()["contact_phone"] == "03-1234-5678"


def test_members_scoped_and_admin_only(parties, alice, charlie):
    usernames = {m["username"] for m in parties["owner"].get("/api/v1/members/").json()["results"]}
    assert usernames == {"alice", "bob", "trent"}
    assert parties["outsider"].get(f"/api/v1/members/{alice.pk}/").status_code == 404
    new = {
        "username": "dave",
        "email": "dave@example.jp",
        "role": "viewer",
        "password": "Another-long-pass-77",
    }
    assert parties["trader"].post("/api/v1/members/", new).status_code == 403
    assert parties["owner"].post("/api/v1/members/", new).status_code == 201


def test_api_keys_scoped_and_admin_only(parties, alice, charlie):
    response = parties["owner"].post("/api/v1/api-keys/", {"name": "ci", "scopes": ["read"]})
    assert response.status_code == 201
    key_id = response.json()["id"]
    assert (
        parties["trader"].post("/api/v1/api-keys/", {"name": "x", "scopes": ["read"]}).status_code
        == 403
    )
    assert parties["outsider"].get(f"/api/v1/api-keys/{key_id}/").status_code == 404
    assert parties["outsider"].post(f"/api/v1/api-keys/{key_id}/revoke/").status_code == 404
    assert ApiKey.objects.get(pk=key_id).revoked_at is None
    # The regulator manages its own keys (it needs them to read), never others'.
    assert (
        parties["regulator"]
        .post("/api/v1/api-keys/", {"name": "r", "scopes": ["read"]})
        .status_code
        == 201
    )


def test_webhooks_scoped_and_admin_only(parties):
    created = parties["owner"].post(
        "/api/v1/webhook-endpoints/", {"url": "https://hooks.alpha.example/wattbit"}
    )
    assert created.status_code == 201
    endpoint_id = created.json()["id"]
    assert (
        parties["viewer"]
        .post("/api/v1/webhook-endpoints/", {"url": "https://x.example/"})
        .status_code
        == 403
    )
    assert parties["outsider"].get(f"/api/v1/webhook-endpoints/{endpoint_id}/").status_code == 404
    assert (
        parties["outsider"]
        .patch(f"/api/v1/webhook-endpoints/{endpoint_id}/", {"is_active": False})
        .status_code
        == 404
    )
    assert WebhookEndpoint.objects.get(pk=endpoint_id).is_active


def test_api_key_scopes_limit_writes(alice, alpha_site):
    read_only, _ = key_client(alice, scopes=["read"])
    assert read_only.get("/api/v1/sites/").status_code == 200
    assert read_only.patch(f"/api/v1/sites/{alpha_site.pk}/", {"capacity_cu": 5}).status_code == 403
    trade, _ = key_client(alice, scopes=["read", "trade"])
    assert trade.patch(f"/api/v1/sites/{alpha_site.pk}/", {"capacity_cu": 5}).status_code == 200
    assert trade.post("/api/v1/api-keys/", {"name": "x", "scopes": ["read"]}).status_code == 403


def test_regulator_key_cannot_write_even_with_trade_scope(rita, alpha_site):
    client, _ = key_client(rita, scopes=["read", "trade"])
    assert client.get("/api/v1/sites/").status_code == 200
    assert client.patch(f"/api/v1/sites/{alpha_site.pk}/", {"capacity_cu": 1}).status_code == 403


def test_denied_writes_leave_no_audit_trace(parties, alpha_site):
    before = AuditEvent.objects.count()
    parties["viewer"].patch(f"/api/v1/sites/{alpha_site.pk}/", {"capacity_cu": 1})
    parties["outsider"].patch(f"/api/v1/sites/{alpha_site.pk}/", {"capacity_cu": 1})
    assert AuditEvent.objects.count() == before


def test_member_deactivation(parties, alice, bob, charlie):
    assert parties["trader"].delete(f"/api/v1/members/{bob.pk}/").status_code == 403
    assert parties["outsider"].delete(f"/api/v1/members/{bob.pk}/").status_code == 404
    assert parties["owner"].delete(f"/api/v1/members/{bob.pk}/").status_code == 204
    bob.user.refresh_from_db()
    assert not bob.user.is_active
    # The last admin cannot remove itself.
    response = parties["owner"].delete(f"/api/v1/members/{alice.pk}/")
    assert response.status_code == 400
    alice.user.refresh_from_db()
    assert alice.user.is_active
