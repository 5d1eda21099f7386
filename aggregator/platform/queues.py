"""The Celery queues by kind of work, named once: routing (settings) and metrics read them."""

from __future__ import annotations

# clearing: one solve per worker, memory-bound; dispatch: I/O-bound pushes; settlement: the
# ledger; reports: PDFs and regulator reports (issue 17 §2). The queue metric
# (wattbit_celery_queue_length, aggregator/exchange/metrics/) reports each of these.
CELERY_QUEUES: tuple[str, ...] = ("clearing", "dispatch", "settlement", "reports")

__all__ = ["CELERY_QUEUES"]
