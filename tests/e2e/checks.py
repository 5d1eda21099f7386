"""Shared end-to-end assertions: nothing lost, nothing doubled."""

from __future__ import annotations

from collections import Counter

from market.models.clearing import ClearingRun, RunStatus
from market.models.dispatch import DeliveryAttempt, DeliveryState, DispatchOrder, OrderDelivery
from tests.e2e.scenario import Market


def all_delivered() -> bool:
    deliveries = OrderDelivery.objects.all()
    return deliveries.exists() and not deliveries.exclude(state=DeliveryState.DELIVERED).exists()


def run_completed(market: Market) -> bool:
    return ClearingRun.objects.filter(
        interval_start=market.interval, status=RunStatus.COMPLETED
    ).exists()


def assert_one_completed_run(market: Market) -> ClearingRun:
    runs = list(ClearingRun.objects.filter(interval_start=market.interval))
    assert len(runs) == 1, runs
    run = runs[0]
    assert run.status == RunStatus.COMPLETED, (run.status, run.error)
    assert run.result_sha256 and run.input_sha256
    return run


def assert_orders_once(run: ClearingRun) -> list[DispatchOrder]:
    """Version 1 of every (organisation, kind, place), once; one delivery per order and hook."""
    orders = list(DispatchOrder.objects.filter(run=run).select_related("organisation"))
    assert orders, "the run wrote no orders"
    places = Counter((o.organisation_id, o.kind, o.site_id, o.area_id, o.version) for o in orders)
    assert max(places.values()) == 1, places
    assert all(o.version == 1 and o.is_current for o in orders)
    kinds = {o.kind for o in orders}
    assert kinds == {"hosting", "placement", "delivery"}, kinds
    per_order = Counter(
        OrderDelivery.objects.filter(order__run=run).values_list("order_id", flat=True)
    )
    assert per_order == Counter({o.pk: 1 for o in orders}), per_order
    return orders


def assert_each_key_received_once(market: Market, orders: list[DispatchOrder]) -> None:
    """Each receiver processed exactly its organisation's order versions, each key once."""
    for slug, receiver in market.receivers.items():
        expected = sorted(o.idempotency_key for o in orders if o.organisation.slug == slug)
        got = [r["headers"]["Idempotency-Key"] for r in receiver.received]
        assert sorted(got) == expected, (slug, got, expected)
        assert len(receiver.seen_keys) == len(expected)
        assert receiver.rejected == 0, f"{slug}: bad signatures: {receiver.errors}"
        for item in receiver.received:
            assert item["body"]["idempotency_key"] == item["headers"]["Idempotency-Key"]
            assert item["headers"]["webhook-id"] == item["headers"]["Idempotency-Key"]
            assert item["body"]["organisation"] == slug


def assert_attempts_consistent() -> None:
    """Each delivery's attempt log is gap-free and matches its counter; the last one succeeded."""
    for delivery in OrderDelivery.objects.all():
        numbers = list(
            DeliveryAttempt.objects.filter(delivery=delivery)
            .order_by("number")
            .values_list("number", flat=True)
        )
        assert numbers == list(range(1, delivery.attempts + 1)), (delivery.pk, numbers)
        if delivery.state == DeliveryState.DELIVERED:
            last = DeliveryAttempt.objects.get(delivery=delivery, number=delivery.attempts)
            assert last.status_code == 200 and delivery.last_status_code == 200
