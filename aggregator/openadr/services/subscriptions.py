"""Subscriptions: callbacks verified by the spec's echo challenge, kept off private
addresses by the webhooks' own checks, and the notifications owed to them (an outbox)."""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aggregator.openadr import payloads
from aggregator.openadr.choices import NotificationState, ObjectType, OpenAdrAudit, Operation, crud
from aggregator.openadr.models import Notification, Subscription, VenClient
from aggregator.platform.audit import audit_record
from aggregator.platform.errors import InvalidInput
from market.models.dispatch import DispatchOrder
from operators.actors import Actor
from operators.validators import webhook_url_problem
from operators.webhooks import get_text, post_json


def _challenge_url(url: str, echo: str) -> str:
    parts = urlsplit(url)
    query = f"{parts.query}&" if parts.query else ""
    return urlunsplit(parts._replace(query=query + urlencode({"echo": echo})))


def callback_verify(url: str, bearer_token: str | None) -> str | None:
    """Why the callback is refused, or None: OpenADR 3.1 Definition §"Subscriptions": a
    GET with `?echo=<random>` must answer 200 with that value as its body."""
    allow_private = settings.WEBHOOK_ALLOW_PRIVATE_TARGETS
    problem = webhook_url_problem(url, allow_private=allow_private)
    if problem:
        return problem
    echo = secrets.token_urlsafe(24)
    headers = {"Authorization": f"Bearer {bearer_token}"} if bearer_token else {}
    outcome, body = get_text(
        _challenge_url(url, echo),
        headers,
        timeout_s=settings.OPENADR_CALLBACK_TIMEOUT_S,
        allow_private=allow_private,
    )
    if outcome.status_code != 200:
        return _("The callback did not answer the challenge (%(why)s).") % {
            "why": outcome.error or f"HTTP {outcome.status_code}"
        }
    text = body.decode("utf-8", "replace").strip()
    try:  # some servers answer the value as a JSON string
        decoded = json.loads(text)
        text = decoded if isinstance(decoded, str) else text
    except ValueError:
        pass
    if text != echo:
        return _("The callback answered the challenge with another value.")
    return None


def _verified(operations: list[dict[str, Any]]) -> None:
    errors = []
    seen: set[str] = set()
    for item in operations:
        url = item["callbackUrl"]
        if url in seen:
            continue
        seen.add(url)
        # Network I/O: never inside a transaction (callers verify before they write).
        problem = callback_verify(url, item.get("bearerToken"))
        if problem:
            errors.append(f"{url}: {problem}")
    if errors:
        raise InvalidInput.from_errors({"objectOperations": errors})


def subscription_create(*, actor: Actor, client: VenClient, data: dict[str, Any]) -> Subscription:
    _verified(data["objectOperations"])
    now = timezone.now()
    with transaction.atomic():
        row = Subscription.objects.create(
            client=client,
            organisation=actor.organisation,
            client_name=data["clientName"],
            program_id=data.get("programID") or "",
            object_operations=data["objectOperations"],
            targets=data.get("targets"),
            created_at=now,
            modified_at=now,
        )
        audit_record(
            code=OpenAdrAudit.SUBSCRIPTION_CREATED,
            actor_label=actor.label,
            organisation=actor.organisation,
            obj=row,
            payload=_audit_view(row),
        )
    return row


def subscription_update(
    *, actor: Actor, subscription: Subscription, data: dict[str, Any]
) -> Subscription:
    _verified(data["objectOperations"])
    with transaction.atomic():
        row = Subscription.objects.select_for_update().get(pk=subscription.pk)
        row.client_name = data["clientName"]
        row.program_id = data.get("programID") or ""
        row.object_operations = data["objectOperations"]
        row.targets = data.get("targets")
        row.modified_at = timezone.now()
        row.save()
        audit_record(
            code=OpenAdrAudit.SUBSCRIPTION_UPDATED,
            actor_label=actor.label,
            organisation=actor.organisation,
            obj=row,
            payload=_audit_view(row),
        )
    return row


@transaction.atomic
def subscription_delete(*, actor: Actor, subscription: Subscription) -> Subscription:
    row = Subscription.objects.select_for_update().get(pk=subscription.pk)
    row.is_active = False
    row.modified_at = timezone.now()
    row.save(update_fields=["is_active", "modified_at"])
    row.notifications.filter(state=NotificationState.PENDING).update(
        state=NotificationState.EXPIRED, last_error="subscription deleted"
    )
    audit_record(
        code=OpenAdrAudit.SUBSCRIPTION_DELETED,
        actor_label=actor.label,
        organisation=actor.organisation,
        obj=row,
        payload={"id": f"sub-{row.pk}"},
    )
    return row


def _audit_view(row: Subscription) -> dict[str, Any]:
    # Callback URLs and program; never the bearer token the VEN gave us.
    return {
        "id": f"sub-{row.pk}",
        "program": row.program_id,
        "callbacks": [
            {"url": o["callbackUrl"], "objects": o["objects"], "operations": o["operations"]}
            for o in row.object_operations
        ],
    }


# --- Notifications -------------------------------------------------------------------------


def _wants_event_creates(subscription: Subscription) -> list[int]:
    return [
        i
        for i, o in enumerate(subscription.object_operations)
        if ObjectType.EVENT in o["objects"]
        and Operation.CREATE in {crud(x) for x in o["operations"]}
    ]


def notifications_enqueue(*, now: datetime) -> int:
    """Outbox rows for every current order created since a subscription began whose
    interval has not started: one per (subscription, callback, order). Idempotent."""
    created = 0
    for subscription in Subscription.objects.filter(is_active=True).select_related("client"):
        indexes = _wants_event_creates(subscription)
        if not indexes:
            continue
        orders = DispatchOrder.objects.filter(
            organisation_id=subscription.organisation_id,
            is_current=True,
            created_at__gte=subscription.created_at,
            interval_start__gt=now,
        ).select_related("site")
        for order in orders:
            if subscription.program_id and subscription.program_id != payloads.dispatch_program_id(
                order.kind, payloads.order_area(order)
            ):
                continue
            if subscription.targets and not set(subscription.targets) & set(
                payloads.order_targets(order)
            ):
                continue
            for index in indexes:
                try:
                    with transaction.atomic():
                        Notification.objects.create(
                            subscription=subscription,
                            callback_index=index,
                            order=order,
                            operation=Operation.CREATE,
                            expires_at=order.interval_start,
                            created_at=now,
                        )
                    created += 1
                except IntegrityError:
                    pass  # already owed: the unique constraint makes a rerun harmless
    return created


def notifications_push_due(*, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Send what is pending (once per call; the beat task calls again), give up at the
    interval's start like an order's push. No network I/O inside a transaction."""
    now = now or timezone.now()
    notifications_enqueue(now=now)
    Notification.objects.filter(state=NotificationState.PENDING, expires_at__lte=now).update(
        state=NotificationState.EXPIRED
    )
    summary = {"delivered": 0, "failed": 0}
    pending = Notification.objects.filter(state=NotificationState.PENDING).select_related(
        "subscription", "order__site", "order__organisation"
    )[:limit]
    for note in pending:
        callback = note.subscription.object_operations[note.callback_index]
        body = json.dumps(
            payloads.notification(note.operation, payloads.order_event(note.order)),
            separators=(",", ":"),
        ).encode()
        headers = {}
        if callback.get("bearerToken"):
            headers["Authorization"] = f"Bearer {callback['bearerToken']}"
        outcome = post_json(
            callback["callbackUrl"],
            body,
            headers,
            timeout_s=settings.OPENADR_CALLBACK_TIMEOUT_S,
            allow_private=settings.WEBHOOK_ALLOW_PRIVATE_TARGETS,
        )
        done = outcome.status_code is not None and 200 <= outcome.status_code < 300
        Notification.objects.filter(pk=note.pk, state=NotificationState.PENDING).update(
            state=NotificationState.DELIVERED if done else NotificationState.PENDING,
            attempts=note.attempts + 1,
            last_status=outcome.status_code,
            last_error=outcome.error[:300],
        )
        summary["delivered" if done else "failed"] += 1
    return summary
