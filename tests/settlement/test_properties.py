"""Property tests of the money rules: any orders, prices and meter data balance exactly.

The planner is pure (no database) with in-memory accounts; the second property writes the
plans through the real ledger and compares statements with ledger totals.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from market.models.clearing import ClearingRun
from market.models.dispatch import OrderKind
from operators.models import Organisation
from settlement.choices import AccountKind, Component, Stage
from settlement.ledger import Accounts, PlannedEntry, entries_write, ledger_check
from settlement.models import reading_subject
from settlement.services.plan import (
    AllocationRow,
    AwardRow,
    IntervalInput,
    OrderRow,
    SiteRow,
    plan_interval,
)
from settlement.statements import statement_for, statement_ledger_net

AREAS = ("tokyo", "kyushu")
PROVIDERS, OWNERS, SUPPLIERS = (1, 2), (3, 4), (5, 6)


def _dec(places: int, lo: str, hi: str):
    return st.decimals(
        min_value=Decimal(lo),
        max_value=Decimal(hi),
        places=places,
        allow_nan=False,
        allow_infinity=False,
    )


@st.composite
def intervals(draw) -> IntervalInput:
    sites = {
        i: SiteRow(
            i, f"s{i}", draw(st.sampled_from(PROVIDERS)), draw(st.sampled_from(AREAS)),
            draw(_dec(4, "0.1", "3")), draw(_dec(2, "1", "2")),
        )
        for i in range(1, draw(st.integers(1, 4)) + 1)
    }  # fmt: skip
    area_price = {a: draw(_dec(4, "-20", "200")) for a in AREAS}
    allocations = []
    for workload in range(1, draw(st.integers(0, 8)) + 1):
        site = draw(st.sampled_from(sorted(sites)))
        compute = draw(_dec(4, "0", "5000"))
        energy = area_price[sites[site].area_id] * sites[site].kw_per_cu * sites[site].pue
        allocations.append(
            AllocationRow(
                site, workload, draw(st.sampled_from(OWNERS)), draw(_dec(6, "0.000001", "500")),
                compute, (compute + energy).quantize(Decimal("0.0001")),
            )
        )  # fmt: skip
    awards = []
    for offer in range(1, draw(st.integers(0, 4)) + 1):
        area = draw(st.sampled_from(AREAS))
        rent = draw(_dec(4, "0", "5"))
        awards.append(
            AwardRow(offer, draw(st.sampled_from(SUPPLIERS)), area, draw(_dec(3, "0.001", "9000")), area_price[area] - rent)
        )  # fmt: skip
    orders, next_id = [], itertools.count(1)
    for site_id in sorted({a.site_id for a in allocations}):
        orders.append(
            OrderRow(
                next(next_id), OrderKind.HOSTING, sites[site_id].organisation_id, site_id, None
            )
        )
        for owner in sorted({a.owner_id for a in allocations if a.site_id == site_id}):
            orders.append(OrderRow(next(next_id), OrderKind.PLACEMENT, owner, site_id, None))
    for supplier, area in sorted({(e.supplier_id, e.area_id) for e in awards}):
        orders.append(OrderRow(next(next_id), OrderKind.DELIVERY, supplier, None, area))
    delivered = {}
    for a in allocations:  # some metered (anything from 0 to 102 % of ordered), some missing
        if draw(st.booleans()):
            share = draw(_dec(3, "0", "1.02"))
            delivered[reading_subject("compute", site_id=a.site_id, workload_id=a.workload_id)] = (
                a.cu * share
            ).quantize(Decimal("0.000001"))
    for e in awards:
        if draw(st.booleans()):
            delivered[reading_subject("supply", offer_id=e.offer_id)] = (
                e.kwh * draw(_dec(3, "0", "1.02"))
            ).quantize(Decimal("0.001"))
    uplift = [
        (draw(st.sampled_from(OWNERS + PROVIDERS)), f"wl-{i}", draw(_dec(2, "0.01", "99999")))
        for i in range(draw(st.integers(0, 2)))
    ]
    return IntervalInput(
        run_id=1, orders=orders, allocations=allocations, awards=awards, sites=sites,
        area_price=area_price, grid_kwh={a: draw(_dec(3, "0", "5000")) for a in AREAS},
        uplift=uplift, delivered=delivered, fee_jpy_per_cu_h=draw(_dec(4, "0", "50")),
        deviation_multiplier=draw(_dec(3, "1", "3")),
    )  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(intervals())
def test_every_planned_entry_balances_to_the_yen(data):
    plans = plan_interval(data, Accounts(persist=False))
    assert set(plans) == {f"order:{o.id}" for o in data.orders} | (
        {"uplift:1"} if data.uplift else set()
    )
    for plan in plans.values():
        assert all(isinstance(line.amount_jpy, int) for line in plan.lines)
        assert sum(line.amount_jpy for line in plan.lines) == 0
        assert plan.complete == (not plan.missing)
        for line in plan.lines:
            if (
                line.component == Component.DEVIATION
                and line.account.kind == AccountKind.RECEIVABLE
            ):
                assert line.amount_jpy >= 0  # a shortfall never pays the party short
            if line.component == Component.ROUNDING:
                assert abs(line.amount_jpy) <= 2  # a residue of separately rounded sides


@settings(max_examples=300, deadline=None)
@given(intervals())
def test_deviation_is_at_least_the_cleared_value_of_the_shortfall(data):
    plans = plan_interval(data, Accounts(persist=False))
    by_site = defaultdict(list)
    for a in data.allocations:
        by_site[a.site_id].append(a)
    for order in data.orders:
        if order.kind != OrderKind.HOSTING:
            continue
        short_value = sum(
            (a.cu - data.delivered.get(reading_subject("compute", site_id=a.site_id, workload_id=a.workload_id), a.cu)).max(Decimal(0))
            * Decimal("0.5") * abs(a.all_in_jpy_per_cu_h)
            for a in by_site[order.site_id]
        )  # fmt: skip
        charged = sum(
            line.amount_jpy
            for line in plans[f"order:{order.id}"].lines
            if line.component == Component.DEVIATION and line.account.kind == AccountKind.RECEIVABLE
        )
        assert charged >= int(short_value) - 1  # multiplier ≥ 1; within one yen of rounding


_starts = itertools.count()


@pytest.mark.django_db
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=intervals())
def test_written_ledger_balances_and_statements_equal_ledger_totals(data, db):
    orgs = {}
    for pk in PROVIDERS + OWNERS + SUPPLIERS:
        orgs[pk], _ = Organisation.objects.get_or_create(
            pk=pk, defaults={"slug": f"org{pk}", "legal_name_ja": "x", "legal_name_en": "x"}
        )
    at = datetime(2030, 6, 1, tzinfo=UTC) + timedelta(minutes=30 * next(_starts))
    run = ClearingRun.objects.create(
        interval_start=at, horizon_intervals=1, gate_closure=at, status="completed"
    )
    accounts = Accounts()
    for org_pk in PROVIDERS + OWNERS + SUPPLIERS:  # the generated ids are these organisations
        accounts.org(org_pk, AccountKind.RECEIVABLE), accounts.org(org_pk, AccountKind.PAYABLE)
    plans = plan_interval(data, accounts)
    entries_write(
        [
            PlannedEntry(at, run.pk, None, "settlement", Stage.FINAL if p.complete else Stage.PROVISIONAL, "property", p.lines)
            for p in plans.values()
        ],
        now=at,
    )  # fmt: skip
    verdict = ledger_check(now=at)
    assert verdict.balance_jpy == 0
    assert verdict.unbalanced_entries == verdict.unbalanced_intervals == []
    assert verdict.hash_mismatches == []
    for org in orgs.values():
        statement = statement_for(organisation=org, month=f"{at:%Y-%m}")
        assert statement.totals.net_jpy == statement_ledger_net(
            organisation=org, month=f"{at:%Y-%m}"
        )
