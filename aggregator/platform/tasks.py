"""The platform's task base and its own periodic task (the audit checkpoint).

A task is thin: ids and instants in, a service called, ids or counts out. Every task is
idempotent and runs with acks_late + reject_on_worker_lost (settings).
"""

from __future__ import annotations

import logging

from celery import Task, shared_task
from django.db import OperationalError, transaction

from aggregator.platform.audit import AuditChainBroken
from aggregator.platform.audit_checkpoints import audit_checkpoint_issue
from aggregator.platform.integrity_checks import AUDIT_CHECKPOINT, integrity_check_record

logger = logging.getLogger(__name__)

# Errors worth retrying: the database or broker blinked. Anything else is a bug or bad
# data, recorded where it happened and not retried blindly.
TRANSIENT_ERRORS = (OperationalError, ConnectionError, TimeoutError)


class AfterCommitTask(Task):
    """A task whose message is published only once the caller's transaction has committed.

    `delay()` / `apply_async()` inside a transaction queue the publish with
    `transaction.on_commit` (outside one it happens at once), so a worker never picks up
    work that the database does not show yet, and a rolled-back transaction sends nothing
    (the pattern of pretix's TransactionAwareTask). The call returns None when deferred.

    `publish_errors_logged`: broker errors that are logged instead of raised — for a task
    whose work also waits in an outbox that a relay retries, so a failed publish loses
    nothing and must not fail a caller whose transaction has already committed.
    """

    abstract = True
    publish_errors_logged: tuple[type[BaseException], ...] = ()

    def apply_async(self, args=None, kwargs=None, **options):
        publish = super().apply_async

        def publish_after_commit() -> None:
            try:
                publish(args, kwargs, **options)
            except self.publish_errors_logged as exc:
                logger.warning("%s not published, left to its relay: %s", self.name, exc)

        transaction.on_commit(publish_after_commit)


@shared_task(
    name="aggregator.tasks.issue_audit_checkpoint",
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=5,
    max_retries=3,
)
def issue_audit_checkpoint() -> dict:
    """Beat's periodic anchor: sign the audit chain's head (regulators get it in reports).

    A damaged chain raises AuditChainBroken: the task fails loudly and signs nothing.
    """
    try:
        checkpoint = audit_checkpoint_issue()
    except AuditChainBroken as exc:
        # Kept for /metrics (the alert WattbitAuditChainCheckFailed), then raised as before.
        integrity_check_record(name=AUDIT_CHECKPOINT, ok=False, detail=str(exc))
        raise
    integrity_check_record(name=AUDIT_CHECKPOINT, ok=True)
    return {"seq": checkpoint.seq if checkpoint else 0}
