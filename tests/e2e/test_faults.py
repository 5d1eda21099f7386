"""Faults on the real stack; after each: nothing lost, nothing doubled.

Lost = a run not completed or an order version not delivered; doubled = a second run for
an interval, a second claim where none was needed, an order version written twice, or an
idempotency key processed twice by a receiver.
"""

from __future__ import annotations

import itertools
import re
import time

import pytest

from aggregator.exchange.replay import replay_run
from aggregator.exchange.tasks import clear_due_intervals, clear_interval
from market import calendar
from market.models.clearing import ClearingRun, RunStatus
from market.models.dispatch import DeliveryAttempt, DeliveryState, OrderDelivery
from market.tasks import push_due_deliveries
from operators.webhooks import longest_attempt_s
from tests.e2e.checks import (
    all_delivered,
    assert_attempts_consistent,
    assert_each_key_received_once,
    assert_one_completed_run,
    assert_orders_once,
    run_completed,
)
from tests.e2e.scenario import receiver_down, receiver_up
from tests.e2e.stack import WEBHOOK_TIMEOUT_S, e2e_marks, wait_for

pytestmark = e2e_marks()

# A problem big enough that solving takes seconds (48 intervals, gang-scheduled batch jobs
# make it a MIP): long enough to kill the worker, or Redis, while it solves.
SLOW = {"horizon": 48, "sites_per_provider": 2, "workloads": 4, "batch_every": 2}


def relay() -> None:
    """One beat of the outbox relay, on the wall clock, as celery beat sends it."""
    push_due_deliveries.delay()


def snapshot_stored(market):
    return (
        ClearingRun.objects.filter(interval_start=market.interval, status=RunStatus.RUNNING)
        .exclude(snapshot_json="")
        .first()
    )


def broker_idle(redis_server) -> bool:
    return redis_server.idle()


@pytest.mark.parametrize("victim", ["whole worker", "pool process"])
def test_worker_killed_mid_run_then_restarted_takes_over_after_the_lease(
    market_factory, workers, victim
):
    market = market_factory(**SLOW)
    first = workers.start(concurrency=1)
    clear_interval.delay(calendar.iso_z(market.interval), calendar.iso_z(market.gate_closure))

    # The snapshot is stored before solving: kill the worker while it solves — all of it
    # (parent and pool process, like the OOM killer or a node loss), or only the pool
    # process running the task (the parent notices and rejects the message back).
    held = wait_for(
        lambda: snapshot_stored(market), timeout=60, every=0.02, what="the run to be claimed"
    )
    if victim == "whole worker":
        first.kill()
    else:
        first.kill_pool_child()
    held.refresh_from_db()
    assert held.status == RunStatus.RUNNING and held.attempts == 1, (
        "the solve finished before the kill; make the problem bigger"
    )
    assert not OrderDelivery.objects.exists()

    if victim == "pool process":
        # The parent replaces its pool process, gets the task back (reject on worker
        # lost), waits out the dead process's lease, and redoes the run.
        wait_for(all_delivered, timeout=90, what="the run redone", context=workers.logs)
        assert "WorkerLostError" in first.output()
    else:
        # A new worker gets the unacknowledged message back (visibility timeout), waits
        # out the dead worker's lease, and redoes the run from the stored snapshot.
        workers.start(concurrency=1)
        wait_for(all_delivered, timeout=90, what="the run redone", context=workers.logs)

    run = assert_one_completed_run(market)
    assert run.attempts == 2, run.attempts
    assert run.input_sha256 == held.input_sha256 and run.snapshot_json == held.snapshot_json
    assert replay_run(run).ok
    orders = assert_orders_once(run)
    assert_each_key_received_once(market, orders)
    assert all(r.duplicates == 0 for r in market.receivers.values())
    assert set(OrderDelivery.objects.values_list("attempts", flat=True)) == {1}
    assert_attempts_consistent()
    # Apart from the kill itself, no task failed.
    failures = [line for line in workers.failures() if "WorkerLostError" not in line]
    assert not failures, failures


def test_two_beats_firing_the_same_interval_clear_it_once(market_factory, workers, redis_server):
    market = market_factory(horizon=48)
    workers.start(concurrency=2)
    workers.start(concurrency=1)
    gate = calendar.iso_z(market.gate_closure)
    # Two beat processes (a misconfigured deployment, or a restart) tick at the same time,
    # and each enqueues every interval past gate closure; a stray manual trigger joins them.
    clear_due_intervals.delay(gate)
    clear_due_intervals.delay(gate)
    clear_interval.delay(calendar.iso_z(market.interval), gate)
    wait_for(all_delivered, timeout=60, what="every order pushed", context=workers.logs)
    # The losing triggers retry until they see the run completed; let them all finish.
    wait_for(lambda: broker_idle(redis_server), timeout=60, what="the queue to drain")

    run = assert_one_completed_run(market)
    assert run.attempts == 1, "a second trigger claimed a run that was never abandoned"
    # The triggers did overlap: some found a run held by another worker and waited.
    waited = [w for w in workers if re.search(r"clear_interval\[[^]]+\] retry", w.output())]
    assert waited, workers.logs()
    before = market.interval - calendar.INTERVAL
    runs = dict(ClearingRun.objects.values_list("interval_start", "status"))
    assert runs == {before: RunStatus.COMPLETED, market.interval: RunStatus.COMPLETED}
    assert ClearingRun.objects.get(interval_start=before).attempts == 1
    orders = assert_orders_once(run)
    assert_each_key_received_once(market, orders)
    assert all(r.duplicates == 0 for r in market.receivers.values())
    assert DeliveryAttempt.objects.count() == len(orders)
    assert_attempts_consistent()
    assert not workers.failures(), workers.failures()


def test_receiver_down_for_a_while_then_back_gets_every_order_once(market_factory, workers):
    market = market_factory(horizon=4)
    receiver = market.receivers["ai"]
    port = receiver_down(receiver)
    workers.start(concurrency=2)
    clear_interval.delay(calendar.iso_z(market.interval), calendar.iso_z(market.gate_closure))

    # Querysets are built afresh on every poll (an evaluated one caches its rows).
    def ai():
        return OrderDelivery.objects.filter(order__organisation__slug="ai")

    def others():
        return OrderDelivery.objects.exclude(order__organisation__slug="ai")

    # While it is down, the relay keeps trying (with backoff); the others are unaffected.
    wait_for(
        lambda: ai().exists() and all(d.attempts >= 2 for d in ai()) and all_delivered_in(others()),
        timeout=60,
        tick=relay,
        what="failed attempts at the receiver that is down",
        context=workers.logs,
    )
    assert not ai().filter(state=DeliveryState.DELIVERED).exists()
    failed = DeliveryAttempt.objects.filter(delivery__in=ai())
    assert all(a.status_code is None and "refused" in a.error.lower() for a in failed), [
        a.error for a in failed
    ]

    receiver_up(receiver, port)
    wait_for(all_delivered, timeout=60, tick=relay, what="delivery once the receiver is back")

    run = assert_one_completed_run(market)
    orders = assert_orders_once(run)
    assert_each_key_received_once(market, orders)
    assert receiver.duplicates == 0
    assert all(d.attempts >= 3 for d in ai())
    assert set(others().values_list("attempts", flat=True)) == {1}
    assert_attempts_consistent()
    assert not workers.failures(), workers.failures()


def all_delivered_in(deliveries) -> bool:
    return deliveries.exists() and not deliveries.exclude(state=DeliveryState.DELIVERED).exists()


def test_redis_restarted_mid_cycle_loses_nothing(market_factory, workers, redis_server):
    market = market_factory(**SLOW)
    [worker] = [workers.start(concurrency=2)]
    gate = calendar.iso_z(market.gate_closure)
    clear_interval.delay(calendar.iso_z(market.interval), gate)
    wait_for(lambda: snapshot_stored(market), timeout=60, every=0.02, what="the run to start")

    # Redis dies while the worker solves (it has no persistence: every queued and
    # unacknowledged message is gone) and stays down until the clearing task has finished,
    # so its hand-off to `push_orders` cannot be published.
    redis_server.kill()
    wait_for(
        lambda: re.search(r"clear_interval\[[^]]+\] (succeeded|raised|retry)", worker.output()),
        timeout=60,
        what="the clearing task to finish without Redis",
        context=workers.logs,
    )
    assert run_completed(market)
    assert not OrderDelivery.objects.filter(state=DeliveryState.DELIVERED).exists()
    redis_server.start()

    # Beat carries on: the interval is not cleared again, and the relay pushes the outbox.
    # The same worker process does the pushing: it reconnected by itself (no supervisor
    # restarts it here; kombu's cleanup used to stop it, aggregator/platform/broker.py).
    def beat() -> None:
        assert worker.alive, f"the worker exited on the lost connection:\n{workers.logs()}"
        clear_due_intervals.delay(gate)
        relay()

    wait_for(
        all_delivered,
        timeout=60,
        tick=beat,
        what="the outbox pushed after the restart",
        context=workers.logs,
    )
    run = assert_one_completed_run(market)
    assert run.attempts == 1
    orders = assert_orders_once(run)
    assert_each_key_received_once(market, orders)
    assert all(r.duplicates == 0 for r in market.receivers.values())
    assert_attempts_consistent()
    # The hand-off to push_orders could not be published: the relay pushed the outbox.
    assert "left to its relay" in worker.output()
    assert worker.alive and not workers.exited, workers.logs()
    assert re.search(r"push_due_deliveries\[[^]]+\] succeeded", worker.output())
    assert not workers.failures(), workers.failures()


def test_a_slow_receiver_times_out_without_holding_the_worker_and_is_served_later(
    market_factory, workers
):
    market = market_factory(horizon=4)
    slow = market.receivers["prov2"]
    slow.delay_s = 3 * WEBHOOK_TIMEOUT_S
    # Two pool processes: the relay's beats run beside a push that is waiting on the slow
    # receiver, and must not take over deliveries that push still holds.
    workers.start(concurrency=2)
    started = time.monotonic()
    clear_interval.delay(calendar.iso_z(market.interval), calendar.iso_z(market.gate_closure))

    def mine():
        return OrderDelivery.objects.filter(order__organisation__slug="prov2")

    def others():
        return OrderDelivery.objects.exclude(order__organisation__slug="prov2")

    wait_for(
        lambda: mine().exists()
        and all(d.attempts >= 1 for d in mine())
        and all_delivered_in(others()),
        timeout=30,
        tick=relay,
        what="the first push to finish",
        context=workers.logs,
    )
    elapsed = time.monotonic() - started
    # The push gave up at the timeout, long before the receiver would have answered.
    assert elapsed < slow.delay_s, elapsed
    for attempt in DeliveryAttempt.objects.filter(delivery__in=mine(), number=1):
        assert attempt.status_code is None and attempt.error == "timeout"
        assert WEBHOOK_TIMEOUT_S * 1000 <= attempt.latency_ms < (WEBHOOK_TIMEOUT_S + 1) * 1000
    assert not mine().filter(state=DeliveryState.DELIVERED).exists()

    slow.delay_s = 0
    wait_for(all_delivered, timeout=60, tick=relay, what="the slow receiver served later")
    run = assert_one_completed_run(market)
    orders = assert_orders_once(run)
    # The timed-out request did reach the receiver; its retry carries the same key, so the
    # receiver processes each order version once and counts the rest as duplicates.
    assert_each_key_received_once(market, orders)
    extra = sum(d.attempts - 1 for d in mine())
    assert extra >= 1
    wait_for(
        lambda: slow.duplicates == extra,
        timeout=3 * WEBHOOK_TIMEOUT_S + 5,
        what=f"{extra} duplicates counted (got {slow.duplicates})",
    )
    assert set(others().values_list("attempts", flat=True)) == {1}
    assert_attempts_consistent()
    assert not workers.failures(), workers.failures()


def test_a_trickling_receiver_is_cut_off_at_the_deadline_and_never_pushed_twice_at_once(
    market_factory, workers
):
    # Issue 14: a receiver sending one header byte at a time held a push far past its
    # timeout (each read succeeded in time). Here each byte comes 0.2 s apart: the answer
    # would take about 45 s, against a 2 s deadline per attempt.
    market = market_factory(horizon=4)
    slow = market.receivers["prov2"]
    slow.trickle_s = 0.2
    # Two pool processes: the relay's beats run beside a push that is waiting on the
    # trickling receiver, and must not push the same delivery while it is in flight.
    workers.start(concurrency=2)
    clear_interval.delay(calendar.iso_z(market.interval), calendar.iso_z(market.gate_closure))

    def mine():
        return OrderDelivery.objects.filter(order__organisation__slug="prov2")

    def others():
        return OrderDelivery.objects.exclude(order__organisation__slug="prov2")

    wait_for(
        lambda: mine().exists()
        and all(d.attempts >= 2 for d in mine())
        and all_delivered_in(others()),
        timeout=45,
        tick=relay,
        what="two cut-off attempts at the trickling receiver",
        context=workers.logs,
    )
    longest_ms = longest_attempt_s(WEBHOOK_TIMEOUT_S) * 1000
    for attempt in DeliveryAttempt.objects.filter(delivery__in=mine()):
        assert attempt.status_code is None and attempt.error == "timeout", attempt.error
        assert WEBHOOK_TIMEOUT_S * 1000 <= attempt.latency_ms < longest_ms, attempt.latency_ms
    assert slow.trickled_bytes < 45 / slow.trickle_s  # no attempt waited for the whole answer
    # Every push of a trickled delivery holds its sender for the whole deadline, so two
    # pushes of one order version starting closer together than that were both in flight.
    # (The receiver itself only notices a hang-up at its next write, so its own count of
    # open requests may briefly overlap a retry; the start times are what the sender did.)
    starts = sorted(at for _key, at in slow.arrivals)
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert gaps and min(gaps) >= WEBHOOK_TIMEOUT_S - 0.05, gaps

    slow.trickle_s = 0
    wait_for(all_delivered, timeout=60, tick=relay, what="the receiver served once it answers")
    run = assert_one_completed_run(market)
    orders = assert_orders_once(run)
    assert_each_key_received_once(market, orders)
    assert slow.duplicates == sum(d.attempts - 1 for d in mine())
    assert set(others().values_list("attempts", flat=True)) == {1}
    assert_attempts_consistent()
    assert not workers.failures(), workers.failures()
