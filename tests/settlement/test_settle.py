"""Interval settlement: hand-checked amounts, deviation, provisional → final, exactly once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import F

from aggregator.platform.models import AuditEvent
from settlement.choices import AccountKind, Component, EntryKind, Stage
from settlement.ledger import ledger_check
from settlement.models import AppendOnlyError, SettlementParameters
from settlement.models.ledger import IntervalSettlement, JournalEntry, Posting, Settlement
from settlement.services.meter import meter_report_bulk
from settlement.services.settle import interval_finalise, interval_settle, settle_due
from tests.conftest import actor_of
from tests.settlement.conftest import allocations, awards, deadline, ended, full_readings, run_at

pytestmark = pytest.mark.django_db

HALF = Decimal("0.5")
D = Decimal


def _yen(x: Decimal) -> int:
    return int(x.quantize(Decimal(1), rounding="ROUND_HALF_EVEN"))


def report_all(m, k, factor=Decimal(1), *, provider_factor=None, when=None):
    """Every provider and supplier reports `factor` × what it was ordered."""
    when = when or ended(k)
    provider, supplier = full_readings(k, provider_factor or factor)
    by_org = {"alpha": m.alice, "beta": m.charlie}
    for prefix, member in by_org.items():
        items = [p for p in provider if p["site"].startswith(prefix)]
        if items:
            meter_report_bulk(actor=actor_of(member), items=items, now=when)
    _p, supplier = full_readings(k, factor)
    if supplier:
        meter_report_bulk(actor=actor_of(m.sue), items=supplier, now=when)


def org_sum(org_slug: str, kind: str, component: str | None = None) -> int:
    qs = Posting.objects.filter(account__organisation__slug=org_slug, account__kind=kind)
    if component:
        qs = qs.filter(component=component)
    return sum(qs.values_list("amount_jpy", flat=True))


def test_final_settlement_pays_and_charges_at_cleared_prices(cleared):
    k = cleared.k(0)
    report_all(cleared, k)
    outcome = interval_settle(run=run_at(k), now=deadline(k))
    assert outcome.did_work and outcome.state == Stage.FINAL and outcome.provisional_items == 0
    fee = SettlementParameters.current().market_fee_jpy_per_cu_h
    rows = allocations(k)
    assert rows, "the fixture market clears something"
    # The owner (delta) pays all-in × CU-h per site order, plus the fee per CU-h.
    owed = sum(_yen(a.cu * HALF * a.all_in_jpy_per_cu_h) for a in rows)
    fees = sum(_yen(a.cu * HALF * fee) for a in rows)
    assert org_sum("delta", AccountKind.RECEIVABLE, Component.COMPUTE_ENERGY) == owed
    assert org_sum("delta", AccountKind.RECEIVABLE, Component.MARKET_FEE) == fees
    # Each provider receives compute price × CU-h at its site (a credit: negative).
    for slug in ("alpha", "beta"):
        mine = [a for a in rows if a.site.organisation.slug == slug]
        expected = sum(_yen(a.cu * HALF * a.compute_jpy_per_cu_h) for a in mine)
        assert org_sum(slug, AccountKind.PAYABLE, Component.COMPUTE) == -expected
    # No shortfall, no deviation.
    assert not Posting.objects.filter(component=Component.DEVIATION).exists()
    verdict = ledger_check(now=deadline(k))
    assert verdict.ok, verdict.problems
    assert verdict.balance_jpy == 0


def test_grid_energy_passes_through_to_the_provider(cleared):
    k = cleared.k(0)
    report_all(cleared, k)
    interval_settle(run=run_at(k), now=deadline(k))
    # alpha's Tokyo site has no supplier in its area: all its energy came from the grid.
    tky = [a for a in allocations(k) if a.site.code == "alpha-tky-1"]
    kwh = sum(a.cu * a.site.kw_per_cu * a.site.pue * HALF for a in tky)
    posting = Posting.objects.get(
        account__organisation__slug="alpha", component=Component.GRID_PASS_THROUGH
    )
    assert posting.quantity == kwh
    assert posting.amount_jpy == -_yen(kwh * posting.unit_price)


def test_shortfall_is_charged_to_the_provider_that_fell_short(cleared):
    k = cleared.k(0)
    report_all(cleared, k, provider_factor=Decimal("0.75"))
    interval_settle(run=run_at(k), now=deadline(k))
    multiplier = SettlementParameters.current().deviation_multiplier
    for slug in ("alpha", "beta"):
        mine = [a for a in allocations(k) if a.site.organisation.slug == slug]
        short = sum(
            (a.cu - (a.cu * Decimal("0.75")).quantize(Decimal("0.000001"))) * HALF
            * abs(a.all_in_jpy_per_cu_h) * multiplier
            for a in mine
        )  # fmt: skip
        assert org_sum(slug, AccountKind.RECEIVABLE, Component.DEVIATION) == _yen(short)
        assert _yen(short) >= _yen(sum(a.cu * Decimal("0.25") * HALF * abs(a.all_in_jpy_per_cu_h) for a in mine))  # fmt: skip
    # The owner pays only for what it received.
    rows = allocations(k)
    got = sum(
        _yen((a.cu * Decimal("0.75")).quantize(Decimal("0.000001")) * HALF * a.all_in_jpy_per_cu_h)
        for a in rows
    )
    assert org_sum("delta", AccountKind.RECEIVABLE, Component.COMPUTE_ENERGY) == got
    assert ledger_check(now=deadline(k)).ok


def test_missing_data_settles_provisionally_then_final_with_a_reversal(cleared):
    k = cleared.k(0)
    run = run_at(k)
    outcome = interval_settle(run=run, now=deadline(k))
    assert outcome.state == Stage.PROVISIONAL and outcome.provisional_items > 0
    provisional = list(JournalEntry.objects.filter(stage=Stage.PROVISIONAL))
    assert all("no meter data" in e.reason for e in provisional)
    owed_provisional = org_sum("delta", AccountKind.RECEIVABLE, Component.COMPUTE_ENERGY)
    assert owed_provisional == sum(
        _yen(a.cu * HALF * a.all_in_jpy_per_cu_h) for a in allocations(k)
    )
    # Meter data arrives late (after the deadline): accepted, and the interval goes final.
    late = deadline(k) + timedelta(hours=3)
    report_all(cleared, k, provider_factor=Decimal("0.5"), when=late)
    final = interval_finalise(run=run, now=late)
    assert final.state == Stage.FINAL and final.finalised_items == len(provisional)
    state = IntervalSettlement.objects.get(run=run)
    assert state.state == Stage.FINAL and state.provisional_items == 0
    # History kept: every provisional entry still exists and is reversed exactly once.
    for entry in provisional:
        entry.refresh_from_db()
        reversal = entry.reversed_by
        assert reversal.kind == EntryKind.REVERSAL and "meter data arrived" in reversal.reason
        assert sorted(reversal.postings.values_list("amount_jpy", flat=True)) == sorted(
            -x for x in entry.postings.values_list("amount_jpy", flat=True)
        )
    # The owner now owes half (what was delivered), net of the reversal.
    owed = sum(
        _yen((a.cu * Decimal("0.5")).quantize(Decimal("0.000001")) * HALF * a.all_in_jpy_per_cu_h)
        for a in allocations(k)
    )
    assert org_sum("delta", AccountKind.RECEIVABLE, Component.COMPUTE_ENERGY) == owed
    settle_due(now=late)  # the second interval, so that the whole ledger is due and settled
    verdict = ledger_check(now=late)
    assert verdict.ok, verdict.problems
    codes = list(AuditEvent.objects.values_list("code", flat=True))
    assert "settlement.interval.settled" in codes and "settlement.interval.corrected" in codes
    # Finalising again changes nothing.
    entries = JournalEntry.objects.count()
    assert (
        entries
        == JournalEntry.objects.filter(interval_start=k).count()
        + JournalEntry.objects.filter(interval_start=cleared.k(1)).count()
    )
    assert interval_finalise(run=run, now=late).did_work is False
    assert JournalEntry.objects.count() == entries


def test_settlement_is_exactly_once(cleared):
    k = cleared.k(0)
    report_all(cleared, k)
    first = interval_settle(run=run_at(k), now=deadline(k))
    counts = (JournalEntry.objects.count(), Posting.objects.count(), Settlement.objects.count())
    again = interval_settle(run=run_at(k), now=deadline(k) + timedelta(hours=1))
    assert first.did_work and not again.did_work
    assert settle_due(now=deadline(cleared.k(1)))["settled"] == 1  # only the second interval
    assert settle_due(now=deadline(cleared.k(1)))["settled"] == 0
    assert JournalEntry.objects.filter(interval_start=k).count() == counts[0]
    assert Settlement.objects.filter(interval_start=k).count() == counts[2]
    assert ledger_check(now=deadline(cleared.k(1))).ok


def test_settling_before_the_deadline_is_refused(cleared):
    from aggregator.platform.errors import Conflict

    k = cleared.k(0)
    with pytest.raises(Conflict):
        interval_settle(run=run_at(k), now=deadline(k) - timedelta(minutes=1))
    assert not JournalEntry.objects.exists()


def test_ledger_rows_are_append_only(cleared):
    k = cleared.k(0)
    report_all(cleared, k)
    interval_settle(run=run_at(k), now=deadline(k))
    entry = JournalEntry.objects.first()
    posting = Posting.objects.first()
    for row in (entry, posting, Settlement.objects.first()):
        with pytest.raises(AppendOnlyError):
            row.save()
        with pytest.raises(AppendOnlyError):
            row.delete()


def test_a_tampered_posting_is_found_by_check_ledger(cleared, capsys):
    k = cleared.k(0)
    report_all(cleared, k)
    interval_settle(run=run_at(k), now=deadline(k))
    call_command("check_ledger")  # whole
    posting = Posting.objects.filter(component=Component.COMPUTE_ENERGY).first()
    # A direct SQL edit, bypassing the model: the entry no longer balances.
    Posting.objects.filter(pk=posting.pk).update(amount_jpy=F("amount_jpy") + 100)
    verdict = ledger_check()
    assert not verdict.ok
    assert posting.entry_id in verdict.unbalanced_entries
    assert posting.entry_id in verdict.hash_mismatches
    with pytest.raises(CommandError):
        call_command("check_ledger")
    assert f"{posting.entry_id}" in capsys.readouterr().err


def test_a_balanced_tamper_is_found_by_the_hash(cleared):
    k = cleared.k(0)
    report_all(cleared, k)
    interval_settle(run=run_at(k), now=deadline(k))
    a, b = Posting.objects.filter(component=Component.COMPUTE_ENERGY).order_by("id")[:2]
    assert a.entry_id == b.entry_id
    # Both sides moved by the same 50 yen: still balanced, but not what was written.
    Posting.objects.filter(pk=a.pk).update(amount_jpy=F("amount_jpy") + 50)
    Posting.objects.filter(pk=b.pk).update(amount_jpy=F("amount_jpy") - 50)
    verdict = ledger_check()
    assert verdict.unbalanced_entries == [] and verdict.hash_mismatches == [a.entry_id]
    assert not verdict.ok


def test_a_lost_settlement_record_is_found(cleared):
    k = cleared.k(0)
    report_all(cleared, k)
    interval_settle(run=run_at(k), now=deadline(k))
    victim = Settlement.objects.filter(order__isnull=False).first()
    Settlement.objects.filter(pk=victim.pk).delete()  # queryset delete: bypasses the model
    verdict = ledger_check(now=deadline(k))
    assert victim.order_id in verdict.unsettled_orders and not verdict.ok


def test_unsettled_due_intervals_are_named(cleared):
    verdict = ledger_check(now=deadline(cleared.k(1)))
    assert len(verdict.due_unsettled_intervals) == 2 and not verdict.ok


def test_energy_supplier_is_paid_for_delivered_kwh(cleared):
    k = cleared.k(0)
    report_all(cleared, k)
    interval_settle(run=run_at(k), now=deadline(k))
    expected = sum(_yen(e.kwh * e.jpy_per_kwh) for e in awards(k))
    assert org_sum("gamma", AccountKind.PAYABLE, Component.ENERGY_SUPPLY) == -expected


def test_settlement_pays_exactly_the_engines_firm_uplift(cleared):
    """Engine v5 reports the firm interval's make-whole amounts; the ledger pays them as they
    are (it used to work them out again from the firm quantities)."""
    from market.models.clearing import UpliftPayment

    k = cleared.k(0)
    run = run_at(k)
    assert run.solver_stats["engine_version"] >= 5
    workload, tky = cleared.workload, cleared.tky_offer
    UpliftPayment.objects.filter(run=run).delete()
    UpliftPayment.objects.create(run=run, participant=workload.public_id, organisation=workload.organisation, jpy=D("123.45"))  # fmt: skip
    UpliftPayment.objects.create(run=run, participant=tky.public_id, organisation=tky.organisation, jpy=D("67.01"))  # fmt: skip
    # A row a re-dispatch replaced is not paid.
    UpliftPayment.objects.create(run=run, participant=tky.public_id, organisation=tky.organisation, jpy=D("999"), is_current=False)  # fmt: skip
    report_all(cleared, k)
    interval_settle(run=run, now=deadline(k))
    paid = sorted(
        Posting.objects.filter(
            component=Component.UPLIFT, account__kind=AccountKind.PAYABLE
        ).values_list("account__organisation__slug", "amount_jpy", "memo")
    )
    assert paid == [("alpha", -_yen(D("67.01")), tky.public_id),
                    ("delta", -_yen(D("123.45")), workload.public_id)]  # fmt: skip
    assert ledger_check(now=deadline(k)).ok


def test_runs_of_older_engines_get_their_firm_uplift_worked_out_again(cleared):
    """Before engine v5 the stored uplift covered the run's whole horizon; settlement pays
    only what the firm interval's quantities owe (paying it per run would pay it many times)."""
    from market.models import WorkloadBid
    from market.models.clearing import ClearingRun, UpliftPayment

    k = cleared.k(0)
    run = run_at(k)
    ClearingRun.objects.filter(pk=run.pk).update(
        solver_stats={**run.solver_stats, "engine_version": 4}
    )
    run.refresh_from_db()
    workload = cleared.workload
    # Flag the workload and the Tokyo capacity offer, with horizon-wide amounts.
    UpliftPayment.objects.create(run=run, participant=workload.public_id, organisation=workload.organisation, jpy=D("99999"))  # fmt: skip
    tky = cleared.tky_offer
    UpliftPayment.objects.create(run=run, participant=tky.public_id, organisation=tky.organisation, jpy=D("5000"))  # fmt: skip
    # In the firm interval the workload paid more than a (lowered) limit of 100 JPY/CU-h.
    WorkloadBid.objects.filter(pk=workload.pk).update(limit_price=D(100))
    report_all(cleared, k)
    interval_settle(run=run, now=deadline(k))
    expected = sum(a.cu * HALF * (a.all_in_jpy_per_cu_h - 100) for a in allocations(k))
    paid = Posting.objects.filter(
        component=Component.UPLIFT, account__kind=AccountKind.PAYABLE
    ).values_list("account__organisation__slug", "amount_jpy", "memo")
    # alpha's Tokyo compute was paid its full offer price: nothing to make whole there.
    assert list(paid) == [("delta", -_yen(expected.quantize(D("0.01"))), workload.public_id)]
    assert ledger_check(now=deadline(k)).ok
    assert Posting.objects.filter(component=Component.UPLIFT).count() == 2
