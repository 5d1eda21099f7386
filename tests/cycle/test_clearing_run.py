"""One clearing per interval: firm rows, prices, orders and outbox, idempotent, resumable."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from aggregator.exchange.cycle import intervals_due, run_clear_interval
from aggregator.platform.models import AuditEvent
from market.choices import BidStatus
from market.models import CapacityOffer, EnergyOffer, WorkloadBid
from market.models.clearing import (
    Allocation,
    ClearingRun,
    ComputePrice,
    EnergyAward,
    EnergyPrice,
    GridPurchase,
    RunStatus,
)
from market.models.dispatch import DispatchOrder, OrderDelivery
from tests.cycle.conftest import gate, register_webhook

pytestmark = pytest.mark.django_db


def test_run_clears_the_firm_interval(market):
    k = market.k(0)
    outcome = run_clear_interval(interval_start=k, now=gate(k))
    run = outcome.run
    assert outcome.did_work and run.status == RunStatus.COMPLETED
    assert len(run.input_sha256) == 64 and len(run.result_sha256) == 64
    allocations = {a.site.code: a.cu for a in Allocation.objects.filter(run=run)}
    # Kyushu is cheaper (150 JPY/CU-h + nearly free curtailment energy): full 32 CU there,
    # the other 8 of the 40 CU demand in Tokyo.
    assert allocations == {"beta-kyu-1": Decimal("32.000000"), "alpha-tky-1": Decimal("8.000000")}
    assert all(a.interval_start == k for a in Allocation.objects.filter(run=run))
    assert ComputePrice.objects.filter(run=run).count() == 2
    assert EnergyPrice.objects.filter(run=run, interval_start=k).count() == 9
    award = EnergyAward.objects.get(run=run)
    assert award.offer_id == market.energy_offer.pk and award.kwh > 0
    assert run.welfare_jpy >= run.greedy_welfare_jpy and run.welfare_jpy >= run.stay_welfare_jpy


def test_nobody_pays_above_limit_or_gets_below_offer(market):
    k = market.k(0)
    run = run_clear_interval(interval_start=k, now=gate(k)).run
    for a in Allocation.objects.filter(run=run):
        assert a.all_in_jpy_per_cu_h <= a.workload.limit_price
        offer_price = 180 if a.site.code == "alpha-tky-1" else 150
        assert a.compute_jpy_per_cu_h >= offer_price


def test_orders_per_organisation_site_and_area(market):
    k = market.k(0)
    run = run_clear_interval(interval_start=k, now=gate(k)).run
    orders = {
        (o.organisation.slug, o.kind, o.site.code if o.site else o.area_id): o
        for o in DispatchOrder.objects.filter(run=run)
    }
    assert set(orders) == {
        ("alpha", "hosting", "alpha-tky-1"),
        ("beta", "hosting", "beta-kyu-1"),
        ("delta", "placement", "alpha-tky-1"),
        ("delta", "placement", "beta-kyu-1"),
        ("gamma", "delivery", "kyushu"),
    }
    hosting = orders[("beta", "hosting", "beta-kyu-1")]
    assert hosting.lines == [
        {
            "cu": 32.0,
            "jpy_per_cu_h": float(hosting.lines[0]["jpy_per_cu_h"]),
            "owner": "delta",
            "workload": f"wl-{market.workload.pk}",
        }
    ]
    assert all(o.version == 1 and o.is_current for o in orders.values())
    assert len({o.idempotency_key for o in orders.values()}) == 5


def test_outbox_rows_written_with_the_run(market, receiver):
    register_webhook(market.charlie, receiver)
    k = market.k(0)
    run = run_clear_interval(interval_start=k, now=gate(k)).run
    deliveries = OrderDelivery.objects.filter(order__run=run)
    assert [d.order.organisation.slug for d in deliveries] == ["beta"]
    assert deliveries.get().state == "pending"


def test_second_trigger_is_a_no_op(market):
    k = market.k(0)
    first = run_clear_interval(interval_start=k, now=gate(k))
    counts = (Allocation.objects.count(), DispatchOrder.objects.count(), AuditEvent.objects.count())
    second = run_clear_interval(interval_start=k, now=gate(k) + timedelta(seconds=5))
    assert not second.did_work and second.run.pk == first.run.pk
    assert ClearingRun.objects.count() == 1
    assert (
        Allocation.objects.count(),
        DispatchOrder.objects.count(),
        AuditEvent.objects.count(),
    ) == counts


def test_crashed_run_is_taken_over_after_its_lease_from_the_stored_snapshot(market, settings):
    k = market.k(0)
    # A worker claimed the run and stored the snapshot, then died before persisting.
    run_clear_interval(interval_start=k, now=gate(k))
    run = ClearingRun.objects.get()
    stored_snapshot, stored_hash = run.snapshot_json, run.result_sha256
    Allocation.objects.all().delete()
    OrderDelivery.objects.all().delete()
    DispatchOrder.objects.all().delete()
    ComputePrice.objects.all().delete()
    EnergyPrice.objects.all().delete()
    EnergyAward.objects.all().delete()
    GridPurchase.objects.all().delete()
    ClearingRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, claim_token="dead-worker", claimed_at=gate(k), result_sha256=""
    )
    # A bid changes afterwards (it could not in reality: frozen); the redo must not see it.
    WorkloadBid.objects.filter(pk=market.workload.pk).update(limit_price=1)
    early = run_clear_interval(interval_start=k, now=gate(k) + timedelta(seconds=60))
    assert not early.did_work  # the lease still holds
    late = run_clear_interval(
        interval_start=k, now=gate(k) + timedelta(seconds=settings.CLEARING_LEASE_S + 1)
    )
    assert late.did_work and late.run.status == RunStatus.COMPLETED
    assert late.run.snapshot_json == stored_snapshot and late.run.result_sha256 == stored_hash
    assert late.run.attempts == 2
    assert Allocation.objects.count() == 2 and DispatchOrder.objects.count() == 5


def test_failed_solve_is_recorded_and_can_be_retried(market, monkeypatch):
    k = market.k(0)
    import aggregator.exchange.cycle as cycle

    def broken(_snapshot, _options=None):
        raise RuntimeError("solver exploded")

    monkeypatch.setattr(cycle, "solve", broken)
    with pytest.raises(RuntimeError):
        run_clear_interval(interval_start=k, now=gate(k))
    run = ClearingRun.objects.get()
    assert run.status == RunStatus.FAILED and "solver exploded" in run.error
    assert DispatchOrder.objects.count() == 0
    monkeypatch.undo()
    again = run_clear_interval(interval_start=k, now=gate(k) + timedelta(seconds=10))
    assert again.did_work and again.run.status == RunStatus.COMPLETED


def test_batch_remaining_work_shrinks_with_served_intervals(market):
    from market import calendar
    from market.snapshot import snapshot_build

    k = market.k(0)
    WorkloadBid.objects.filter(pk=market.workload.pk).update(
        kind="batch", demand=None, remaining_cu_intervals=Decimal(100), max_cu=Decimal(40)
    )
    run_clear_interval(interval_start=k, now=gate(k))
    served = sum(a.cu for a in Allocation.objects.all())
    doc = snapshot_build(start=k + calendar.INTERVAL).document
    (wl,) = doc["workloads"]
    assert wl["remaining_cu_intervals"] == float(100 - served)


def test_bid_outcomes_set_when_their_last_interval_clears(market):
    for i in range(4):
        k = market.k(i)
        run_clear_interval(interval_start=k, now=gate(k))
        market.workload.refresh_from_db()
        expected = BidStatus.SUBMITTED if i < 3 else BidStatus.CLEARED
        assert market.workload.status == expected
    assert CapacityOffer.objects.get(pk=market.kyu_offer.pk).status == BidStatus.CLEARED
    assert CapacityOffer.objects.get(pk=market.tky_offer.pk).status == BidStatus.PARTLY_CLEARED
    assert EnergyOffer.objects.get(pk=market.energy_offer.pk).status == BidStatus.PARTLY_CLEARED


def test_intervals_due_lists_uncleared_intervals_past_gate_closure(market):
    k = market.k(0)
    assert k not in intervals_due(gate(k) - timedelta(seconds=1))
    due = intervals_due(gate(k))
    assert k in due
    run_clear_interval(interval_start=k, now=gate(k))
    assert k not in intervals_due(gate(k))
