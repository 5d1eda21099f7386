"""Market impact: hand-computed figures of a seeded market, scoping, and the ledger's money.

The cycle's small market (tests/cycle/conftest.py): owner delta's inference workload wants
40 CU in zone tokyo at up to 900 JPY/CU-h; alpha offers 32 CU in tokyo at 180 JPY/CU-h,
beta 32 CU in kyushu at 150 JPY/CU-h; gamma offers 2,000 kWh of curtailment relief in
kyushu at 0.01 JPY/kWh (20 gCO2/kWh); the grid costs 12 JPY/kWh everywhere and here emits
500 gCO2/kWh in tokyo. Both sites: 1.0 kW/CU × PUE 1.3 = 1.3 kWh per CU-hour, 2 ms to
tokyo, so the stay baseline's home is alpha-tky-1 (lowest latency, ties by id).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from aggregator.exchange.cycle import run_clear_interval
from market import calendar
from market.models.clearing import Allocation
from market.services.signals import signal_publish
from operators.models import Membership, Organisation
from settlement.choices import Component
from settlement.impact.selectors import firm_welfare, impact_for, month_impact
from settlement.impact.services import run_impact_ensure
from settlement.models import ImpactFigure, RunImpact
from settlement.services.settle import interval_settle
from settlement.statements import statement_for
from tests.conftest import actor_of, client_for
from tests.settlement.conftest import INTERVALS, deadline, gate, run_at
from tests.settlement.test_settle import report_all

pytestmark = pytest.mark.django_db
MONTH = "2030-04"  # K0 is 2030-04-01 12:00 JST
KWH_PER_CU_H = Decimal("1.3")
GRID_JPY_PER_KWH = Decimal(12)
RELIEF_JPY_PER_KWH = Decimal("0.01")
TOKYO_G_PER_KWH = Decimal(500)
RELIEF_G_PER_KWH = Decimal(20)


@pytest.fixture
def seeded(market):
    oscar = Membership.objects.get(user__username="oscar")
    signal_publish(
        actor=actor_of(oscar),
        kind="carbon",
        area="tokyo",
        values=[
            {"interval_start": calendar.iso_z(market.k(i)), "value": str(TOKYO_G_PER_KWH)}
            for i in range(INTERVALS + 8)
        ],
        source="test",
        now=market.k0 - timedelta(hours=3),
    )
    for i in range(2):
        run_clear_interval(interval_start=market.k(i), now=gate(market.k(i)))
    return market


def test_the_premise_kyushu_fills_first_and_tokyo_sets_the_price(seeded):
    """What the hand computation below assumes: 32 CU in kyushu, 8 in tokyo, and the
    marginal CU (tokyo) sets the all-in price: 180 + 12 × 1.3 = 195.6 JPY/CU-h."""
    rows = {a.site.code: a for a in Allocation.objects.filter(interval_start=seeded.k(0))}
    assert rows["beta-kyu-1"].cu == 32 and rows["alpha-tky-1"].cu == 8
    assert rows["alpha-tky-1"].all_in_jpy_per_cu_h == Decimal("195.6")
    assert rows["beta-kyu-1"].all_in_jpy_per_cu_h == Decimal("195.6")


def test_owner_figures_equal_the_hand_computation(seeded):
    o = month_impact(actor=actor_of(seeded.dave), month=MONTH).owner
    n = 2  # intervals cleared
    kyu_cu_h, tky_cu_h = Decimal(16), Decimal(4)  # per interval: 32 and 8 CU × 0.5 h
    assert o.cu_h == n * (kyu_cu_h + tky_cu_h)
    assert o.away_cu_h == n * kyu_cu_h
    assert [(r.area, r.cu_h) for r in o.away_by_area] == [("kyushu", n * kyu_cu_h)]
    # Stay: all 20 CU-h at home (tokyo) on grid energy: 20 × 1.3 × 12 = 312 JPY.
    stay = (kyu_cu_h + tky_cu_h) * KWH_PER_CU_H * GRID_JPY_PER_KWH
    # Cleared: kyushu energy at the relief price, tokyo at the grid's: 0.208 + 62.4.
    actual = kyu_cu_h * KWH_PER_CU_H * RELIEF_JPY_PER_KWH + tky_cu_h * KWH_PER_CU_H * 12
    assert stay == Decimal("312") and actual == Decimal("62.608")
    assert o.stay_energy_jpy == n * stay
    assert o.energy_jpy == n * actual
    assert o.saved_vs_stay_jpy == n * Decimal("249.392")
    # Greedy runs the workload exactly as the clearing does (kyushu first): nothing saved.
    assert o.greedy_cu_h == n * (kyu_cu_h + tky_cu_h)
    assert o.saved_vs_greedy_jpy == 0
    # CO2: 20 CU-h × 1.3 × 500 g at home; 16 × 1.3 × 20 g + 4 × 1.3 × 500 g as cleared.
    stay_g = (kyu_cu_h + tky_cu_h) * KWH_PER_CU_H * TOKYO_G_PER_KWH
    actual_g = kyu_cu_h * KWH_PER_CU_H * RELIEF_G_PER_KWH + tky_cu_h * KWH_PER_CU_H * 500
    assert o.co2_avoided_kg == n * (stay_g - actual_g) / 1000 == Decimal("19.968")
    assert o.relief_kwh == n * kyu_cu_h * KWH_PER_CU_H  # all kyushu energy was relief
    # Paid as cleared: 195.6 × 16 = 3,129.6 → 3,130 and 195.6 × 4 = 782.4 → 782, per order.
    assert o.paid_jpy == n * (3130 + 782)


def test_provider_and_supplier_figures(seeded):
    alpha = month_impact(actor=actor_of(seeded.alice), month=MONTH).provider
    assert [(s.site, s.offered_cu_h, s.sold_cu_h) for s in alpha.sites] == [("alpha-tky-1", 32, 8)]
    assert alpha.utilisation == Decimal("0.25")
    assert alpha.revenue_jpy == 2 * 720  # 4 CU-h × 180
    beta = month_impact(actor=actor_of(seeded.charlie), month=MONTH).provider
    assert beta.utilisation == 1
    # The kyushu compute price: 195.6 − 0.01 × 1.3 = 195.587; 16 CU-h → 3,129.392 → 3,129.
    assert beta.revenue_jpy == 2 * 3129
    gamma = month_impact(actor=actor_of(seeded.sue), month=MONTH).supplier
    assert gamma.kwh == gamma.relief_kwh == 2 * Decimal("20.8")
    assert gamma.revenue_jpy == 0  # 20.8 kWh × 0.01 = 0.208 JPY rounds to 0 per order


def test_each_organisation_sees_only_its_own_and_regulators_the_market(seeded):
    dave = month_impact(actor=actor_of(seeded.dave), month=MONTH)
    assert dave.provider is None and dave.supplier is None and dave.welfare is None
    alpha = month_impact(actor=actor_of(seeded.alice), month=MONTH)
    # alpha is also a workload owner, with no workload: none of delta's figures leak to it.
    assert alpha.owner is not None and alpha.owner.cu_h == 0 and alpha.owner.away_cu_h == 0
    assert [s.site for s in alpha.provider.sites] == ["alpha-tky-1"]
    rita = month_impact(actor=actor_of(seeded.rita), month=MONTH)
    assert rita.market_wide
    assert [s.site for s in rita.provider.sites] == ["alpha-tky-1", "beta-kyu-1"]
    assert rita.owner.saved_vs_stay_jpy == dave.owner.saved_vs_stay_jpy
    assert rita.provider.revenue_jpy == 2 * (720 + 3129)
    assert rita.welfare is not None
    # Over HTTP: the owner's page names no provider's site; the regulator's names both.
    owner_page = client_for(seeded.dave).get(f"/impact/?month={MONTH}").content.decode()
    assert "beta-kyu-1" not in owner_page and "alpha-tky-1" not in owner_page
    assert 'id="owner-saved-stay">¥499<' in owner_page  # 498.784 JPY
    regulator_page = client_for(seeded.rita).get(f"/impact/?month={MONTH}").content.decode()
    assert "beta-kyu-1" in regulator_page and 'id="welfare-clearing"' in regulator_page


def test_firm_welfare_is_one_interval_per_run(seeded):
    """The market's welfare counts each run's firm interval once, not its 8-interval horizon:
    the workload's 20 CU-h are worth 900 JPY/CU-h, less compute and energy at offer prices."""
    welfare = firm_welfare(start=seeded.k(0), end=seeded.k(2))
    value = 20 * 900
    compute = 16 * 150 + 4 * 180
    energy = Decimal("16") * KWH_PER_CU_H * RELIEF_JPY_PER_KWH + 4 * KWH_PER_CU_H * 12
    assert welfare.welfare_jpy == 2 * (value - compute - energy)
    # Stay runs all 40 CU… at home only as far as its 32 CU go, on grid energy.
    stay = 16 * 900 - 16 * 180 - 16 * KWH_PER_CU_H * 12
    assert welfare.stay_welfare_jpy == 2 * stay
    assert welfare.greedy_welfare_jpy == welfare.welfare_jpy


def test_money_reconciles_with_the_ledger_for_a_settled_month(seeded):
    """Settled provisionally (no meter data: ordered quantities) and finally on full meter
    data, the page's cleared and settled figures equal the statements' lines."""
    Organisation.objects.filter(slug="ops").update(invoice_registration_number="T1234567890123")
    k0, k1 = seeded.k(0), seeded.k(1)
    report_all(seeded, k0)
    interval_settle(run=run_at(k0), now=deadline(k0))
    interval_settle(run=run_at(k1), now=deadline(k1))

    def statement_sum(slug: str, component: str) -> int:
        statement = statement_for(organisation=Organisation.objects.get(slug=slug), month=MONTH)
        return sum(line.amount_jpy for line in statement.lines if line.kind == component)

    owner = month_impact(actor=actor_of(seeded.dave), month=MONTH).owner
    assert owner.paid_ledger_jpy == -statement_sum("delta", Component.COMPUTE_ENERGY)
    assert owner.paid_ledger_jpy == owner.paid_jpy == 2 * (3130 + 782)
    for member, slug in ((seeded.alice, "alpha"), (seeded.charlie, "beta")):
        provider = month_impact(actor=actor_of(member), month=MONTH).provider
        assert provider.revenue_ledger_jpy == statement_sum(slug, Component.COMPUTE)
        assert provider.revenue_ledger_jpy == provider.revenue_jpy
        for site in provider.sites:
            assert site.revenue_ledger_jpy == site.revenue_jpy
    supplier = month_impact(actor=actor_of(seeded.sue), month=MONTH).supplier
    assert supplier.revenue_ledger_jpy == statement_sum("gamma", Component.ENERGY_SUPPLY)
    market = month_impact(actor=actor_of(seeded.rita), month=MONTH)
    assert market.owner.paid_ledger_jpy == owner.paid_ledger_jpy
    assert market.intervals_settled == 2


def test_missing_and_stale_figures_are_computed_on_read(seeded):
    assert RunImpact.objects.count() == 2
    ImpactFigure.objects.all().delete()
    RunImpact.objects.filter(run=run_at(seeded.k(0))).delete()
    RunImpact.objects.filter(run=run_at(seeded.k(1))).update(redispatches=5)  # stale
    o = month_impact(actor=actor_of(seeded.dave), month=MONTH).owner
    assert o.saved_vs_stay_jpy == 2 * Decimal("249.392")
    assert run_impact_ensure(start=seeded.k(0), end=seeded.k(2)) == (2, 0)  # nothing left


def test_the_dashboard_card_and_a_bad_month(seeded):
    week = impact_for(actor=actor_of(seeded.dave), start=seeded.k(0), end=seeded.k(48))
    assert week.owner.away_cu_h == 32
    client = client_for(seeded.dave)
    assert client.get("/").status_code == 200
    response = client.get("/impact/?month=2030-13")
    assert response.status_code == 200
    assert "YYYY-MM" in response.content.decode()


def test_a_page_view_computes_a_bounded_number_of_runs_and_says_what_is_left(seeded, monkeypatch):
    from django.core.management import call_command

    from settlement.impact import selectors

    ImpactFigure.objects.all().delete()
    RunImpact.objects.all().delete()
    monkeypatch.setattr(selectors, "ON_READ_LIMIT", 1)
    first = month_impact(actor=actor_of(seeded.dave), month=MONTH)
    assert first.runs_pending == 1
    assert first.owner.saved_vs_stay_jpy == Decimal("249.392")  # one run counted
    client_for(seeded.dave).get(f"/impact/?month={MONTH}")
    assert RunImpact.objects.count() == 2  # the page view computed the second
    RunImpact.objects.all().delete()
    page = client_for(seeded.dave).get(f"/impact/?month={MONTH}").content.decode()
    assert "まだ計算中" in page  # "… still being computed", in the default Japanese
    RunImpact.objects.all().delete()
    call_command("record_impact", month=MONTH)
    assert RunImpact.objects.count() == 2
    assert month_impact(actor=actor_of(seeded.dave), month=MONTH).runs_pending == 0


def test_a_redispatch_is_counted_as_its_current_rows_say(seeded):
    from market.services.redispatch import redispatch_site_outage
    from operators.models import Site

    k = seeded.k(0)
    redispatch_site_outage(
        actor=actor_of(seeded.charlie),
        site=Site.objects.get(code="beta-kyu-1"),
        interval_start=k,
        cu_available=16,
        now=k,
    )
    # Interval 0 now runs 16 CU in kyushu (8 CU-h away) and 24 at home; interval 1 unchanged.
    rows = {a.site.code: a.cu for a in Allocation.objects.filter(interval_start=k, is_current=True)}
    assert rows == {"beta-kyu-1": 16, "alpha-tky-1": 24}
    o = month_impact(actor=actor_of(seeded.dave), month=MONTH).owner
    assert o.away_cu_h == 8 + 16
    assert o.relief_kwh == (8 + 16) * KWH_PER_CU_H


def test_the_daily_series_add_up_to_the_month(seeded):
    from settlement.impact.selectors import daily_impact

    start, end = seeded.k(0) - timedelta(days=3), seeded.k(0) + timedelta(days=3)
    daily = daily_impact(actor=actor_of(seeded.dave), start=start, end=end)
    assert [calendar.to_jst(d).date().isoformat() for d in daily.days] == ["2030-04-01"]
    assert daily.saved_vs_stay_jpy == [2 * Decimal("249.392")]
    provider = daily_impact(actor=actor_of(seeded.alice), start=start, end=end)
    assert provider.utilisation_pct == [25]  # 8 of 32 CU-h
    page = client_for(seeded.dave).get(f"/impact/?month={MONTH}").content.decode()
    assert 'id="impact-daily"' in page and "2030-04-01" in page
    assert 'id="chart-impact-savings"' in page


def test_the_csv_export_holds_the_pages_figures_for_the_same_reader(seeded):
    import csv
    import io

    def rows(member, query=f"?month={MONTH}"):
        response = client_for(member).get(f"/impact/export.csv{query}")
        assert response.status_code == 200, response.status_code
        text = b"".join(response.streaming_content).decode("utf-8-sig")
        return list(csv.reader(io.StringIO(text)))[1:]

    owner = {(r[0], r[1], r[2]): (Decimal(r[3]) if r[3] else None, r[4]) for r in rows(seeded.dave)}
    assert owner[("owner", "", "saved_vs_stay_jpy")] == (Decimal("498.784"), "JPY")
    assert owner[("owner", "", "away_cu_h")] == (32, "CU-h")
    assert owner[("owner", "", "paid_as_cleared_jpy")] == (2 * (3130 + 782), "JPY")
    assert owner[("daily", "2030-04-01", "saved_vs_stay_jpy")] == (Decimal("498.784"), "JPY")
    assert not any(table == "sites" for table, _s, _f in owner)  # no provider's figures
    regulator = {(r[0], r[1], r[2]) for r in rows(seeded.rita)}
    assert ("sites", "beta-kyu-1", "revenue_as_cleared_jpy") in regulator
    assert ("welfare", "", "welfare_jpy") in regulator
    assert client_for(seeded.dave).get("/impact/export.csv?month=2030-13").status_code == 400


def test_the_market_operator_sees_the_market_like_a_regulator(seeded):
    oscar = Membership.objects.get(user__username="oscar")
    market = month_impact(actor=actor_of(oscar), month=MONTH)
    assert market.market_wide and market.welfare is not None
    assert market.owner.saved_vs_stay_jpy == 2 * Decimal("249.392")
    assert [s.site for s in market.provider.sites] == ["alpha-tky-1", "beta-kyu-1"]
