"""Pushing orders to webhooks (the outbox relay), acknowledgements, and unacknowledged flags.

Network I/O never happens inside a transaction: a delivery is claimed with a short lease
(compare-and-set), pushed, then its attempt is recorded. A sender that dies mid-push leaves
the lease to expire and the delivery is pushed again with the same Idempotency-Key.
"""

from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.exceptions import InvalidTag
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from aggregator.engine.canonical import canonical_json_bytes
from aggregator.platform.access import Scope
from aggregator.platform.audit import audit_record
from aggregator.platform.errors import Conflict, Forbidden, InvalidInput, NotFound
from market.choices import MarketAudit
from market.models.dispatch import (
    AckState,
    DeliveryAttempt,
    DeliveryState,
    DispatchOrder,
    OrderDelivery,
)
from market.services.orders import order_payload
from operators.actors import Actor
from operators.models import WebhookEndpoint
from operators.selectors import webhook_signing_keys
from operators.webhooks import (
    PushResult,
    longest_attempt_s,
    post_json,
    signed_headers,
)

BACKOFF_BASE_S = 2.0
BACKOFF_CAP_S = 120.0
PUSH_THREADS = 8
# Building the requests before the pushes and recording the attempts after them.
LEASE_MARGIN_S = 30.0


def delivery_lease(batch: int, timeout_s: float) -> timedelta:
    """How long a batch's claims last: longer than the batch can possibly take.

    The batch is sent PUSH_THREADS at a time, and each attempt ends by its total deadline
    (`longest_attempt_s`: post_json enforces it however slowly a receiver answers), so the
    relay never takes over a delivery whose push is still in flight — nor the batch's tail
    before it was sent.
    """
    rounds = max(1, -(-batch // PUSH_THREADS))
    return timedelta(seconds=longest_attempt_s(timeout_s) * rounds + LEASE_MARGIN_S)


def backoff_delay(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with ±50 % jitter, so receivers coming back are not stampeded."""
    base = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** max(0, attempts - 1))
    return timedelta(seconds=base * (0.5 + (rng or random).random()))


@dataclass
class PushSummary:
    attempted: int = 0
    delivered: int = 0
    failed: int = 0
    expired: int = 0


def _expire_started(now: datetime) -> int:
    """Orders for an interval that has started are no longer worth pushing."""
    return OrderDelivery.objects.filter(
        state__in=(DeliveryState.PENDING, DeliveryState.SENDING), order__interval_start__lte=now
    ).update(state=DeliveryState.EXPIRED, claimed_until=None)


def _claim(delivery_id: int, now: datetime, clock: datetime, lease: timedelta) -> bool:
    due = Q(state=DeliveryState.PENDING, next_attempt_at__lte=now) | Q(
        state=DeliveryState.SENDING, claimed_until__lt=clock
    )
    return (
        OrderDelivery.objects.filter(due, pk=delivery_id).update(
            state=DeliveryState.SENDING, claimed_until=clock + lease
        )
        == 1
    )


@dataclass(frozen=True)
class _Push:
    endpoint: WebhookEndpoint
    body: bytes
    msg_id: str


def _prepare(delivery: OrderDelivery) -> _Push:
    """Everything a push needs from the database, read before the pushes start."""
    body = canonical_json_bytes(order_payload(delivery.order))
    return _Push(delivery.endpoint, body, delivery.order.idempotency_key)


def _headers(push: _Push) -> dict[str, str]:
    # Signed just before sending, not when the batch was read: a batch's tail may go out
    # minutes later (slow receivers), and receivers refuse timestamps 5 minutes off. Which
    # secrets sign is decided at the same instant (a rotation's overlap ends on time). The
    # wall clock, not the market clock: receivers check the timestamp against theirs.
    wall = time.time()
    keys = webhook_signing_keys(endpoint=push.endpoint, now=datetime.fromtimestamp(wall, UTC))
    return {
        **signed_headers(keys, push.msg_id, push.body, int(wall)),
        # The same value as webhook-id, kept for receivers that dedupe on it.
        "Idempotency-Key": push.msg_id,
        "User-Agent": "wattbit-dispatch/1",
    }


@transaction.atomic
def _record(delivery: OrderDelivery, outcome: PushResult, now: datetime) -> str:
    number = delivery.attempts + 1
    DeliveryAttempt.objects.create(
        delivery=delivery,
        number=number,
        attempted_at=now,
        status_code=outcome.status_code,
        latency_ms=outcome.latency_ms,
        error=outcome.error[:300],
    )
    changes = {
        "attempts": number,
        "last_status_code": outcome.status_code,
        "last_error": outcome.error[:300],
        "claimed_until": None,
    }
    if outcome.delivered:
        changes.update(state=DeliveryState.DELIVERED, delivered_at=now)
    else:
        retry_at = now + backoff_delay(number)
        if retry_at >= delivery.order.interval_start:
            changes.update(state=DeliveryState.EXPIRED)
        else:
            changes.update(state=DeliveryState.PENDING, next_attempt_at=retry_at)
    OrderDelivery.objects.filter(pk=delivery.pk).update(**changes)
    return changes["state"]


def deliveries_push_due(
    *, now: datetime | None = None, order_ids: list[int] | None = None, limit: int = 2000
) -> PushSummary:
    """Push every delivery that is due (optionally only those of `order_ids`)."""
    now = now or timezone.now()
    summary = PushSummary(expired=_expire_started(now))
    timeout_s = settings.WEBHOOK_TIMEOUT_S
    # Leases run on the later of the market clock and the wall clock: a push task carrying
    # a past `now_iso` (the gate closure it was enqueued at) must not hand the relay, which
    # runs on the wall clock, a lease that has already expired — the relay would push the
    # same delivery again while this push still waits for its receiver.
    clock = max(now, timezone.now())
    candidates = OrderDelivery.objects.filter(
        Q(state=DeliveryState.PENDING, next_attempt_at__lte=now)
        | Q(state=DeliveryState.SENDING, claimed_until__lt=clock)
    )
    if order_ids is not None:
        candidates = candidates.filter(order_id__in=order_ids)
    ids = list(candidates.order_by("next_attempt_at", "id").values_list("id", flat=True)[:limit])
    lease = delivery_lease(len(ids), timeout_s)
    claimed = [pk for pk in ids if _claim(pk, now, clock, lease)]
    deliveries = list(
        OrderDelivery.objects.filter(pk__in=claimed).select_related(
            "order__organisation", "order__site", "endpoint"
        )
    )
    pushes = [_prepare(d) for d in deliveries]

    def send(push: _Push) -> PushResult:
        try:
            headers = _headers(push)
        except (ValueError, InvalidTag):
            # One endpoint's unreadable secret (another SECRET_KEY, a damaged row) must not
            # stop the batch: its delivery records the failure; rotating the secret mends it.
            return PushResult(None, 0, "cannot sign: the endpoint's secret is unreadable")
        return post_json(
            push.endpoint.url,
            push.body,
            headers,
            timeout_s=timeout_s,
            allow_private=settings.WEBHOOK_ALLOW_PRIVATE_TARGETS,
        )

    # Pushes are I/O-bound: a few threads keep one slow receiver from holding up the rest.
    with ThreadPoolExecutor(max_workers=PUSH_THREADS) as pool:
        outcomes = list(pool.map(send, pushes))
    for delivery, outcome in zip(deliveries, outcomes, strict=True):
        state = _record(delivery, outcome, now)
        summary.attempted += 1
        if state == DeliveryState.DELIVERED:
            summary.delivered += 1
        elif state == DeliveryState.EXPIRED:
            summary.expired += 1
        else:
            summary.failed += 1
    return summary


@transaction.atomic
def order_acknowledge(
    *,
    actor: Actor,
    order: DispatchOrder,
    accept: bool,
    reason: str = "",
    now: datetime | None = None,
) -> DispatchOrder:
    """Accept or reject an order version. Repeating the same answer is harmless."""
    now = now or timezone.now()
    if not actor.can(Scope.TRADE) or actor.is_regulator:
        raise Forbidden(_("Acknowledging orders needs the 'trade' permission."))
    order = DispatchOrder.objects.select_for_update().filter(pk=order.pk).first()
    if order is None or order.organisation_id != actor.organisation.pk:
        raise NotFound(_("No such order."))
    wanted = AckState.ACCEPTED if accept else AckState.REJECTED
    reason = (reason or "").strip()
    if not accept and not reason:
        raise InvalidInput.from_errors({"reason": [_("Say why you reject the order.")]})
    if order.ack_state == wanted:
        return order
    if order.ack_state != AckState.PENDING:
        raise Conflict(
            _("This order was already %(state)s; it cannot be changed.")
            % {"state": order.get_ack_state_display()}
        )
    if not order.is_current:
        raise Conflict(
            _("This order version was superseded by a re-dispatch; acknowledge the new version.")
        )
    order.ack_state = wanted
    order.ack_reason = reason
    order.acked_at = now
    order.acked_by = actor.label
    order.save(update_fields=["ack_state", "ack_reason", "acked_at", "acked_by"])
    audit_record(
        code=MarketAudit.ORDER_ACCEPTED if accept else MarketAudit.ORDER_REJECTED,
        actor_label=actor.label,
        actor_user=actor.user,
        organisation=actor.organisation,
        obj=order,
        payload={"order": order.idempotency_key, "reason": reason},
    )
    return order


def orders_flag_unacknowledged(*, now: datetime | None = None) -> int:
    """Flag current orders whose interval started before anyone acknowledged them."""
    now = now or timezone.now()
    return DispatchOrder.objects.filter(
        is_current=True,
        ack_state=AckState.PENDING,
        interval_start__lte=now,
        flagged_unacknowledged_at__isnull=True,
    ).update(flagged_unacknowledged_at=now)
