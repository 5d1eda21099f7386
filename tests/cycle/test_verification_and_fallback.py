"""Replay is independent verification (another solver backend), and a clearing that runs out
of its time budget publishes the engine's fallback, flagged wherever a run is shown."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from aggregator.exchange.cycle import clearing_budget_s, run_clear_interval
from aggregator.exchange.replay import replay_run
from aggregator.platform.models import AuditEvent
from market.models.clearing import Allocation, RunStatus
from settlement.reports.builder import build_market_report
from tests.conftest import client_for
from tests.cycle.conftest import gate

pytestmark = pytest.mark.django_db


def test_the_budget_is_what_is_left_before_the_interval_less_the_margin(market, settings):
    k = market.k(0)
    settings.CLEARING_FINISH_BEFORE_S = 600
    assert clearing_budget_s(k, gate(k)) == 50 * 60  # 60-min lead, 10 min margin
    settings.CLEARING_MIN_BUDGET_S = 15
    assert clearing_budget_s(k, k - timedelta(minutes=5)) == 15  # a late trigger


def test_a_replay_re_solves_with_another_backend_and_proves_the_run(market):
    k = market.k(0)
    run = run_clear_interval(interval_start=k, now=gate(k)).run
    verdict = replay_run(run)
    assert verdict.ok, verdict.first_difference
    assert verdict.run_solver == "highs" and verdict.replay_solver == "ortools-glop"
    event = AuditEvent.objects.filter(code="aggregator.replay.checked").latest("seq")
    assert (event.payload["run_solver"], event.payload["replay_solver"]) == (
        "highs",
        "ortools-glop",
    )
    page = client_for(market.rita).get("/market/runs/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "identical with ortools-glop" in page


def test_a_clearing_out_of_time_publishes_the_fallback_flagged_everywhere(market, monkeypatch):
    """The engine's own tests run a large market out of a tiny budget; here the small market
    is made to fall back (force_fallback: what the engine does when the exact solve misses
    its budget), to follow the flag through the exchange: run, audit, API, page, report."""
    import aggregator.exchange.cycle as cycle
    from aggregator.engine import SolveOptions

    budgets = []

    def out_of_time(**kwargs):
        budgets.append(kwargs["time_budget_s"])
        return SolveOptions(**kwargs, force_fallback=True)

    monkeypatch.setattr(cycle, "SolveOptions", out_of_time)
    k = market.k(0)
    run = run_clear_interval(interval_start=k, now=gate(k)).run
    assert 49 * 60 < budgets[0] <= 50 * 60  # the cycle passed its budget to the engine
    assert run.status == RunStatus.COMPLETED
    assert run.fallback["reason"] == "forced" and run.fallback["detail"]
    assert json.loads(run.result_json)["fallback"] == run.fallback
    assert Allocation.objects.filter(run=run).exists()  # orders still go out
    event = AuditEvent.objects.filter(code="market.clearing.completed").latest("seq")
    assert event.payload["fallback"]["reason"] == "forced"
    api = client_for(market.rita).get(f"/api/v1/clearing-runs/{run.pk}/").json()
    assert api["fallback"]["reason"] == "forced"
    page = client_for(market.rita).get("/market/runs/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "fallback" in page
    report = build_market_report(start=k, end=k + timedelta(hours=1))
    assert [i.kind for i in report.interventions if i.kind == "fallback"] == ["fallback"]
    # The regulator's replay reproduces the published fallback, with the other backend too.
    verdict = replay_run(run)
    assert verdict.ok, verdict.first_difference
