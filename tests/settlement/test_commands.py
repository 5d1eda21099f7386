"""run_market --settle and check_ledger from the command line."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import transaction

from market import calendar
from settlement.ledger import ledger_check
from settlement.models import MeterReading
from settlement.models.ledger import IntervalSettlement

pytestmark = pytest.mark.django_db


def test_run_market_settle_meters_settles_and_summarises(market):
    out = io.StringIO()
    call_command(
        "run_market",
        intervals=4,
        start=calendar.iso_z(market.k(0)),
        settle=True,
        seed=3,
        stdout=out,
    )
    last = out.getvalue().splitlines()[-1]
    assert last.startswith("settlement: 4 interval(s) settled")
    assert "balance +0 JPY" in last and "check OK" in last
    assert IntervalSettlement.objects.count() == 4
    assert MeterReading.objects.exists()
    assert ledger_check(now=market.k(8)).ok
    out = io.StringIO()
    call_command("check_ledger", stdout=out)
    assert "ledger OK" in out.getvalue()


class _Undo(Exception):
    """Raised to roll a whole run_market back, so the next run starts from the same state."""


def _readings_of_a_run(market, seed: int) -> list[tuple]:
    """The meter readings `run_market --settle --seed` writes, then everything undone."""
    readings: list[tuple] = []
    try:
        with transaction.atomic():
            call_command(
                "run_market", intervals=2, start=calendar.iso_z(market.k(0)), settle=True,
                seed=seed, stdout=io.StringIO(),
            )  # fmt: skip
            readings = list(
                MeterReading.objects.order_by("subject", "interval_start", "kind").values_list(
                    "subject", "interval_start", "kind", "cu", "kwh"
                )
            )
            raise _Undo
    except _Undo:
        pass
    assert not MeterReading.objects.exists()
    return readings


def test_run_market_settle_is_deterministic_for_a_seed(market):
    # Whole runs from the same state: clearing, the demo meter data and settlement again.
    first = _readings_of_a_run(market, seed=3)
    assert first
    assert _readings_of_a_run(market, seed=3) == first
    # The seed matters (so the equality above is not vacuous).
    assert _readings_of_a_run(market, seed=4) != first
