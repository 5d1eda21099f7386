"""Celery queue depth: messages waiting in each queue's Redis list."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from prometheus_client.core import GaugeMetricFamily

from aggregator.platform.queues import CELERY_QUEUES


def queue_names() -> list[str]:
    """The queues tasks are routed to (settings.CELERY_TASK_ROUTES), the kinds named in
    aggregator.platform.queues and the default queue, once each."""
    names = list(CELERY_QUEUES)
    for route in getattr(settings, "CELERY_TASK_ROUTES", None) or {}:
        value = settings.CELERY_TASK_ROUTES[route]
        queue = value.get("queue") if isinstance(value, dict) else value
        if isinstance(queue, str):
            names.append(queue)
    names.append(getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", None) or "celery")
    return list(dict.fromkeys(names))


def collect_queues(now: datetime):
    if not settings.REDIS_URL:
        return  # tasks run in-process: there is no queue to measure
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    names = queue_names()
    with client.pipeline(transaction=False) as pipe:
        for name in names:
            pipe.llen(name)
        # Messages a worker has taken but not acknowledged yet (kombu's Redis transport).
        pipe.hlen("unacked")
        *lengths, unacked = pipe.execute()
    depth = GaugeMetricFamily(
        "wattbit_celery_queue_length",
        "Messages waiting in a Celery queue (Redis LLEN).",
        labels=["queue"],
    )
    for name, length in zip(names, lengths, strict=True):
        depth.add_metric([name], float(length))
    yield depth
    held = GaugeMetricFamily(
        "wattbit_celery_unacked_messages",
        "Messages delivered to workers and not acknowledged yet (running or reserved tasks).",
    )
    held.add_metric([], float(unacked))
    yield held


__all__ = ["collect_queues", "queue_names"]
