"""Beat's OpenADR task: thin, idempotent (the outbox's unique rows)."""

from celery import shared_task

from aggregator.openadr.services.subscriptions import notifications_push_due


@shared_task(name="openadr.tasks.push_notifications")
def push_notifications() -> dict[str, int] | None:
    summary = notifications_push_due()
    return summary if any(summary.values()) else None  # quiet when there was nothing to send
