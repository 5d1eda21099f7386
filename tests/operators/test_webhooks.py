"""Webhook signatures and the push client, against a small real HTTP receiver."""

from __future__ import annotations

import json
import socket
import time

import pytest

from market.services.dispatch import PUSH_THREADS, delivery_lease
from operators.webhooks import (
    SIGNATURE_HEADER,
    longest_attempt_s,
    post_json,
    signature_header,
    verify_signature,
)
from tests.support.receiver import Receiver

SECRET = "whsec_test_secret"


@pytest.fixture
def receiver():
    r = Receiver(secret=SECRET).start()
    yield r
    r.stop()


def test_signature_round_trip_and_tamper():
    body = b'{"order": 1}'
    now = int(time.time())
    header = signature_header(SECRET, body, now)
    assert verify_signature(SECRET, header, body)
    assert not verify_signature(SECRET, header, b'{"order": 2}')
    assert not verify_signature("whsec_other", header, body)
    assert not verify_signature(SECRET, "garbage", body)


def test_signature_rejects_replay_outside_tolerance():
    body = b"{}"
    old = int(time.time()) - 301
    assert not verify_signature(SECRET, signature_header(SECRET, body, old), body)
    assert verify_signature(SECRET, signature_header(SECRET, body, old), body, tolerance_s=400)


def test_post_reaches_receiver_and_signature_verifies(receiver):
    body = json.dumps({"order": "o-1"}).encode()
    headers = {
        SIGNATURE_HEADER: signature_header(SECRET, body, int(time.time())),
        "Idempotency-Key": "o-1:v1",
    }
    result = post_json(receiver.url, body, headers, allow_private=True)
    assert result.delivered and result.status_code == 200
    assert receiver.received[0]["body"] == {"order": "o-1"}
    assert receiver.rejected == 0


def test_bad_signature_is_refused_by_receiver(receiver):
    result = post_json(receiver.url, b"{}", {SIGNATURE_HEADER: "t=1,v1=00"}, allow_private=True)
    assert result.status_code == 401 and not result.delivered
    assert receiver.rejected == 1


def test_private_targets_refused_in_production_mode(receiver):
    result = post_json(receiver.url, b"{}", {}, allow_private=False)
    assert result.status_code is None and result.error.startswith("refused")
    assert receiver.received == []


def test_redirects_are_not_followed(receiver):
    receiver.status = 302
    body = b"{}"
    headers = {SIGNATURE_HEADER: signature_header(SECRET, body, int(time.time()))}
    result = post_json(receiver.url, body, headers, allow_private=True)
    assert result.status_code == 302 and not result.delivered


def test_slow_receiver_times_out_without_blocking(receiver):
    receiver.delay_s = 2.0
    body = b"{}"
    headers = {SIGNATURE_HEADER: signature_header(SECRET, body, int(time.time()))}
    started = time.monotonic()
    result = post_json(receiver.url, body, headers, timeout_s=0.3, allow_private=True)
    assert result.error == "timeout" and result.status_code is None
    assert time.monotonic() - started < 1.5


def test_receiver_down_is_an_error_not_an_exception():
    result = post_json("http://127.0.0.1:9/hook", b"{}", {}, timeout_s=1, allow_private=True)
    assert result.status_code is None and result.error


# --- A total deadline per attempt (issue 14) ---------------------------------------------


def _signed(body: bytes = b"{}") -> dict[str, str]:
    return {SIGNATURE_HEADER: signature_header(SECRET, body, int(time.time()))}


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
