"""API keys: shown once, stored only as a hash, revocable, last use recorded."""

from __future__ import annotations

import hashlib

import pytest
from django.db import connection
from rest_framework.test import APIClient

from operators.models import ApiKey, WebhookEndpoint
from tests.conftest import client_for, key_client

pytestmark = pytest.mark.django_db


def test_key_shown_once_and_stored_hashed(alice):
    client = client_for(alice)
    created = client.post("/api/v1/api-keys/", {"name": "ops", "scopes": ["read"]}).json()
    key = created["key"]
    assert key.startswith(created["prefix"] + ".")
    row = ApiKey.objects.get(pk=created["id"])
    assert row.secret_sha256 == hashlib.sha256(key.encode()).hexdigest()
    secret_part = key.split(".", 1)[1]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM operators_apikey")
        dump = repr(cursor.fetchall())
    assert secret_part not in dump
    # Never shown again: neither in the list nor in the detail.
    listed = client.get("/api/v1/api-keys/").json()["results"]
    assert all("key" not in item for item in listed)
    assert "key" not in client.get(f"/api/v1/api-keys/{row.pk}/").json()


def test_key_authenticates_and_records_last_use(alice, alpha_site):
    client, key = key_client(alice, scopes=["read"])
    assert ApiKey.objects.get(prefix=key.split(".")[0]).last_used_at is None
    assert client.get("/api/v1/sites/").status_code == 200
    assert ApiKey.objects.get(prefix=key.split(".")[0]).last_used_at is not None


def test_revoked_key_stops_working_at_once(alice):
    client, key = key_client(alice, scopes=["read", "admin"])
    assert client.get("/api/v1/sites/").status_code == 200
    prefix = key.split(".")[0]
    key_id = ApiKey.objects.get(prefix=prefix).pk
    revoked = client_for(alice).post(f"/api/v1/api-keys/{key_id}/revoke/")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    response = client.get("/api/v1/sites/")
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid or revoked API key."


@pytest.mark.parametrize("header", ["Api-Key nonsense", "Api-Key wb_00000000.abc", "Api-Key "])
def test_bad_keys_get_the_same_401(header, alice):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/sites/")
    assert response.status_code == 401


def test_tampered_key_with_valid_prefix_refused(alice):
    _client, key = key_client(alice, scopes=["read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key[:-2]}xx")
    assert client.get("/api/v1/sites/").status_code == 401


def test_key_scopes_validated(alice):
    response = client_for(alice).post("/api/v1/api-keys/", {"name": "x", "scopes": ["root"]})
    assert response.status_code == 400
    assert ApiKey.objects.count() == 0


def test_webhook_secret_shown_once_and_encrypted(alice):
    client = client_for(alice)
    created = client.post(
        "/api/v1/webhook-endpoints/", {"url": "https://hooks.example.jp/x"}
    ).json()
    secret = created["secret"]
    endpoint = WebhookEndpoint.objects.get(pk=created["id"])
    assert secret.encode() not in bytes(endpoint.secret_encrypted)
    from operators.crypto import decrypt_secret

    assert decrypt_secret(endpoint.secret_encrypted) == secret
    assert "secret" not in client.get(f"/api/v1/webhook-endpoints/{endpoint.pk}/").json()
    rotated = client.post(f"/api/v1/webhook-endpoints/{endpoint.pk}/rotate-secret/").json()[
        "secret"
    ]
    endpoint.refresh_from_db()
    assert rotated != secret and decrypt_secret(endpoint.secret_encrypted) == rotated
