"""The demo's stand-in receiver (DEBUG only) verifies Standard Webhooks pushes with the
organisation's signing secrets, both of them during a rotation's overlap."""

from __future__ import annotations

import time

import pytest
from django.test import Client
from django.utils import timezone

from operators import services
from operators.crypto import new_webhook_secret, webhook_signing_key
from operators.selectors import webhook_signing_keys
from operators.webhooks import SigningKey, signed_headers
from tests.conftest import actor_of

pytestmark = pytest.mark.django_db

BODY = b'{"order": 1}'


def _post(headers: dict[str, str], body: bytes = BODY):
    return Client().post(
        "/demo/receiver/alpha/", data=body, content_type="application/json", headers=headers
    )


def test_the_demo_receiver_accepts_our_pushes_and_refuses_others(alice, settings):
    settings.DEBUG = True
    endpoint, _secret = services.webhook_endpoint_create(
        actor=actor_of(alice), url="https://hooks.alpha.example/"
    )
    endpoint, _new = services.webhook_endpoint_rotate_secret(
        actor=actor_of(alice), endpoint=endpoint
    )
    keys = webhook_signing_keys(endpoint=endpoint, now=timezone.now())
    assert len(keys) == 2
    t = int(time.time())
    for key in keys:  # signed by either secret alone, it verifies
        assert _post(signed_headers([key], "ord-1-v1", BODY, t)).status_code == 200
    stranger = SigningKey(webhook_signing_key(new_webhook_secret()))
    assert _post(signed_headers([stranger], "ord-1-v1", BODY, t)).status_code == 401
    assert _post(signed_headers(keys, "ord-1-v1", BODY, t), b"{}").status_code == 401
    assert _post(signed_headers(keys, "ord-1-v1", BODY, t - 400)).status_code == 401


def test_the_demo_receiver_is_not_there_in_production(alice, settings):
    settings.DEBUG = False
    assert _post({}).status_code == 404
