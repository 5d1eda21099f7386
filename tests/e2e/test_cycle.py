"""End to end: bids → gate closure → a real worker clears → signed pushes → REST acknowledgement."""

from __future__ import annotations

import json

from standardwebhooks import Webhook

from aggregator.exchange.replay import replay_run
from aggregator.exchange.tasks import clear_interval
from aggregator.platform.models import AuditEvent
from market import calendar
from market.models.clearing import Allocation, EnergyAward
from market.models.dispatch import (
    AckState,
    DeliveryAttempt,
    DeliveryState,
    DispatchOrder,
    OrderDelivery,
)
from tests.conftest import key_client
from tests.e2e.checks import (
    all_delivered,
    assert_attempts_consistent,
    assert_each_key_received_once,
    assert_one_completed_run,
    assert_orders_once,
)
from tests.e2e.stack import e2e_marks, wait_for

pytestmark = e2e_marks()


def test_bids_clear_on_a_real_worker_and_orders_are_pushed_and_acknowledged(
    market_factory, workers, redis_server
):
    market = market_factory(horizon=4)
    workers.start(concurrency=2)
    # One participant rotates its secret over REST just before; its receiver has not
    # switched yet and still holds only the old secret (the overlap must carry it).
    sun_client, _key = key_client(market.members["sun"])
    rotated = sun_client.post(
        f"/api/v1/webhook-endpoints/{market.endpoints['sun'].pk}/rotate-secret/"
    )
    assert rotated.status_code == 200, rotated.content
    sun_new_secret = rotated.json()["secret"]
    sun_old_secret = market.receivers["sun"].secret

    # Gate closure has passed for this interval: the trigger carries the market clock.
    clear_interval.delay(calendar.iso_z(market.interval), calendar.iso_z(market.gate_closure))
    wait_for(all_delivered, timeout=60, what="every order pushed", context=workers.logs)

    run = assert_one_completed_run(market)
    assert run.attempts == 1 and run.error == ""
    assert Allocation.objects.filter(run=run, cu__gt=0).count() >= 2
    assert EnergyAward.objects.filter(run=run, kwh__gt=0).exists()
    verdict = replay_run(run)
    assert verdict.ok, "the stored result is not what the stored snapshot solves to"
    # Verified independently: the replay solved it with another backend than the worker.
    assert verdict.replay_solver and verdict.replay_solver != verdict.run_solver
    orders = assert_orders_once(run)
    # Every organisation with a part in the interval got its orders at its own receiver,
    # which verified them with the `standardwebhooks` package from PyPI and the secret it
    # was given at registration (tests/support/receiver.py).
    assert {o.organisation.slug for o in orders} == {"prov1", "prov2", "ai", "sun"}
    assert_each_key_received_once(market, orders)
    assert market.receivers["sun"].raw
    for body, headers in market.receivers["sun"].raw:  # signed by both, each verifies alone
        assert Webhook(sun_old_secret).verify(body, headers)["organisation"] == "sun"
        assert Webhook(sun_new_secret).verify(body, headers)["organisation"] == "sun"
    for receiver in market.receivers.values():
        assert receiver.duplicates == 0
    assert DeliveryAttempt.objects.count() == OrderDelivery.objects.count() == len(orders)
    assert set(OrderDelivery.objects.values_list("attempts", flat=True)) == {1}
    assert_attempts_consistent()

    # Each participant pulls its orders over REST and accepts them.
    for slug, member in market.members.items():
        client, _key = key_client(member)
        response = client.get("/api/v1/orders", {"interval": calendar.iso_z(market.interval)})
        assert response.status_code == 200, response.content
        listed = response.json()["results"]
        mine = sorted(o.pk for o in orders if o.organisation.slug == slug)
        assert sorted(o["id"] for o in listed) == mine
        for item in listed:
            assert item["delivery_states"] == [DeliveryState.DELIVERED]
            deliveries = client.get(f"/api/v1/orders/{item['id']}/deliveries")
            assert deliveries.status_code == 200
            [delivery] = deliveries.json()
            assert delivery["state"] == DeliveryState.DELIVERED
            ack = client.post(
                f"/api/v1/orders/{item['id']}/acknowledge",
                {"decision": "accept"},
                format="json",
                headers={"Idempotency-Key": f"ack-{item['id']}"},
            )
            assert ack.status_code == 200, ack.content
            assert ack.json()["ack_state"] == AckState.ACCEPTED

    for order in orders:
        order.refresh_from_db()
        assert order.ack_state == AckState.ACCEPTED and order.acked_at is not None
    assert not workers.failures(), workers.failures()


def test_an_outage_amends_orders_and_the_new_versions_are_pushed_once(market_factory, workers):
    market = market_factory(horizon=4)
    # JSON log lines, as a log pipeline would read them (LOG_FORMAT=json).
    [worker] = [workers.start(concurrency=2, LOG_FORMAT="json")]
    clear_interval.delay(calendar.iso_z(market.interval), calendar.iso_z(market.gate_closure))
    wait_for(all_delivered, timeout=60, what="the cleared orders pushed", context=workers.logs)
    run = assert_one_completed_run(market)
    first = {o.pk: o for o in assert_orders_once(run)}

    # prov1's site fails inside the firm interval: it reports over REST that none of its CU
    # is available. The amended versions are published to the real broker after commit.
    site = next(s for s in market.sites if s.organisation.slug == "prov1")
    client, _key = key_client(market.members["prov1"])
    response = client.post(
        "/api/v1/events/outage",
        {"site": site.code, "interval": calendar.iso_z(market.interval), "cu_available": 0},
        format="json",
        headers={"Idempotency-Key": "outage-1", "X-Request-ID": "e2e-outage-1"},
    )
    assert response.status_code == 201, response.content
    assert response["X-Request-ID"] == "e2e-outage-1"
    amended = list(DispatchOrder.objects.filter(run=run, version=2).select_related("organisation"))
    assert amended, "the outage changed no order"
    wait_for(all_delivered, timeout=60, what="the amended orders pushed", context=workers.logs)

    for order in amended:
        old = first[order.supersedes_id]
        old.refresh_from_db()
        assert order.is_current and not old.is_current and order.reason == "redispatch"
        assert order.idempotency_key != old.idempotency_key
    hosting = next(o for o in amended if o.kind == "hosting" and o.site_id == site.pk)
    assert hosting.lines == [] and hosting.total_cu == 0
    # Organisations whose orders did not change got no new version and no new push.
    untouched = {o.organisation.slug for o in first.values()} - {
        o.organisation.slug for o in amended
    }
    all_orders = list(DispatchOrder.objects.filter(run=run).select_related("organisation"))
    assert len(all_orders) == len(first) + len(amended)
    for slug in untouched:
        assert len(market.receivers[slug].received) == len(
            [o for o in first.values() if o.organisation.slug == slug]
        )
    assert_each_key_received_once(market, all_orders)
    assert all(r.duplicates == 0 for r in market.receivers.values())
    assert_attempts_consistent()

    # The worker's log lines of the push the outage caused carry the API call's request id;
    # those of the clearing (beat's work here) carry their own task's.
    lines = [json.loads(line) for line in worker.output().splitlines() if line.startswith("{")]
    caused = [line for line in lines if line["request_id"] == "e2e-outage-1"]
    assert {line["task_name"] for line in caused} == {"aggregator.tasks.push_orders"}, caused
    assert any("succeeded" in line["message"] for line in caused), caused
    clearing = [line for line in lines if line["task_name"] == "aggregator.tasks.clear_interval"]
    assert clearing and all(line["request_id"].startswith("task-") for line in clearing)

    # The superseded version can no longer be accepted; the new one can.
    old_id = hosting.supersedes_id
    refused = client.post(
        f"/api/v1/orders/{old_id}/acknowledge", {"decision": "accept"}, format="json"
    )
    assert refused.status_code == 409, refused.content
    accepted = client.post(
        f"/api/v1/orders/{hosting.pk}/acknowledge", {"decision": "accept"}, format="json"
    )
    assert accepted.status_code == 200, accepted.content
    assert not workers.failures(), workers.failures()


def test_a_worker_out_of_time_publishes_the_flagged_fallback_on_time(market_factory, workers):
    """The worker's settings leave no time at all (the interval is 'about to start'): its
    clearing must still finish, with the greedy allocation flagged as the fallback, and the
    orders must still go out. The fallback's prices follow the price rule with that allocation
    fixed, so the regulator's replay, with another backend, reproduces the run exactly."""
    market = market_factory(horizon=4)
    workers.start(concurrency=2, CLEARING_FINISH_BEFORE_S=str(10**9), CLEARING_MIN_BUDGET_S="0")
    clear_interval.delay(calendar.iso_z(market.interval), calendar.iso_z(market.gate_closure))
    wait_for(all_delivered, timeout=60, what="every order pushed", context=workers.logs)

    run = assert_one_completed_run(market)
    assert run.fallback["reason"] == "time_budget", run.fallback
    assert run.fallback["allocation"] == "greedy" and run.fallback["time_budget_s"] == 0
    assert Allocation.objects.filter(run=run, cu__gt=0).exists()
    event = AuditEvent.objects.filter(code="market.clearing.completed").latest("seq")
    assert event.payload["fallback"] == run.fallback
    orders = assert_orders_once(run)
    assert_each_key_received_once(market, orders)
    assert run.fallback["prices"] == "price_rule"
    verdict = replay_run(run)
    assert verdict.ok, verdict.first_difference
    assert verdict.replay_solver != verdict.run_solver
    assert not workers.failures(), workers.failures()
