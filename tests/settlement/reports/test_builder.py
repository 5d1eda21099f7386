"""Report figures on a small cleared market, checked by hand (see conftest for the market)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aggregator.platform.errors import InvalidInput
from market.models.clearing import ClearingRun
from settlement.reports.builder import build_market_report
from settlement.reports.metrics import hhi, ratio
from settlement.reports.periods import day_period, month_period, period_from


def test_hhi_and_ratio_by_hand():
    assert hhi({"a": Decimal(50), "b": Decimal(50)}) == 5000.0
    assert hhi({"a": 32, "b": 16}) == pytest.approx(5555.6)
    assert hhi({"only": 7}) == 10000.0
    assert hhi({"a": 0}) is None and hhi({}) is None
    assert ratio(96, 80) == 1.2 and ratio(10, 0) is None


def test_periods_are_jst_days_and_months():
    day = day_period("2030-04-01")
    assert day.start.isoformat() == "2030-03-31T15:00:00+00:00" and day.intervals == 48
    month = month_period("2030-12")
    assert month.start.isoformat() == "2030-11-30T15:00:00+00:00"
    assert month.end.isoformat() == "2030-12-31T15:00:00+00:00" and month.intervals == 31 * 48
    for bad in ({"day": "2030-02-30"}, {"month": "2030-13"}, {"month": "2030-4"}, {}):
        with pytest.raises(InvalidInput):
            period_from(**bad)
    with pytest.raises(InvalidInput):
        period_from(day="2030-04-01", month="2030-04")


def test_report_figures_on_a_cleared_market(cleared_market):
    period = day_period("2030-04-01")  # K0 = 12:00 JST that day
    report = build_market_report(start=period.start, end=period.end, period=period.label)
    assert (report.intervals_in_period, report.intervals_cleared) == (48, 2)
    kyushu = next(a for a in report.areas if a.area == "kyushu")
    tokyo = next(a for a in report.areas if a.area == "tokyo")
    # Capacity offered per interval in kyushu: beta 32 + alpha 16 → 2/3, 1/3.
    assert kyushu.cu_offered == 2 * 48
    assert kyushu.hhi_capacity_offered == pytest.approx(5555.6)
    # Cleared: beta 32 + alpha 8 per interval → 80 %, 20 % → 6,400 + 400.
    assert kyushu.cu_cleared == 2 * 40
    assert kyushu.hhi_capacity_cleared == pytest.approx(6800.0)
    assert kyushu.capacity_bid_to_clear == 1.2
    assert tokyo.cu_cleared == 0 and tokyo.hhi_capacity_offered == 10000.0
    assert tokyo.hhi_capacity_cleared is None and tokyo.capacity_bid_to_clear is None
    # Curtailment relief: 40 CU × 1.0 kW × 1.3 × 0.5 h = 26 kWh per interval, all from the offer.
    assert kyushu.curtailment_relief_kwh == Decimal(52)
    assert report.curtailment_relief_kwh == Decimal(52)
    assert kyushu.kwh_offered == 2 * 2000 and kyushu.energy_bid_to_clear == pytest.approx(76.923)
    assert kyushu.hhi_energy_cleared == 10000.0
    # CO2: cleared 26 kWh × 20 g; stay puts the workload at alpha-kyu-1 (lowest latency,
    # ties by id), 16 CU × 1.3 × 0.5 = 10.4 kWh of kyushu grid at 500 g — per interval.
    assert report.carbon.co2_t == pytest.approx(2 * 26 * 20 / 1e6)
    assert report.carbon.co2_stay_t == pytest.approx(2 * 10.4 * 500 / 1e6)
    assert report.carbon.avoided_vs_stay_t == pytest.approx((10400 - 1040) / 1e6)
    assert report.carbon.cu_h == 40 and report.carbon.cu_h_stay == 16
    # Welfare of the firm intervals only, per interval: 40 CU × 0.5 h worth 900 JPY/CU-h,
    # less compute 32 × 0.5 × 150 + 8 × 0.5 × 160 and 26 kWh of relief at 0.01 JPY/kWh.
    assert report.welfare.welfare_jpy == 2 * (18000 - 3040 - Decimal("0.26"))
    # Stay: 16 CU at home (alpha-kyu-1), 8 CU-h × (900 − 160) less 10.4 kWh of grid at 12.
    assert report.welfare.stay_welfare_jpy == 2 * (7200 - 1280 - Decimal("124.8"))
    assert report.welfare.saving_vs_stay_jpy == (
        report.welfare.welfare_jpy - report.welfare.stay_welfare_jpy
    )
    # The runs' stored welfare covers their 8-interval horizons: far more than the firm one.
    runs = list(ClearingRun.objects.order_by("interval_start"))
    assert sum(r.welfare_jpy for r in runs) > report.welfare.welfare_jpy
    assert report.welfare.saving_vs_greedy_jpy >= 0
    # Per run the same firm figures, so the runs table and the charts add up to the headline.
    assert [r.welfare_jpy for r in report.runs] == [18000 - 3040 - Decimal("0.26")] * 2
    assert sum(r.saving_vs_stay_jpy for r in report.runs) == report.welfare.saving_vs_stay_jpy
    # Bids: 40 CU of inference per interval, all cleared.
    assert report.cu_demanded == 80 and report.workload_bid_to_clear == 1.0
    assert report.cu_h_demanded == 40 and report.cu_h_cleared == 40  # CU-hours, as shown
    # Orders: per interval 2 hosting + 2 placement + 1 delivery, none acknowledged yet.
    assert report.compliance.orders == 10 and report.compliance.pending == 10
    assert report.audit.ok and report.audit.checked > 0
    assert report.interventions == []
    prices = {(r.area, r.interval_start): r for r in report.area_intervals}
    assert prices[("kyushu", cleared_market.k0)].cu_cleared == 40


def test_an_empty_period_reports_nothing_cleared(db):
    period = day_period("2031-01-01")
    report = build_market_report(start=period.start, end=period.end, period=period.label)
    assert report.intervals_cleared == 0 and report.runs == []
    assert report.welfare.welfare_jpy == 0 and report.carbon.co2_t == 0
    assert all(a.hhi_capacity_cleared is None for a in report.areas)


def test_a_redispatch_shows_as_an_intervention(cleared_market):
    from market.services.redispatch import redispatch_site_outage
    from operators.models import Site
    from tests.conftest import actor_of

    k = cleared_market.k0
    redispatch_site_outage(
        actor=actor_of(cleared_market.charlie),
        site=Site.objects.get(code="beta-kyu-1"),
        interval_start=k,
        cu_available=16,
        now=k,
    )
    period = day_period("2030-04-01")
    report = build_market_report(start=period.start, end=period.end, period=period.label)
    (event,) = report.interventions
    assert event.kind == "redispatch" and event.interval_start == k
    assert "site_outage beta-kyu-1" in event.summary and event.actor == "user:charlie"
    assert report.runs[0].redispatches == 1
    assert report.compliance.superseded_versions > 0


def test_the_report_opens_on_the_last_day_with_data(cleared_market):
    from datetime import timedelta

    from settlement.reports.periods import default_day

    # Days later, with no run since: the day of the last completed run (JST), not yesterday.
    assert default_day(cleared_market.k0 + timedelta(days=5)) == "2030-04-01"
    # Runs clear ahead of their intervals (`run_market` a day ahead): the day before them
    # still opens on the day they cleared, not on an empty yesterday.
    assert default_day(cleared_market.k0 - timedelta(hours=20)) == "2030-04-01"


def test_an_empty_market_opens_on_yesterday(db):
    from datetime import UTC, datetime

    from settlement.reports.periods import default_day

    assert default_day(datetime(2030, 4, 2, 3, 0, tzinfo=UTC)) == "2030-04-01"
