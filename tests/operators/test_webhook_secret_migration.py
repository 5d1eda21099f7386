"""Migration operators 0004: secrets issued before Standard Webhooks are re-encoded with the
same key, so old receivers keep verifying and new ones verify with a library; reversible."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from standardwebhooks import Webhook

from operators.crypto import decrypt_secret, encrypt_secret, legacy_secret_as_standard
from operators.models import WebhookEndpoint
from operators.selectors import webhook_signing_keys
from operators.webhooks import LEGACY_SIGNATURE_HEADER, signed_headers

BEFORE = [("operators", "0002_reference_areas_and_zones")]
AFTER = [("operators", "0004_webhook_secrets_standard")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _old_secret() -> str:
    """Exactly what operators.crypto.new_webhook_secret issued before this change."""
    return "whsec_" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def _old_rule(secret: str, body: bytes, t: int) -> str:
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


@pytest.mark.django_db(transaction=True)
def test_old_secrets_keep_their_key_and_verify_both_ways_after_the_migration(
    reference_data, alpha, capsys
):
    old_secrets = [_old_secret() for _ in range(12)]
    # At least one that a Standard Webhooks library cannot even read (73 % of them).
    old_secrets[0] = "whsec_-_" + old_secrets[0][8:]
    try:
        old = _migrate(BEFORE)
        endpoint_model = old.get_model("operators", "WebhookEndpoint")
        ids = [
            endpoint_model.objects.create(
                organisation_id=alpha.pk,
                url=f"https://hooks.alpha.example/{i}",
                secret_encrypted=encrypt_secret(secret),
                secret_prefix=secret[:12],
            ).pk
            for i, secret in enumerate(old_secrets)
        ]
        unreadable = endpoint_model.objects.create(
            organisation_id=alpha.pk,
            url="https://hooks.alpha.example/x",
            secret_encrypted=b"\0" * 40,
            secret_prefix="whsec_xxxxxx",
        )
    finally:
        _migrate(AFTER)
    body, t = b'{"order": 1}', int(time.time())
    for pk, old_secret in zip(ids, old_secrets, strict=True):
        endpoint = WebhookEndpoint.objects.get(pk=pk)
        stored = decrypt_secret(endpoint.secret_encrypted)
        assert endpoint.secret_legacy and endpoint.secret_prefix == old_secret[:12]
        assert stored == legacy_secret_as_standard(old_secret)
        assert base64.b64decode(stored[6:], validate=True) == old_secret.encode()
        headers = signed_headers(
            webhook_signing_keys(endpoint=endpoint, now=timezone.now()), "o-1", body, t
        )
        # A receiver on the old docs: unchanged secret, unchanged header, still verifies.
        assert headers[LEGACY_SIGNATURE_HEADER] == _old_rule(old_secret, body, t)
        # A receiver moving to a library: the re-encoded secret, or the old one as raw key.
        Webhook(stored).verify(body, headers)
        Webhook(old_secret.encode()).verify(body, headers)
    # The unreadable one is left as it was, and named.
    assert bytes(WebhookEndpoint.objects.get(pk=unreadable.pk).secret_encrypted) == b"\0" * 40
    assert f"[{unreadable.pk}]" in capsys.readouterr().out
    # Backwards: the old strings come back.
    try:
        _migrate(BEFORE)
        with connection.cursor() as cursor:
            cursor.execute("SELECT id, secret_encrypted FROM operators_webhookendpoint ORDER BY id")
            back = {pk: decrypt_secret(blob) for pk, blob in cursor.fetchall() if pk in ids}
        assert [back[pk] for pk in ids] == old_secrets
    finally:
        _migrate(AFTER)
