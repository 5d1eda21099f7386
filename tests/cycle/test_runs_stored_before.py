"""Runs stored by the code before the layers moved (issue 15) still replay, and translate to
exactly the rows that code wrote.

The fixture is a small database made by that code (commit d96593a): the demo market, five
intervals cleared by `run_market` (two of them at midday, with energy awards), a site outage
and an energy-offer change re-dispatched — dumped with the rows every run and re-dispatch
wrote. The translator (market/services/firm_rows.py) must turn each stored result into the
same rows, and `replay_clearing --all` must reproduce every stored result.
"""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from market import calendar
from market.models.clearing import (
    Allocation,
    CapacitySale,
    ClearingRun,
    ComputePrice,
    EnergyAward,
    EnergyPrice,
    GridPurchase,
    UpliftPayment,
)
from market.services.firm_rows import firm_rows
from operators.models import Site

FIXTURE = Path(__file__).parent / "data" / "runs-before-the-layers.json.gz"

pytestmark = pytest.mark.django_db


@pytest.fixture
def stored(db):
    call_command("loaddata", str(FIXTURE), verbosity=0)
    return list(ClearingRun.objects.order_by("interval_start"))


def _key(row) -> tuple:
    fields = {
        Allocation: ("interval_start", "workload_id", "site_id", "cu", "compute_jpy_per_cu_h",
                     "all_in_jpy_per_cu_h"),
        EnergyAward: ("interval_start", "offer_id", "kwh", "jpy_per_kwh"),
        GridPurchase: ("interval_start", "area_id", "kwh"),
        CapacitySale: ("interval_start", "offer_id", "cu", "jpy_per_cu_h"),
        UpliftPayment: ("participant", "organisation_id", "jpy"),
        ComputePrice: ("interval_start", "site_id", "jpy_per_cu_h"),
        EnergyPrice: ("interval_start", "area_id", "jpy_per_kwh", "supplier_jpy_per_kwh",
                      "cap_rent_jpy_per_kwh"),
    }[type(row)]  # fmt: skip
    return tuple(getattr(row, name) for name in fields)


def _stored(model, run, redispatch=None) -> list[tuple]:
    rows = model.objects.filter(run=run)
    if model not in (ComputePrice, EnergyPrice):  # prices are the run's: never re-dispatched
        rows = rows.filter(redispatch=redispatch)
    return sorted(_key(r) for r in rows)


def _built(rows) -> list[tuple]:
    return sorted(_key(r) for r in rows)


def test_the_fixture_covers_what_the_translator_writes(stored):
    assert len(stored) == 5
    assert EnergyAward.objects.filter(redispatch=None).exists()
    assert Allocation.objects.exclude(redispatch=None).exists()
    assert EnergyAward.objects.exclude(redispatch=None).exists()


def test_every_stored_run_translates_to_the_rows_the_old_code_wrote(stored):
    sites = {s.code: s for s in Site.objects.select_related("organisation")}
    for run in stored:
        snapshot = json.loads(run.snapshot_json)
        rows = firm_rows(
            run=run,
            snapshot=snapshot,
            result=json.loads(run.result_json),
            firm=set(range(int(snapshot.get("firm_intervals", 1)))),
            interval_starts=[calendar.parse_iso(x) for x in snapshot["intervals"]],
            sites=sites,
        )
        assert _built(rows.allocations) == _stored(Allocation, run)
        assert _built(rows.energy_awards) == _stored(EnergyAward, run)
        assert _built(rows.grid_purchases) == _stored(GridPurchase, run)
        assert _built(rows.capacity_sales) == _stored(CapacitySale, run)
        assert _built(rows.uplift_payments) == _stored(UpliftPayment, run)
        assert _built(rows.compute_prices) == _stored(ComputePrice, run)
        assert _built(rows.energy_prices) == _stored(EnergyPrice, run)


def test_every_stored_redispatch_translates_to_the_rows_the_old_code_wrote(stored):
    sites = {s.code: s for s in Site.objects.select_related("organisation")}
    redispatched = [run for run in stored if run.redispatches.exists()]
    assert len(redispatched) == 2
    for run in redispatched:
        record = run.redispatches.get()  # one each: before it, the run's own rows were current
        before = {
            (a.workload_id, a.site.code): a
            for a in Allocation.objects.filter(run=run, redispatch=None).select_related("site")
        }
        rows = firm_rows(
            run=run,
            snapshot=json.loads(record.snapshot_json),
            result=json.loads(record.result_json),
            firm={0},
            interval_starts=[run.interval_start],
            sites=sites,
            redispatch=record,
            with_prices=False,
            cleared_before=before,
        )
        assert _built(rows.allocations) == _stored(Allocation, run, record)
        assert _built(rows.energy_awards) == _stored(EnergyAward, run, record)
        assert _built(rows.grid_purchases) == _stored(GridPurchase, run, record)
        assert _built(rows.capacity_sales) == _stored(CapacitySale, run, record)
        assert _built(rows.uplift_payments) == _stored(UpliftPayment, run, record)
        assert rows.compute_prices == rows.energy_prices == []


def test_replay_clearing_all_reproduces_every_stored_run(stored):
    out = StringIO()
    call_command("replay_clearing", "--all", stdout=out)
    lines = out.getvalue().splitlines()
    assert sum(": identical (cleared with" in line for line in lines) == 5
    assert lines[-1] == "5 run(s) replayed identically"
