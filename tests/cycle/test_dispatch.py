"""Pushing orders to a real local receiver: signed (verified by the receiver with the
`standardwebhooks` package), once per key, retried, given up in time; secret rotation."""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks import Webhook, WebhookVerificationError

from aggregator.exchange.cycle import run_clear_interval
from market import calendar
from market.models.dispatch import DeliveryAttempt, DeliveryState, DispatchOrder, OrderDelivery
from market.services.dispatch import backoff_delay, deliveries_push_due, orders_flag_unacknowledged
from operators import services as op
from operators.crypto import encrypt_secret, legacy_secret_as_standard, new_webhook_secret
from operators.models import WebhookEndpoint
from operators.webhooks import longest_attempt_s
from tests.conftest import actor_of
from tests.cycle.conftest import gate, register_webhook

pytestmark = pytest.mark.django_db


def test_orders_pushed_signed_with_idempotency_keys(market, receiver):
    register_webhook(market.charlie, receiver)
    k = market.k(0)
    run = run_clear_interval(interval_start=k, now=gate(k)).run
    summary = deliveries_push_due(now=gate(k) + timedelta(seconds=1))
    assert summary.delivered == 1 and summary.failed == 0
    (got,) = receiver.received
    order = DispatchOrder.objects.get(run=run, organisation__slug="beta")
    assert got["headers"]["Idempotency-Key"] == order.idempotency_key
    assert got["headers"]["webhook-id"] == order.idempotency_key
    assert abs(int(got["headers"]["webhook-timestamp"]) - time.time()) < 60
    assert "Wattbit-Signature" not in got["headers"]  # a new endpoint: Standard Webhooks only
    assert got["body"]["kind"] == "hosting" and got["body"]["site"] == "beta-kyu-1"
    assert got["body"]["lines"][0]["cu"] == "32.0"  # the API's convention: decimal strings
    assert got["body"]["interval_start"] == calendar.to_jst(k).isoformat()  # and JST
    assert receiver.rejected == 0  # the receiver verified it with standardwebhooks
    delivery = OrderDelivery.objects.get(order=order)
    assert delivery.state == DeliveryState.DELIVERED and delivery.attempts == 1
    attempt = DeliveryAttempt.objects.get(delivery=delivery)
    assert attempt.status_code == 200 and attempt.latency_ms >= 0
    # A second relay pass sends nothing more.
    assert deliveries_push_due(now=gate(k) + timedelta(seconds=30)).attempted == 0
    assert len(receiver.received) == 1


def test_receiver_down_then_back_delivers_exactly_once(market, receiver):
    register_webhook(market.charlie, receiver)
    k = market.k(0)
    run_clear_interval(interval_start=k, now=gate(k))
    receiver.status = 503
    t = gate(k) + timedelta(seconds=1)
    first = deliveries_push_due(now=t)
    assert first.failed == 1 and receiver.received == []
    delivery = OrderDelivery.objects.get()
    assert delivery.state == DeliveryState.PENDING and delivery.next_attempt_at > t
    # Not due yet: nothing is sent before the backoff elapses.
    assert deliveries_push_due(now=t + timedelta(milliseconds=500)).attempted == 0
    receiver.status = 200
    for _ in range(10):
        t += timedelta(seconds=130)
        deliveries_push_due(now=t)
    assert len(receiver.received) == 1 and receiver.duplicates == 0
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DELIVERED
    assert [a.status_code for a in delivery.attempt_log.all()] == [503, 200]


def test_undeliverable_order_expires_when_the_interval_starts(market, receiver):
    register_webhook(market.charlie, receiver)
    k = market.k(0)
    run_clear_interval(interval_start=k, now=gate(k))
    receiver.status = 500
    t = gate(k)
    while t < k + timedelta(minutes=1):
        deliveries_push_due(now=t)
        t += timedelta(seconds=100)
    delivery = OrderDelivery.objects.get()
    assert delivery.state == DeliveryState.EXPIRED
    attempts = delivery.attempt_log.count()
    assert 1 <= attempts <= 40
    deliveries_push_due(now=k + timedelta(minutes=5))
    assert delivery.attempt_log.count() == attempts


def test_slow_receiver_times_out_and_is_retried(market, receiver, settings):
    settings.WEBHOOK_TIMEOUT_S = 1
    register_webhook(market.charlie, receiver)
    k = market.k(0)
    run_clear_interval(interval_start=k, now=gate(k))
    receiver.delay_s = 2.5
    summary = deliveries_push_due(now=gate(k))
    assert summary.failed == 1
    assert OrderDelivery.objects.get().last_error == "timeout"


def test_crashed_sender_lease_expires_and_delivery_resumes(market, receiver):
    register_webhook(market.charlie, receiver)
    k = market.k(0)
    run_clear_interval(interval_start=k, now=gate(k))
    t = gate(k)
    # A sender claimed the delivery and died before recording anything.
    OrderDelivery.objects.update(
        state=DeliveryState.SENDING, claimed_until=t + timedelta(seconds=40)
    )
    assert deliveries_push_due(now=t + timedelta(seconds=10)).attempted == 0
    assert deliveries_push_due(now=t + timedelta(seconds=41)).delivered == 1


def test_backoff_grows_and_is_capped():
    import random

    rng = random.Random(1)
    delays = [backoff_delay(n, rng).total_seconds() for n in range(1, 12)]
    assert delays[0] < 3.1 and max(delays) <= 180
    assert delays[5] > delays[0]


def test_unacknowledged_orders_flagged_at_interval_start(market):
    k = market.k(0)
    run_clear_interval(interval_start=k, now=gate(k))
    assert orders_flag_unacknowledged(now=k - timedelta(seconds=1)) == 0
    assert orders_flag_unacknowledged(now=k) == 5
    assert orders_flag_unacknowledged(now=k + timedelta(minutes=1)) == 0


def test_a_trickling_receiver_releases_the_push_at_its_deadline(market, receiver, settings):
    # Issue 14: one header byte at a time held a push for 40 s with a 5 s timeout.
    settings.WEBHOOK_TIMEOUT_S = 1
    register_webhook(market.charlie, receiver)
    k = market.k(0)
    run_clear_interval(interval_start=k, now=gate(k))
    receiver.trickle_s = 0.05
    started = time.monotonic()
    summary = deliveries_push_due(now=gate(k))
    elapsed = time.monotonic() - started
    assert summary.failed == 1 and elapsed < longest_attempt_s(1) + 1, elapsed
    attempt = DeliveryAttempt.objects.get()
    assert attempt.error == "timeout" and 1000 <= attempt.latency_ms < 1000 * longest_attempt_s(1)
    delivery = OrderDelivery.objects.get()
    assert delivery.state == DeliveryState.PENDING and delivery.claimed_until is None
    assert receiver.requests == 1 and receiver.max_in_flight == 1


def test_a_stored_target_embedding_a_private_ipv4_is_refused_at_delivery(market, settings):
    # Registered while private targets were allowed (the demo); production refuses to push.
    op.webhook_endpoint_create(
        actor=actor_of(market.charlie), url="https://[64:ff9b::a9fe:a9fe]/latest/meta-data/"
    )
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    k = market.k(0)
    run_clear_interval(interval_start=k, now=gate(k))
    assert deliveries_push_due(now=gate(k)).failed == 1
    attempt = DeliveryAttempt.objects.get()
    assert attempt.status_code is None and attempt.error.startswith("refused:")
    assert "169.254.169.254" in attempt.error


# --- Secret rotation: both secrets sign for the overlap, then only the new one ----------


def _rotate(market, *, hours_ago: float = 0):
    endpoint = WebhookEndpoint.objects.get(organisation__slug="beta")
    return op.webhook_endpoint_rotate_secret(
        actor=actor_of(market.charlie),
        endpoint=endpoint,
        now=timezone.now() - timedelta(hours=hours_ago),
    )


def _verifies(secret: str, raw: tuple[bytes, dict]) -> bool:
    body, headers = raw
    try:
        Webhook(secret).verify(body, headers)
    except WebhookVerificationError:
        return False
    return True


def test_during_the_overlap_the_old_and_the_new_secret_each_verify_alone(market, receiver):
    old = register_webhook(market.charlie, receiver)
    endpoint, new = _rotate(market)
    assert endpoint.previous_secret_expires_at > timezone.now() + timedelta(hours=23)
    # The receiver has not switched yet: it holds only the old secret, and it is served.
    k = market.k(0)
    run_clear_interval(interval_start=k, now=gate(k))
    assert deliveries_push_due(now=gate(k)).delivered == 1
    assert receiver.rejected == 0
    ((body, headers),) = receiver.raw
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert _verifies(old, (body, headers)) and _verifies(new, (body, headers))
    assert not _verifies(new_webhook_secret(), (body, headers))


def test_after_the_overlap_only_the_new_secret_signs(market, receiver, settings):
    settings.WEBHOOK_SECRET_OVERLAP_HOURS = 24
    old = register_webhook(market.charlie, receiver)
    _endpoint, new = _rotate(market, hours_ago=24.01)  # the overlap ended a moment ago
    k = market.k(0)
    run_clear_interval(interval_start=k, now=gate(k))
    # A receiver still holding only the old secret now refuses the push…
    assert deliveries_push_due(now=gate(k)).failed == 1
    assert receiver.rejected == 1 and receiver.errors == ["No matching signature found"]
    ((body, headers),) = receiver.raw
    assert len(headers["webhook-signature"].split(" ")) == 1
    assert _verifies(new, (body, headers)) and not _verifies(old, (body, headers))
    # …and once it switches to the new secret, the retry is delivered.
    receiver.secret = new
    assert deliveries_push_due(now=gate(k) + timedelta(seconds=130)).delivered == 1


def test_a_legacy_endpoint_keeps_the_old_header_until_its_overlap_ends(market, receiver):
    # An endpoint from before Standard Webhooks, as migration operators 0004 leaves it.
    legacy = "whsec_" + "Ab-_" * 10 + "xyz"
    endpoint, _ = op.webhook_endpoint_create(actor=actor_of(market.charlie), url=receiver.url)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        secret_encrypted=encrypt_secret(legacy_secret_as_standard(legacy)), secret_legacy=True
    )
    receiver.secret = legacy_secret_as_standard(legacy)
    k = market.k(0)
    run_clear_interval(interval_start=k, now=gate(k))
    assert deliveries_push_due(now=gate(k)).delivered == 1
    ((first_body, first),) = receiver.raw
    assert _old_rule_verifies(legacy, first_body, first["Wattbit-Signature"])
    assert _verifies(legacy_secret_as_standard(legacy), (first_body, first))
    # After a rotation the legacy secret still signs both headers during the overlap.
    _endpoint, new = _rotate(market)
    receiver.secret = new
    OrderDelivery.objects.update(state=DeliveryState.PENDING, next_attempt_at=gate(k))
    assert deliveries_push_due(now=gate(k)).delivered == 1
    second_body, second = receiver.raw[1]
    assert len(second["webhook-signature"].split(" ")) == 2
    assert _old_rule_verifies(legacy, second_body, second["Wattbit-Signature"])
    # Once the overlap is over, the old header goes with the legacy secret.
    WebhookEndpoint.objects.update(previous_secret_expires_at=timezone.now())
    OrderDelivery.objects.update(state=DeliveryState.PENDING, next_attempt_at=gate(k))
    assert deliveries_push_due(now=gate(k)).delivered == 1
    _body, third = receiver.raw[2]
    assert "Wattbit-Signature" not in third and len(third["webhook-signature"].split(" ")) == 1


def _old_rule_verifies(secret: str, body: bytes, header: str) -> bool:
    """The pre-Standard check as the old docs told receivers to write it."""
    fields = dict(item.split("=", 1) for item in header.split(","))
    expected = hmac.new(secret.encode(), f"{fields['t']}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), fields["v1"])


def test_an_unreadable_secret_fails_its_delivery_and_not_the_batch(market, receiver):
    register_webhook(market.charlie, receiver)
    WebhookEndpoint.objects.update(secret_encrypted=b"\0" * 40)  # e.g. another SECRET_KEY
    k = market.k(0)
    run_clear_interval(interval_start=k, now=gate(k))
    assert deliveries_push_due(now=gate(k)).failed == 1
    attempt = DeliveryAttempt.objects.get()
    assert attempt.error.startswith("cannot sign") and receiver.requests == 0
