"""The domain metrics of /metrics against rows made here: clearing histograms, run states,
deliveries, unacknowledged orders, settlement lag, integrity verdicts, failure isolation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from prometheus_client import CollectorRegistry, generate_latest

from aggregator.exchange import metrics as domain
from aggregator.exchange.cycle import run_clear_interval
from aggregator.exchange.metrics.queues import queue_names
from aggregator.platform.audit import AuditChainBroken, audit_record
from aggregator.platform.tasks import issue_audit_checkpoint
from market.models.clearing import ClearingRun, RunStatus
from market.models.dispatch import DispatchOrder
from market.services.dispatch import deliveries_push_due, orders_flag_unacknowledged
from settlement.models import SettlementParameters
from settlement.services.settle import interval_settle, metering_deadline
from tests.cycle.conftest import gate, register_webhook
from tests.support import tamper
from tests.support.prometheus import parse, total, value

pytestmark = pytest.mark.django_db

G = datetime(2030, 4, 1, 2, 0, tzinfo=UTC)


def scrape(now: datetime | None = None) -> dict[str, list]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(domain.DomainCollector(now=now))
    return parse(generate_latest(registry).decode())


def run_row(i: int, *, status=RunStatus.COMPLETED, triples=500, timings=None, late_s=0, **kw):
    gate_closure = G + timedelta(minutes=30 * i)
    return ClearingRun.objects.create(
        interval_start=gate_closure + timedelta(hours=1), horizon_intervals=4,
        gate_closure=gate_closure, status=status, started_at=gate_closure,
        finished_at=gate_closure + timedelta(seconds=late_s),
        solver_stats={"feasible_triples": triples}, timings=timings or {}, **kw,
    )  # fmt: skip


def test_two_completed_runs_make_histograms_by_size_with_their_exact_sums():
    run_row(
        0, triples=500, timings={"snapshot_s": 0.5, "solve_s": 1.5, "persist_s": 0.25}, late_s=60
    )
    run_row(
        1, triples=50_000, timings={"snapshot_s": 1.0, "solve_s": 20.0, "persist_s": 1.0},
        late_s=600, fallback={"reason": "time budget"},
    )  # fmt: skip
    run_row(2, status=RunStatus.FAILED, error="boom")
    run_row(3, status=RunStatus.RUNNING)
    m = scrape()

    assert value(m, "wattbit_clearing_solve_seconds_count", size="S") == 1
    assert value(m, "wattbit_clearing_solve_seconds_sum", size="S") == pytest.approx(1.5)
    assert value(m, "wattbit_clearing_solve_seconds_bucket", size="S", le="1.0") == 0
    assert value(m, "wattbit_clearing_solve_seconds_bucket", size="S", le="2.5") == 1
    assert value(m, "wattbit_clearing_solve_seconds_count", size="M") == 1
    assert value(m, "wattbit_clearing_solve_seconds_sum", size="M") == pytest.approx(20.0)
    assert value(m, "wattbit_clearing_solve_seconds_bucket", size="M", le="10.0") == 0
    assert value(m, "wattbit_clearing_solve_seconds_bucket", size="M", le="30.0") == 1
    assert "L" not in {ls["size"] for ls, _v in m["wattbit_clearing_solve_seconds_count"]}
    assert value(m, "wattbit_clearing_total_seconds_sum", size="S") == pytest.approx(2.25)
    assert value(m, "wattbit_clearing_total_seconds_sum", size="M") == pytest.approx(22.0)

    # Ready at claim time + its own seconds: 62.25 s and 622 s after gate closure.
    assert value(m, "wattbit_clearing_lateness_seconds_count") == 2
    assert value(m, "wattbit_clearing_lateness_seconds_sum") == pytest.approx(684.25, abs=0.01)
    assert value(m, "wattbit_clearing_lateness_seconds_bucket", le="60.0") == 0
    assert value(m, "wattbit_clearing_lateness_seconds_bucket", le="120.0") == 1
    assert value(m, "wattbit_clearing_lateness_seconds_bucket", le="600.0") == 1
    assert value(m, "wattbit_clearing_lateness_seconds_bucket", le="900.0") == 2
    assert value(m, "wattbit_clearing_lateness_seconds_bucket", le="+Inf") == 2
    # The latest completed interval is run 1's.
    assert value(m, "wattbit_clearing_last_lateness_seconds") == pytest.approx(622.0, abs=0.01)
    assert (
        value(m, "wattbit_clearing_last_completed_interval_timestamp_seconds")
        == (G + timedelta(minutes=30, hours=1)).timestamp()
    )

    assert value(m, "wattbit_clearing_fallback_runs_total") == 1
    assert value(m, "wattbit_clearing_runs", status="completed") == 2
    assert value(m, "wattbit_clearing_runs", status="failed") == 1
    assert value(m, "wattbit_clearing_runs", status="running") == 1
    assert value(m, "wattbit_clearing_runs", status="pending") == 0
    assert value(m, "wattbit_collector_up", collector="clearing") == 1


def test_a_real_clearing_is_measured_as_its_run_stored_it(market):
    k = market.k(0)
    run_clear_interval(interval_start=k, now=gate(k))
    run = ClearingRun.objects.get(interval_start=k)
    m = scrape(now=gate(k) + timedelta(seconds=5))
    size = "S"  # the fixture's market: a few dozen triples
    assert run.solver_stats["feasible_triples"] < 10_000
    assert value(m, "wattbit_clearing_solve_seconds_count", size=size) == 1
    assert value(m, "wattbit_clearing_solve_seconds_sum", size=size) == pytest.approx(
        run.timings["solve_s"]
    )
    assert run.timings["solve_s"] > 0
    assert value(m, "wattbit_clearing_total_seconds_sum", size=size) == pytest.approx(
        run.timings["snapshot_s"] + run.timings["solve_s"] + run.timings["persist_s"]
    )


def test_overdue_counts_from_the_gate_closure_of_the_oldest_uncleared_interval(market):
    k = market.k(0)
    before = k - timedelta(minutes=30)
    # 7 minutes after k's gate closure nothing has cleared: k is due, and so is the interval
    # before it (not started yet), whose gate closed 37 minutes ago.
    now = gate(k) + timedelta(minutes=7)
    m = scrape(now=now)
    assert value(m, "wattbit_clearing_overdue_seconds") == pytest.approx(37 * 60)
    assert value(m, "wattbit_clearing_due_intervals") == 2
    run_clear_interval(interval_start=before, now=now)
    m = scrape(now=now)
    assert value(m, "wattbit_clearing_overdue_seconds") == pytest.approx(7 * 60)
    assert value(m, "wattbit_clearing_due_intervals") == 1
    run_clear_interval(interval_start=k, now=now)
    m = scrape(now=now + timedelta(minutes=1))
    assert value(m, "wattbit_clearing_overdue_seconds") == 0
    assert value(m, "wattbit_clearing_due_intervals") == 0


def test_deliveries_pending_retrying_failed_and_orders_unacknowledged(market, receiver):
    register_webhook(market.charlie, receiver)
    k = market.k(0)
    run_clear_interval(interval_start=k, now=gate(k))
    orders = DispatchOrder.objects.filter(interval_start=k, is_current=True).count()
    m = scrape(now=gate(k))
    assert value(m, "wattbit_dispatch_deliveries", phase="pending") == 1
    assert value(m, "wattbit_dispatch_deliveries", phase="retrying") == 0
    assert value(m, "wattbit_dispatch_orders_awaiting_ack") == orders
    # Due at once: nobody has pushed it yet.
    assert value(m, "wattbit_dispatch_deliveries_due") == 1

    receiver.status = 500
    deliveries_push_due(now=gate(k))
    m = scrape(now=gate(k))
    assert value(m, "wattbit_dispatch_deliveries", phase="pending") == 0
    assert value(m, "wattbit_dispatch_deliveries", phase="retrying") == 1
    assert value(m, "wattbit_dispatch_deliveries_due") == 0  # its retry is scheduled later
    assert value(m, "wattbit_dispatch_deliveries_failed_total") == 0

    t = gate(k)
    while t < k + timedelta(minutes=1):
        deliveries_push_due(now=t)
        t += timedelta(seconds=100)
    assert orders_flag_unacknowledged(now=k) == orders
    m = scrape(now=k + timedelta(minutes=1))
    assert total(m, "wattbit_dispatch_deliveries") == 0
    assert value(m, "wattbit_dispatch_deliveries_failed_total") == 1
    assert value(m, "wattbit_dispatch_orders_unacknowledged_at_start_total") == orders
    assert value(m, "wattbit_dispatch_orders_awaiting_ack") == 0


def test_settlement_lag_runs_from_the_metering_deadline_until_settled(market):
    k = market.k(0)
    run_clear_interval(interval_start=k, now=gate(k))
    run = ClearingRun.objects.get(interval_start=k)
    deadline = metering_deadline(k, SettlementParameters.current())
    m = scrape(now=deadline - timedelta(seconds=1))
    assert value(m, "wattbit_settlement_lag_seconds") == 0
    assert value(m, "wattbit_settlement_intervals_due") == 0
    m = scrape(now=deadline + timedelta(minutes=10))
    assert value(m, "wattbit_settlement_lag_seconds") == pytest.approx(600)
    assert value(m, "wattbit_settlement_intervals_due") == 1
    interval_settle(run=run, now=deadline + timedelta(minutes=10))
    m = scrape(now=deadline + timedelta(minutes=11))
    assert value(m, "wattbit_settlement_lag_seconds") == 0
    assert value(m, "wattbit_settlement_intervals_due") == 0


def test_integrity_checks_record_their_verdicts_where_they_run():
    m = scrape()
    assert "wattbit_integrity_check_ok" not in m  # never ran: absent, not "ok"
    for i in range(3):
        audit_record(code="test.event", actor_label="system", object_id=str(i), payload={})
    issue_audit_checkpoint.delay().get()
    call_command("verify_audit_chain")
    call_command("check_ledger")
    m = scrape()
    for check in ("audit_checkpoint", "audit_chain", "ledger"):
        assert value(m, "wattbit_integrity_check_ok", check=check) == 1
        stamp = value(m, "wattbit_integrity_check_timestamp_seconds", check=check)
        assert abs(stamp - datetime.now(UTC).timestamp()) < 60

    # A row after the last checkpoint altered: the next checkpoint refuses to sign.
    for i in (3, 4):
        audit_record(code="test.event", actor_label="system", object_id=str(i), payload={})
    tamper.set_payload(4, {"changed": True})
    with pytest.raises(AuditChainBroken, match="does not verify"):
        issue_audit_checkpoint.delay().get()
    with pytest.raises(Exception, match="BROKEN"):
        call_command("verify_audit_chain")
    m = scrape()
    assert value(m, "wattbit_integrity_check_ok", check="audit_checkpoint") == 0
    assert value(m, "wattbit_integrity_check_ok", check="audit_chain") == 0
    assert value(m, "wattbit_integrity_check_ok", check="ledger") == 1


def test_a_failing_collector_is_reported_and_the_others_still_answer(monkeypatch, caplog):
    def broken(now):
        raise RuntimeError("database went away")
        yield  # a generator, like the others

    monkeypatch.setitem(domain.PARTS, "dispatch", broken)
    before = parse(Client().get("/metrics").content.decode())
    errors_before = value(before, "wattbit_collector_errors_total", collector="dispatch")
    response = Client().get("/metrics")
    assert response.status_code == 200
    m = parse(response.content.decode())
    assert value(m, "wattbit_collector_up", collector="dispatch") == 0
    assert value(m, "wattbit_collector_up", collector="clearing") == 1
    assert "wattbit_dispatch_deliveries" not in m
    assert "wattbit_clearing_runs" in m
    assert value(m, "wattbit_collector_errors_total", collector="dispatch") == errors_before + 1
    assert "the dispatch collector failed" in caplog.text


def test_queue_names_are_the_kinds_the_routes_and_the_default(settings):
    settings.CELERY_TASK_ROUTES = {"a.task": {"queue": "special"}, "b.task": "other"}
    settings.CELERY_TASK_DEFAULT_QUEUE = "dispatch"
    assert queue_names() == ["clearing", "dispatch", "settlement", "reports", "special", "other"]
