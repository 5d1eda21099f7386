"""The exchange's domain metrics for /metrics, read from the database (and Redis) at scrape time.

On the roof because they read every app (docs/architecture.md); the endpoint, its access
rules and the HTTP metrics are the platform's (aggregator/platform/metrics.py), which loads
`DomainCollector` by name from settings.METRICS_COLLECTORS. Each part runs on its own: one
that fails is logged and reported as wattbit_collector_up{collector=…} 0, and the others
are still exposed (docs/operations.md lists every metric).
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from aggregator.exchange.metrics.clearing import collect_clearing
from aggregator.exchange.metrics.dispatch import collect_dispatch
from aggregator.exchange.metrics.queues import collect_queues
from aggregator.exchange.metrics.settlement import collect_integrity, collect_settlement
from aggregator.platform.metrics import COLLECTOR_ERRORS

logger = logging.getLogger(__name__)

PARTS = {
    "clearing": collect_clearing,
    "dispatch": collect_dispatch,
    "settlement": collect_settlement,
    "integrity": collect_integrity,
    "queues": collect_queues,
}

for _name in PARTS:
    COLLECTOR_ERRORS.labels(_name)  # exposed as 0 from the start, not only after a failure


class DomainCollector:
    """A prometheus-client collector; `now` fixed only by tests."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now

    def collect(self):
        now = self.now or timezone.now()
        up = GaugeMetricFamily(
            "wattbit_collector_up",
            "1 if a part of the domain metrics was read at this scrape, 0 if it failed (logged).",
            labels=["collector"],
        )
        took = GaugeMetricFamily(
            "wattbit_collector_duration_seconds",
            "Seconds a part of the domain metrics took at this scrape.",
            labels=["collector"],
        )
        for name, part in PARTS.items():
            started = time.perf_counter()
            try:
                families = list(part(now))  # all or nothing: no half-read part is exposed
            except Exception:
                logger.exception("metrics: the %s collector failed", name)
                COLLECTOR_ERRORS.labels(name).inc()
                families, ok = [], 0.0
            else:
                ok = 1.0
            took.add_metric([name], time.perf_counter() - started)
            up.add_metric([name], ok)
            yield from families
        yield up
        yield took


__all__ = ["PARTS", "DomainCollector"]
