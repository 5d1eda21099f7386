"""Settling cleared intervals on the ledger: provisional at the deadline, final on meter data.

Exactly once per (interval, order version): the interval's settlement row is created once
(unique on the run; a second settler hits the constraint and does nothing), every item
settles once per stage (unique key + stage), and finalisation locks the interval's row
before it looks at what is still provisional. Re-running any of it is a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_UP, Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from aggregator.platform.audit import audit_record
from aggregator.platform.audit_codes import SYSTEM_ACTOR
from aggregator.platform.errors import Conflict, NotFound
from aggregator.platform.public_ids import CAPACITY_OFFER, ENERGY_OFFER, WORKLOAD, split_public_id
from market import calendar
from market.models import CapacityOffer, EnergyOffer, WorkloadBid
from market.models.clearing import (
    Allocation,
    CapacitySale,
    ClearingRun,
    EnergyAward,
    EnergyPrice,
    GridPurchase,
    RunStatus,
    UpliftPayment,
)
from market.models.dispatch import DispatchOrder
from operators.models import Site
from settlement.choices import EntryKind, SettlementAudit, Stage
from settlement.ledger import Accounts, PlannedEntry, entries_write, reversal_of
from settlement.models import MeterReading, SettlementParameters
from settlement.models.ledger import IntervalSettlement, JournalEntry, Settlement
from settlement.services.plan import (
    AllocationRow,
    AwardRow,
    IntervalInput,
    ItemPlan,
    OrderRow,
    SiteRow,
    plan_interval,
)


def metering_deadline(interval_start: datetime, params: SettlementParameters) -> datetime:
    """Meter data for an interval is due this long after the interval ends."""
    return interval_start + calendar.INTERVAL + timedelta(hours=params.metering_deadline_hours)


def late_metering_end(interval_start: datetime, params: SettlementParameters) -> datetime:
    return metering_deadline(interval_start, params) + timedelta(days=params.late_metering_days)


def current_readings(interval_start: datetime) -> dict[str, Decimal]:
    """subject → quantity of the highest revision of every reading in the interval."""
    latest: dict[str, tuple[int, Decimal]] = {}
    for subject, revision, cu, kwh in MeterReading.objects.filter(
        interval_start=interval_start
    ).values_list("subject", "revision", "cu", "kwh"):
        if subject not in latest or revision > latest[subject][0]:
            latest[subject] = (revision, cu if cu is not None else kwh)
    return {subject: value for subject, (_rev, value) in latest.items()}


def interval_input(run: ClearingRun, params: SettlementParameters) -> IntervalInput:
    interval_start = run.interval_start
    allocations = [
        AllocationRow(*row)
        for row in Allocation.objects.filter(
            run=run, interval_start=interval_start, is_current=True
        ).values_list(
            "site_id",
            "workload_id",
            "workload__organisation_id",
            "cu",
            "compute_jpy_per_cu_h",
            "all_in_jpy_per_cu_h",
        )
    ]
    awards = [
        AwardRow(*row)
        for row in EnergyAward.objects.filter(
            run=run, interval_start=interval_start, is_current=True
        ).values_list("offer_id", "offer__organisation_id", "offer__area_id", "kwh", "jpy_per_kwh")
    ]
    orders = [
        OrderRow(*row)
        for row in DispatchOrder.objects.filter(
            run=run, interval_start=interval_start, is_current=True
        )
        .order_by("id")
        .values_list("id", "kind", "organisation_id", "site_id", "area_id")
    ]
    site_ids = {a.site_id for a in allocations} | {o.site_id for o in orders if o.site_id}
    sites = {
        row[0]: SiteRow(*row)
        for row in Site.objects.filter(pk__in=site_ids).values_list(
            "id", "code", "organisation_id", "area_id", "kw_per_cu", "pue"
        )
    }
    grid = {
        row["area_id"]: row["kwh"]
        for row in GridPurchase.objects.filter(
            run=run, interval_start=interval_start, is_current=True
        )
        .values("area_id")
        .annotate(kwh=Sum("kwh"))
    }
    return IntervalInput(
        run_id=run.pk,
        orders=orders,
        allocations=allocations,
        awards=awards,
        sites=sites,
        area_price=dict(
            EnergyPrice.objects.filter(run=run, interval_start=interval_start).values_list(
                "area_id", "jpy_per_kwh"
            )
        ),
        grid_kwh=grid,
        uplift=firm_uplift(run, allocations, awards),
        delivered=current_readings(interval_start),
        fee_jpy_per_cu_h=params.market_fee_jpy_per_cu_h,
        deviation_multiplier=params.deviation_multiplier,
    )


def _price_at(bid, interval_start: datetime) -> Decimal:
    """A bid's price (JSON list, one per interval) in the interval starting then."""
    index = int((interval_start - bid.start) / calendar.INTERVAL)
    return Decimal(str(bid.price[index])) if 0 <= index < len(bid.price) else Decimal(0)


# From this engine version on, a result's uplift is the firm interval's (aggregator/engine/
# settlement.py): settlement pays it as the engine computed it. Before, it covered the
# whole horizon and settlement had to work the firm part out again.
FIRM_UPLIFT_ENGINE_VERSION = 5


def firm_uplift(
    run: ClearingRun, allocations: list[AllocationRow], awards: list[AwardRow]
) -> list[tuple[int, str, Decimal]]:
    """Make-whole payments for the firm interval: (organisation, bid, JPY), exactly the
    engine's (its current rows: a re-dispatch replaces them) for runs of engine v5 on."""
    if (run.solver_stats or {}).get("engine_version", 1) >= FIRM_UPLIFT_ENGINE_VERSION:
        rows = (
            UpliftPayment.objects.filter(run=run, is_current=True, jpy__gt=0)
            .order_by("participant")
            .values_list("organisation_id", "participant", "jpy")
        )
        return [tuple(row) for row in rows]
    return _recomputed_firm_uplift(run, allocations, awards)


def _recomputed_firm_uplift(
    run: ClearingRun, allocations: list[AllocationRow], awards: list[AwardRow]
) -> list[tuple[int, str, Decimal]]:
    """Runs cleared before engine v5: their uplift (`UpliftPayment`) covers the whole horizon,
    and consecutive runs overlap by all but one interval, so paying it per run would pay
    the same shortfall up to horizon-many times. Settlement pays what the firm interval's
    cleared quantities owe a flagged bid at its own limit or price: a workload pays at most
    its limit, a capacity or energy offer receives at least its price. Rounded up to the
    sen, as the engine does, so nobody ends below its bid.
    """
    interval_start = run.interval_start
    half = Decimal("0.5")
    out = []
    for participant, organisation_id in (
        UpliftPayment.objects.filter(run=run)
        .order_by("participant")
        .values_list("participant", "organisation_id")
    ):
        parsed = split_public_id(participant)
        if parsed is None:
            continue
        prefix, pk = parsed
        amount = Decimal(0)
        if prefix == WORKLOAD:
            bid = WorkloadBid.objects.filter(pk=pk).only("limit_price").first()
            rows = [a for a in allocations if a.workload_id == pk]
            if bid is not None:
                amount = sum(
                    (a.cu * half * (a.all_in_jpy_per_cu_h - bid.limit_price) for a in rows),
                    Decimal(0),
                )
        elif prefix == CAPACITY_OFFER:
            # A site's offers are price steps: each is made whole on its own sales only.
            bid = CapacityOffer.objects.filter(pk=pk).only("start", "price").first()
            if bid is not None:
                price = _price_at(bid, interval_start)
                amount = sum(
                    (
                        sale.cu * half * (price - sale.jpy_per_cu_h)
                        for sale in CapacitySale.objects.filter(
                            run=run, interval_start=interval_start, offer_id=pk, is_current=True
                        )
                    ),
                    Decimal(0),
                )
        elif prefix == ENERGY_OFFER:
            bid = EnergyOffer.objects.filter(pk=pk).only("start", "price").first()
            if bid is not None:
                price = _price_at(bid, interval_start)
                amount = sum(
                    (e.kwh * (price - e.jpy_per_kwh) for e in awards if e.offer_id == pk),
                    Decimal(0),
                )
        if amount > 0:
            out.append((organisation_id, participant, amount.quantize(Decimal("0.01"), ROUND_UP)))
    return out


@dataclass
class SettleOutcome:
    run_id: int
    did_work: bool
    state: str
    entries: int = 0
    provisional_items: int = 0
    finalised_items: int = 0


def _entry_for(run: ClearingRun, plan: ItemPlan, stage: str, reason: str) -> PlannedEntry:
    return PlannedEntry(
        interval_start=run.interval_start,
        run_id=run.pk,
        order_id=plan.order_id,
        kind=EntryKind.SETTLEMENT,
        stage=stage,
        reason=reason,
        lines=plan.lines,
    )


def _reason(plan: ItemPlan, stage: str) -> str:
    if stage == Stage.FINAL:
        return "final: on meter data" if plan.order_id else "final: uplift of the clearing run"
    return "provisional: no meter data at the deadline for " + ", ".join(plan.missing)[:240]


def interval_settle(*, run: ClearingRun, now: datetime | None = None) -> SettleOutcome:
    """Settle a cleared interval after its metering deadline (once; again is a no-op)."""
    now = now or timezone.now()
    params = SettlementParameters.current()
    if run.status != RunStatus.COMPLETED:
        raise Conflict(_("Only completed clearing runs can be settled."))
    deadline = metering_deadline(run.interval_start, params)
    if now < deadline:
        raise Conflict(
            _("The metering deadline of this interval is %(at)s; settle after it.")
            % {"at": calendar.jst_text(deadline)}
        )
    with transaction.atomic():
        try:
            with transaction.atomic():
                state = IntervalSettlement.objects.create(
                    run=run,
                    interval_start=run.interval_start,
                    state=Stage.PROVISIONAL,
                    settled_at=now,
                    checked_at=now,
                )
        except IntegrityError:
            existing = IntervalSettlement.objects.get(run=run)
            return SettleOutcome(run.pk, False, existing.state)
        accounts = Accounts()
        plans = list(plan_interval(interval_input(run, params), accounts).values())
        stages = [Stage.FINAL if p.complete else Stage.PROVISIONAL for p in plans]
        entries = entries_write(
            [
                _entry_for(run, plan, stage, _reason(plan, stage))
                for plan, stage in zip(plans, stages, strict=True)
            ],
            now=now,
        )
        Settlement.objects.bulk_create(
            [
                Settlement(
                    key=plan.key,
                    stage=stage,
                    run=run,
                    order_id=plan.order_id,
                    interval_start=run.interval_start,
                    entry=entry,
                    created_at=now,
                )
                for plan, stage, entry in zip(plans, stages, entries, strict=True)
            ],
            batch_size=2000,
        )
        provisional = stages.count(Stage.PROVISIONAL)
        IntervalSettlement.objects.filter(pk=state.pk).update(
            state=Stage.PROVISIONAL if provisional else Stage.FINAL,
            items=len(plans),
            provisional_items=provisional,
            finalised_at=None if provisional else now,
        )
        audit_record(
            code=SettlementAudit.INTERVAL_SETTLED,
            actor_label=SYSTEM_ACTOR,
            obj=state,
            payload={
                "interval_start": calendar.iso_z(run.interval_start),
                "run": run.pk,
                "items": len(plans),
                "provisional_items": provisional,
                "entries": [e.pk for e in entries][:50],
                "entry_count": len(entries),
            },
        )
    return SettleOutcome(
        run.pk,
        True,
        Stage.PROVISIONAL if provisional else Stage.FINAL,
        entries=len(entries),
        provisional_items=provisional,
    )


def interval_finalise(*, run: ClearingRun, now: datetime | None = None) -> SettleOutcome:
    """Replace provisional items whose meter data is now complete: reversal + final entry."""
    now = now or timezone.now()
    params = SettlementParameters.current()
    with transaction.atomic():
        # The lock serialises finalisers of this interval: the second sees the first's rows.
        state = IntervalSettlement.objects.select_for_update().filter(run=run).first()
        if state is None:
            raise NotFound(_("This interval has not been settled yet."))
        if state.state == Stage.FINAL:
            return SettleOutcome(run.pk, False, state.state)
        accounts = Accounts()
        plans = plan_interval(interval_input(run, params), accounts)
        rows = Settlement.objects.filter(run=run).select_related("entry")
        final_keys = {s.key for s in rows if s.stage == Stage.FINAL}
        provisional = {s.key: s.entry for s in rows if s.stage == Stage.PROVISIONAL}
        ready = [
            plans[key]
            for key in sorted(provisional)
            if key not in final_keys and key in plans and plans[key].complete
        ]
        planned: list[PlannedEntry] = []
        for plan in ready:
            old: JournalEntry = provisional[plan.key]
            planned.append(
                reversal_of(
                    old,
                    reason=f"reversal of provisional je-{old.pk}: meter data arrived after the "
                    f"deadline",
                    accounts=accounts,
                )
            )
            planned.append(
                _entry_for(
                    run,
                    plan,
                    Stage.FINAL,
                    f"final: on meter data received after the deadline; replaces je-{old.pk}",
                )
            )
        entries = entries_write(planned, now=now)
        finals = entries[1::2]
        Settlement.objects.bulk_create(
            Settlement(
                key=plan.key,
                stage=Stage.FINAL,
                run=run,
                order_id=plan.order_id,
                interval_start=run.interval_start,
                entry=entry,
                created_at=now,
            )
            for plan, entry in zip(ready, finals, strict=True)
        )
        remaining = len(set(provisional) - final_keys) - len(ready)
        IntervalSettlement.objects.filter(pk=state.pk, state=Stage.PROVISIONAL).update(
            state=Stage.PROVISIONAL if remaining else Stage.FINAL,
            provisional_items=remaining,
            finalised_at=None if remaining else now,
            checked_at=now,
        )
        if ready:
            audit_record(
                code=SettlementAudit.INTERVAL_CORRECTED,
                actor_label=SYSTEM_ACTOR,
                obj=state,
                payload={
                    "interval_start": calendar.iso_z(run.interval_start),
                    "reason": "meter data arrived after the deadline",
                    "finalised": [p.key for p in ready][:100],
                    "reversed": [provisional[p.key].pk for p in ready][:100],
                    "new_entries": [e.pk for e in finals][:100],
                    "still_provisional": remaining,
                },
            )
    return SettleOutcome(
        run.pk,
        bool(ready),
        Stage.PROVISIONAL if remaining else Stage.FINAL,
        entries=len(entries),
        provisional_items=remaining,
        finalised_items=len(ready),
    )


def runs_due_for_settlement(now: datetime) -> list[ClearingRun]:
    params = SettlementParameters.current()
    latest_start = now - calendar.INTERVAL - timedelta(hours=params.metering_deadline_hours)
    return list(
        ClearingRun.objects.filter(
            status=RunStatus.COMPLETED, interval_start__lte=latest_start, settlement__isnull=True
        ).order_by("interval_start")
    )


def runs_due_for_finalising(now: datetime) -> list[ClearingRun]:
    """Provisional intervals with meter data received since they were last looked at."""
    params = SettlementParameters.current()
    oldest = now - timedelta(days=params.late_metering_days + 1)
    out = []
    for state in IntervalSettlement.objects.filter(
        state=Stage.PROVISIONAL, interval_start__gte=oldest
    ).select_related("run"):
        if MeterReading.objects.filter(
            Q(interval_start=state.interval_start),
            Q(created_at__gte=state.checked_at or state.settled_at),
        ).exists():
            out.append(state.run)
    return out


def settle_due(*, now: datetime | None = None) -> dict:
    """Beat's work: settle every interval past its deadline, finalise where data arrived."""
    now = now or timezone.now()
    settled = [interval_settle(run=run, now=now) for run in runs_due_for_settlement(now)]
    finalised = [interval_finalise(run=run, now=now) for run in runs_due_for_finalising(now)]
    return {
        "settled": sum(1 for o in settled if o.did_work),
        "finalised_items": sum(o.finalised_items for o in finalised),
        "provisional_items": sum(o.provisional_items for o in settled),
    }
