"""run_market and replay_clearing from the command line."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from aggregator.engine.solve import ENGINE_VERSION
from market import calendar
from market.models.clearing import ClearingRun, RunStatus

pytestmark = pytest.mark.django_db


def test_run_market_clears_consecutive_intervals(market):
    out = io.StringIO()
    call_command(
        "run_market", intervals=4, start=calendar.iso_z(market.k(0)), settle=True, stdout=out
    )
    lines = out.getvalue().splitlines()
    progress = [line for line in lines if " CU | JPY/kWh " in line]
    assert len(progress) == 4
    assert "40.0 CU" in progress[0]
    assert lines[-2].startswith("summary: 4/4 intervals cleared, 160.0 CU-intervals")
    assert "settlement" in lines[-1]
    assert ClearingRun.objects.filter(status=RunStatus.COMPLETED).count() == 4


def test_run_market_twice_does_not_clear_twice(market):
    call_command("run_market", intervals=2, start=calendar.iso_z(market.k(0)), stdout=io.StringIO())
    out = io.StringIO()
    call_command("run_market", intervals=2, start=calendar.iso_z(market.k(0)), stdout=out)
    assert out.getvalue().count("(already cleared)") == 2
    assert ClearingRun.objects.count() == 2


def test_replay_all_proves_identical_and_flags_tampering(market):
    call_command("run_market", intervals=2, start=calendar.iso_z(market.k(0)), stdout=io.StringIO())
    out = io.StringIO()
    call_command("replay_clearing", all=True, stdout=out)
    assert "2 run(s) replayed identically" in out.getvalue()
    run = ClearingRun.objects.order_by("interval_start").last()
    doc = run.result_json.replace('"cu":32.0', '"cu":31.0', 1)
    ClearingRun.objects.filter(pk=run.pk).update(result_json=doc, result_sha256="f" * 64)
    out = io.StringIO()
    with pytest.raises(CommandError, match="did not replay identically"):
        call_command("replay_clearing", run.pk, stdout=out)
    assert "DIFFERENT" in out.getvalue() and "allocations[" in out.getvalue()
    assert "engine version" not in out.getvalue()  # same engine: the record was altered


def test_replay_names_an_engine_change(market):
    call_command("run_market", intervals=1, start=calendar.iso_z(market.k(0)), stdout=io.StringIO())
    run = ClearingRun.objects.get()
    assert f'"engine_version":{ENGINE_VERSION}' in run.result_json
    # A run cleared by the engine before versions were recorded, with another result.
    doc = run.result_json.replace(f'"engine_version":{ENGINE_VERSION},', "", 1)
    doc = doc.replace('"cu":32.0', '"cu":31.0', 1)
    ClearingRun.objects.filter(pk=run.pk).update(result_json=doc, result_sha256="e" * 64)
    out = io.StringIO()
    with pytest.raises(CommandError, match="did not replay identically"):
        call_command("replay_clearing", run.pk, stdout=out)
    assert f"solved by engine version 1, replayed with {ENGINE_VERSION}" in out.getvalue()


def test_run_market_refuses_bad_arguments(market):
    with pytest.raises(CommandError, match="interval start"):
        call_command("run_market", intervals=1, start="2030-04-01T03:10:00Z", stdout=io.StringIO())
    with pytest.raises(CommandError, match="between 1"):
        call_command("run_market", intervals=0, stdout=io.StringIO())
