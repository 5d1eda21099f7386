"""A worker busy solving keeps its claim alive; a worker that lost it does not touch it."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from aggregator.exchange.cycle import ClaimHeartbeat
from market.models.clearing import ClearingRun, RunStatus

# The heartbeat writes from its own thread (own connection): the rows must be committed.
pytestmark = pytest.mark.django_db(transaction=True)

K = datetime(2030, 4, 1, 3, 0, tzinfo=UTC)
CLAIMED = K - timedelta(minutes=50)


def _running(token: str) -> ClearingRun:
    return ClearingRun.objects.create(
        interval_start=K,
        horizon_intervals=4,
        gate_closure=K - timedelta(hours=1),
        status=RunStatus.RUNNING,
        claim_token=token,
        claimed_at=CLAIMED,
    )


def test_the_claim_moves_on_by_the_time_spent_solving(reference_data):
    run = _running("mine")
    started = time.monotonic()
    with ClaimHeartbeat(run.pk, "mine", every_s=0.05):
        time.sleep(0.4)
    elapsed = time.monotonic() - started
    run.refresh_from_db()
    moved = (run.claimed_at - CLAIMED).total_seconds()
    # Beats every 0.05 s add the wall time between them: never more than was spent, and
    # most of it (half leaves room for a slow, busy machine's thread scheduling).
    assert 0.4 / 2 <= moved <= elapsed + 1e-3


def test_a_claim_taken_over_by_another_worker_is_left_alone(reference_data):
    run = _running("the-new-worker")
    with ClaimHeartbeat(run.pk, "the-old-worker", every_s=0.05):
        time.sleep(0.25)
    run.refresh_from_db()
    assert run.claimed_at == CLAIMED and run.claim_token == "the-new-worker"


def test_a_finished_run_is_not_kept_claimed(reference_data):
    run = _running("mine")
    ClearingRun.objects.filter(pk=run.pk).update(status=RunStatus.COMPLETED)
    with ClaimHeartbeat(run.pk, "mine", every_s=0.05):
        time.sleep(0.25)
    run.refresh_from_db()
    assert run.claimed_at == CLAIMED
