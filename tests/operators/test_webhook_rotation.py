"""Rotating a webhook secret: the old one keeps signing for an overlap the participant sees
(API and portal), is stored encrypted like the current one, and stops when the overlap ends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from aggregator.platform.models import AuditEvent
from operators import services
from operators.choices import OperatorsAudit
from operators.crypto import decrypt_secret, webhook_signing_key
from operators.models import WebhookEndpoint
from operators.selectors import webhook_signing_keys
from tests.conftest import PASSWORD, actor_of, client_for

pytestmark = pytest.mark.django_db

URL = "https://hooks.alpha.example/wattbit"


@pytest.fixture
def created(alice):
    endpoint, secret = services.webhook_endpoint_create(actor=actor_of(alice), url=URL)
    return endpoint, secret


def _keys(endpoint, now):
    endpoint.refresh_from_db()
    return [k.key for k in webhook_signing_keys(endpoint=endpoint, now=now)]


def test_after_a_rotation_both_secrets_sign_until_the_overlap_ends(alice, created, settings):
    settings.WEBHOOK_SECRET_OVERLAP_HOURS = 24
    endpoint, old = created
    t0 = timezone.now()
    endpoint, new = services.webhook_endpoint_rotate_secret(
        actor=actor_of(alice), endpoint=endpoint, now=t0
    )
    assert new != old and new.startswith("whsec_")
    assert endpoint.previous_secret_expires_at == t0 + timedelta(hours=24)
    old_key, new_key = webhook_signing_key(old), webhook_signing_key(new)
    assert _keys(endpoint, t0) == [new_key, old_key]  # current first
    assert _keys(endpoint, t0 + timedelta(hours=23, minutes=59)) == [new_key, old_key]
    assert _keys(endpoint, t0 + timedelta(hours=24)) == [new_key]  # ends on the dot
    assert endpoint.previous_secret_signs_until(t0 + timedelta(hours=24)) is None


def test_the_old_secret_is_stored_encrypted_like_the_current_one(alice, created):
    endpoint, old = created
    endpoint, new = services.webhook_endpoint_rotate_secret(
        actor=actor_of(alice), endpoint=endpoint
    )
    assert decrypt_secret(endpoint.previous_secret_encrypted) == old
    assert decrypt_secret(endpoint.secret_encrypted) == new
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM operators_webhookendpoint")
        dump = repr(cursor.fetchall())
    for secret in (old, new):
        assert secret[6:20] not in dump  # neither secret in clear, nor its key's base64
    assert endpoint.previous_secret_prefix == old[:12] and endpoint.secret_prefix == new[:12]


def test_a_second_rotation_during_the_overlap_stops_the_oldest_at_once(alice, created):
    endpoint, first = created
    t0 = timezone.now()
    endpoint, second = services.webhook_endpoint_rotate_secret(
        actor=actor_of(alice), endpoint=endpoint, now=t0
    )
    endpoint, third = services.webhook_endpoint_rotate_secret(
        actor=actor_of(alice), endpoint=endpoint, now=t0 + timedelta(hours=1)
    )
    assert _keys(endpoint, t0 + timedelta(hours=1)) == [
        webhook_signing_key(third),
        webhook_signing_key(second),
    ]
    event = AuditEvent.objects.filter(code=OperatorsAudit.WEBHOOK_SECRET_ROTATED).last()
    assert event.payload["stopped_prefix"] == first[:12]
    assert event.payload["previous_prefix"] == second[:12]


def test_no_overlap_configured_means_the_old_secret_stops_at_once(alice, created, settings):
    settings.WEBHOOK_SECRET_OVERLAP_HOURS = 0
    endpoint, _old = created
    endpoint, new = services.webhook_endpoint_rotate_secret(
        actor=actor_of(alice), endpoint=endpoint
    )
    assert endpoint.previous_secret_encrypted is None
    assert _keys(endpoint, timezone.now()) == [webhook_signing_key(new)]


def test_an_unreadable_secret_is_not_kept_signing_after_a_rotation(alice, created):
    endpoint, _ = created
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(secret_encrypted=b"\0" * 40)
    endpoint.refresh_from_db()
    endpoint, new = services.webhook_endpoint_rotate_secret(
        actor=actor_of(alice), endpoint=endpoint
    )
    assert endpoint.previous_secret_encrypted is None
    assert _keys(endpoint, timezone.now()) == [webhook_signing_key(new)]


def test_the_audit_event_names_prefixes_and_the_overlap_never_a_secret(alice, created):
    endpoint, old = created
    endpoint, new = services.webhook_endpoint_rotate_secret(
        actor=actor_of(alice), endpoint=endpoint
    )
    event = AuditEvent.objects.filter(code=OperatorsAudit.WEBHOOK_SECRET_ROTATED).get()
    assert event.payload["prefix"] == new[:12]
    assert parse_datetime(event.payload["previous_signs_until"]) == (
        endpoint.previous_secret_expires_at
    )
    text = repr(list(AuditEvent.objects.values_list("payload", flat=True)))
    assert old[12:] not in text and new[12:] not in text


# --- The API --------------------------------------------------------------------------


def test_the_api_shows_until_when_the_old_secret_signs(alice):
    client = client_for(alice)
    created = client.post("/api/v1/webhook-endpoints/", {"url": URL}).json()
    assert created["secret"].startswith("whsec_") and created["secret_format"] == "standard"
    assert created["previous_secret_signs_until"] is None
    before = timezone.now()
    rotated = client.post(f"/api/v1/webhook-endpoints/{created['id']}/rotate-secret/")
    assert rotated.status_code == 200
    body = rotated.json()
    until = parse_datetime(body["previous_secret_signs_until"])
    assert before + timedelta(hours=24) <= until <= timezone.now() + timedelta(hours=24)
    assert body["endpoint"]["previous_secret_prefix"] == created["secret"][:12]
    assert body["endpoint"]["secret_prefix"] == body["secret"][:12]
    detail = client.get(f"/api/v1/webhook-endpoints/{created['id']}/").json()
    assert parse_datetime(detail["previous_secret_signs_until"]) == until
    # Secrets are never shown again, the old one neither.
    assert "secret" not in detail
    assert created["secret"] not in repr(detail) and body["secret"] not in repr(detail)


def test_once_the_overlap_is_over_the_api_says_no_old_secret_signs(alice, created):
    endpoint, _ = created
    services.webhook_endpoint_rotate_secret(
        actor=actor_of(alice), endpoint=endpoint, now=timezone.now() - timedelta(hours=25)
    )
    detail = client_for(alice).get(f"/api/v1/webhook-endpoints/{endpoint.pk}/").json()
    assert detail["previous_secret_signs_until"] is None
    assert detail["previous_secret_prefix"] is None


def test_only_the_owners_admin_rotates(alice, bob, charlie, created):
    endpoint, _ = created
    path = f"/api/v1/webhook-endpoints/{endpoint.pk}/rotate-secret/"
    assert client_for(bob).post(path).status_code == 403  # a viewer of the owner
    assert client_for(charlie).post(path).status_code == 404  # another organisation
    endpoint.refresh_from_db()
    assert endpoint.previous_secret_encrypted is None
    assert not AuditEvent.objects.filter(code=OperatorsAudit.WEBHOOK_SECRET_ROTATED).exists()


# --- The portal -----------------------------------------------------------------------


def _portal(membership, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    assert client.login(username=membership.user.username, password=PASSWORD)
    return client


@pytest.mark.parametrize(
    ("language", "until_text"),
    [
        ("en", "still signs beside the new one until"),
        ("ja", "新しいシークレットと並んで署名します"),
    ],
)
def test_the_portal_rotates_shows_the_new_secret_once_and_the_overlap(
    alice, created, language, until_text
):
    endpoint, old = created
    client = _portal(alice, language)
    page = client.post(f"/webhooks/{endpoint.pk}/rotate/").content.decode()
    endpoint.refresh_from_db()
    new = decrypt_secret(endpoint.secret_encrypted)
    until = timezone.localtime(endpoint.previous_secret_expires_at).strftime("%Y-%m-%d %H:%M")
    assert new in page and old not in page
    assert until_text in page and until in page and old[:12] in page
    # Afterwards the list shows the overlap, never the secret.
    listed = client.get("/webhooks/").content.decode()
    assert new not in listed and until in listed and old[:12] in listed


def test_the_portal_marks_a_legacy_secret(alice, created):
    endpoint, _ = created
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(secret_legacy=True)
    page = _portal(alice).get("/webhooks/").content.decode()
    assert "Issued before Standard Webhooks" in page


def test_a_viewer_sees_no_rotate_button_and_cannot_rotate(bob, created):
    endpoint, _ = created
    client = _portal(bob)
    assert "Rotate secret" not in client.get("/webhooks/").content.decode()
    assert client.post(f"/webhooks/{endpoint.pk}/rotate/").status_code == 403


def test_the_admin_shows_neither_encrypted_secret(alice, created):
    endpoint, _ = created
    endpoint, _new = services.webhook_endpoint_rotate_secret(
        actor=actor_of(alice), endpoint=endpoint
    )
    root = get_user_model().objects.create_superuser("root", "root@example.jp", "pw-9-long-x")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(root)
    page = client.get(f"/admin/operators/webhookendpoint/{endpoint.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "secret_encrypted" not in html and "Previous secret encrypted" not in html
    assert "previous_secret_expires_at" in html or "Previous secret expires at" in html
