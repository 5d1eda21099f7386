"""The background path for real (eager Celery): beat's task settles, late data finalises."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from market import calendar
from settlement.choices import Stage
from settlement.models.ledger import IntervalSettlement
from settlement.selectors import delivery_compliance
from settlement.services.meter import meter_report_bulk
from settlement.tasks import settle_due_intervals
from tests.conftest import actor_of
from tests.settlement.conftest import deadline, full_readings

pytestmark = pytest.mark.django_db


def test_beat_task_settles_due_intervals_once(cleared):
    now = calendar.iso_z(deadline(cleared.k(1)))
    assert settle_due_intervals.apply(args=[now]).get()["settled"] == 2
    assert settle_due_intervals.apply(args=[now]).get()["settled"] == 0
    assert set(IntervalSettlement.objects.values_list("state", flat=True)) == {Stage.PROVISIONAL}


def test_late_meter_data_finalises_after_commit(cleared, django_capture_on_commit_callbacks):
    k = cleared.k(0)
    settle_due_intervals.apply(args=[calendar.iso_z(deadline(k))]).get()
    late = deadline(k) + timedelta(minutes=30)
    provider, supplier = full_readings(k)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        for prefix, member in (("alpha", cleared.alice), ("beta", cleared.charlie)):
            items = [p for p in provider if p["site"].startswith(prefix)]
            meter_report_bulk(actor=actor_of(member), items=items, now=late)
        meter_report_bulk(actor=actor_of(cleared.sue), items=supplier, now=late)
    assert callbacks  # the finalisation was enqueued after commit, and ran
    assert IntervalSettlement.objects.get(interval_start=k).state == Stage.FINAL


def test_delivery_compliance_counts_shortfalls_and_missing(cleared):
    k = cleared.k(0)
    provider, supplier = full_readings(k, Decimal("0.5"))
    items = [p for p in provider if p["site"].startswith("alpha")]
    meter_report_bulk(actor=actor_of(cleared.alice), items=items, now=k + calendar.INTERVAL)
    report = delivery_compliance(start=k, end=k + calendar.INTERVAL)
    assert report["compute_lines"] == len(provider)
    assert report["compute_metered"] == len(items) == report["compute_shortfalls"]
    assert report["compute_missing"] == len(provider) - len(items)
    assert report["supply_missing"] == len(supplier)
    assert report["delivered_cu_h"] * 2 < report["ordered_cu_h"]
    assert set(report["areas"]) == {"tokyo", "kyushu"}
