"""Webhook signatures (checked with the `standardwebhooks` package from PyPI, a verifier
nobody here wrote) and the push client, against a small real HTTP receiver."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import time
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from market.services.dispatch import PUSH_THREADS, delivery_lease
from operators.crypto import (
    legacy_secret_as_standard,
    new_webhook_secret,
    standard_secret_as_legacy,
    webhook_signing_key,
)
from operators.webhooks import (
    LEGACY_SIGNATURE_HEADER,
    SigningKey,
    longest_attempt_s,
    post_json,
    sign_v1,
    signed_headers,
    verify_standard,
)
from tests.support.receiver import Receiver

SECRET = new_webhook_secret()
KEY = SigningKey(webhook_signing_key(SECRET))


@pytest.fixture
def receiver():
    r = Receiver(secret=SECRET).start()
    yield r
    r.stop()


def _signed(body: bytes = b"{}", msg_id: str = "ord-1-2-hosting-3-v1") -> dict[str, str]:
    return signed_headers([KEY], msg_id, body, int(time.time()))


def test_new_secrets_are_whsec_and_standard_base64_of_32_random_bytes():
    secrets = {new_webhook_secret() for _ in range(200)}
    assert len(secrets) == 200
    for secret in secrets:
        assert secret.startswith("whsec_")
        raw = base64.b64decode(secret[6:], validate=True)  # standard alphabet, padded
        assert len(raw) == 32  # Standard Webhooks: 24–64 bytes
        assert Webhook(secret)._whsecret == raw  # what the reference library uses as the key


def test_signatures_verify_with_the_reference_library_and_tampering_fails():
    body = b'{"order": 1}'
    headers = _signed(body)
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(SECRET).verify(body, headers) == {"order": 1}
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(b'{"order": 2}', headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_webhook_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):  # the id is signed too
        Webhook(SECRET).verify(body, {**headers, "webhook-id": "ord-9-v1"})
    assert verify_standard([KEY.key], headers, body)
    assert not verify_standard([KEY.key], headers, b"{}")
    assert not verify_standard([KEY.key], {**headers, "webhook-signature": "v1,AAAA"}, body)
    assert not verify_standard([KEY.key], {**headers, "webhook-timestamp": "soon"}, body)


def test_our_signature_is_the_reference_librarys_byte_for_byte():
    body = '{"kw": "日本"}'.encode()
    moment = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    ours = sign_v1(KEY.key, "ord-7-v2", int(moment.timestamp()), body)
    assert ours == Webhook(SECRET).sign("ord-7-v2", moment, body)


def test_two_keys_give_two_space_separated_signatures_each_verifying_alone():
    other = new_webhook_secret()
    keys = [KEY, SigningKey(webhook_signing_key(other))]
    headers = signed_headers(keys, "ord-1-v1", b"{}", int(time.time()))
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(SECRET).verify(b"{}", headers)
    Webhook(other).verify(b"{}", headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_webhook_secret()).verify(b"{}", headers)


def test_old_timestamps_are_refused_by_the_reference_library():
    body = b"{}"
    old = signed_headers([KEY], "ord-1-v1", body, int(time.time()) - 301)
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(SECRET).verify(body, old)
    assert not verify_standard([KEY.key], old, body)
    assert verify_standard([KEY.key], old, body, tolerance_s=400)


def test_an_id_with_a_dot_is_refused_when_signing():
    # "{id}.{t}.{body}": an id holding "." could make one signature stand for another message.
    with pytest.raises(ValueError, match=r"no '\.'"):
        sign_v1(KEY.key, "ord.1", 1, b"{}")


def _old_rule(secret: str, body: bytes, t: int) -> str:
    """The pre-Standard scheme exactly as receivers implemented it from the old docs."""
    return hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()


def test_a_legacy_secret_keeps_its_key_and_signs_both_headers():
    legacy = "whsec_" + base64.urlsafe_b64encode(b"\xfb" * 32).decode().rstrip("=")
    assert "-" in legacy or "_" in legacy[6:]  # not standard base64
    with pytest.raises(ValueError):  # the reference library cannot even read it
        Webhook(legacy)
    converted = legacy_secret_as_standard(legacy)
    assert standard_secret_as_legacy(converted) == legacy
    assert webhook_signing_key(converted) == legacy.encode()  # the same key as before
    body, t = b'{"order": 3}', int(time.time())
    headers = signed_headers(
        [SigningKey(webhook_signing_key(converted), legacy=True)], "ord-3-v1", body, t
    )
    # Old receivers: the Wattbit-Signature header still verifies with the secret they hold.
    assert headers[LEGACY_SIGNATURE_HEADER] == f"t={t},v1={_old_rule(legacy, body, t)}"
    # Receivers moving to a library: the converted string, or the old one as a raw key.
    Webhook(converted).verify(body, headers)
    Webhook(legacy.encode()).verify(body, headers)


def test_standard_secrets_send_no_legacy_header():
    assert LEGACY_SIGNATURE_HEADER not in _signed()


def test_post_reaches_receiver_and_signature_verifies(receiver):
    body = json.dumps({"order": "o-1"}).encode()
    result = post_json(receiver.url, body, _signed(body, "o-1-v1"), allow_private=True)
    assert result.delivered and result.status_code == 200
    assert receiver.received[0]["body"] == {"order": "o-1"}
    assert receiver.rejected == 0


def test_bad_signature_is_refused_by_receiver(receiver):
    forged = {**_signed(), "webhook-signature": "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="}
    result = post_json(receiver.url, b"{}", forged, allow_private=True)
    assert result.status_code == 401 and not result.delivered
    assert receiver.rejected == 1


def test_private_targets_refused_in_production_mode(receiver):
    result = post_json(receiver.url, b"{}", {}, allow_private=False)
    assert result.status_code is None and result.error.startswith("refused")
    assert receiver.received == []


def test_redirects_are_not_followed(receiver):
    receiver.status = 302
    result = post_json(receiver.url, b"{}", _signed(), allow_private=True)
    assert result.status_code == 302 and not result.delivered


def test_slow_receiver_times_out_without_blocking(receiver):
    receiver.delay_s = 2.0
    started = time.monotonic()
    result = post_json(receiver.url, b"{}", _signed(), timeout_s=0.3, allow_private=True)
    assert result.error == "timeout" and result.status_code is None
    assert time.monotonic() - started < 1.5


def test_receiver_down_is_an_error_not_an_exception():
    result = post_json("http://127.0.0.1:9/hook", b"{}", {}, timeout_s=1, allow_private=True)
    assert result.status_code is None and result.error


# --- A total deadline per attempt (issue 14) ---------------------------------------------


def test_a_trickling_receiver_is_cut_off_at_the_total_deadline(receiver):
    # One byte every 50 ms: every single read succeeds well within the timeout, so only a
    # deadline on the whole attempt stops the sender (the answer would take ~11 s).
    receiver.trickle_s = 0.05
    started = time.monotonic()
    result = post_json(receiver.url, b"{}", _signed(), timeout_s=1.0, allow_private=True)
    elapsed = time.monotonic() - started
    assert result.error == "timeout" and result.status_code is None
    assert 1.0 <= elapsed < longest_attempt_s(1.0), elapsed
    assert 1000 <= result.latency_ms < longest_attempt_s(1.0) * 1000
    assert receiver.trickled_bytes >= 5  # bytes did keep arriving


def test_a_hanging_name_lookup_counts_against_the_deadline(monkeypatch):
    # The system resolver cannot be made to hang here; stand in for one that does.
    real = socket.getaddrinfo

    def slow(host, *args, **kwargs):
        if host == "hooks.example.invalid":
            time.sleep(3)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", slow)
    started = time.monotonic()
    result = post_json("https://hooks.example.invalid/x", b"{}", {}, timeout_s=0.5)
    assert result.error == "timeout"
    assert time.monotonic() - started < longest_attempt_s(0.5)


@pytest.mark.parametrize("batch", [1, 8, 9, 2000])
def test_the_delivery_lease_outlasts_every_attempt_of_its_batch(receiver, batch):
    receiver.trickle_s = 0.05
    started = time.monotonic()
    outcome = post_json(receiver.url, b"{}", _signed(), timeout_s=0.5, allow_private=True)
    measured = time.monotonic() - started
    assert outcome.error == "timeout" and measured <= longest_attempt_s(0.5)
    rounds = -(-batch // PUSH_THREADS)
    assert delivery_lease(batch, 0.5).total_seconds() > rounds * longest_attempt_s(0.5)
