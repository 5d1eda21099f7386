"""Re-dispatch inside a firm interval: an outage or a changed energy offer → amended orders.

The engine re-solves only the affected part with everything else pinned; here the new
firm rows replace the old ones (kept, no longer current) and only organisations whose
orders changed get a new order version, pushed at once.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aggregator.engine import EnergyOfferChange, EventError, Result, SiteOutage, redispatch
from aggregator.engine.canonical import canonical_json_bytes
from aggregator.platform.audit import audit_record
from aggregator.platform.errors import Conflict, Forbidden, InvalidInput, NotFound
from market import calendar
from market.choices import MarketAudit
from market.models import EnergyOffer
from market.models.clearing import (
    Allocation,
    CapacitySale,
    ClearingRun,
    EnergyAward,
    GridPurchase,
    Redispatch,
    RunStatus,
    UpliftPayment,
)
from market.models.dispatch import DispatchOrder, OrderDelivery
from market.services.clearing import site_connection
from market.services.firm_rows import firm_rows, result_json, result_sha256
from market.services.orders import build_order_rows, order_key, outbox_rows
from operators.actors import Actor
from operators.choices import OrganisationRole
from operators.models import Site


def _firm_run(interval_start: datetime, now: datetime) -> ClearingRun:
    interval_start = calendar.as_utc(interval_start)
    if not calendar.is_aligned(interval_start):
        raise InvalidInput.from_errors({"interval": [_("Give an interval start (:00 or :30).")]})
    if interval_start + calendar.INTERVAL <= now:
        raise Conflict(_("That interval is over; nothing can be re-dispatched."))
    run = (
        ClearingRun.objects.select_for_update()
        .filter(interval_start=interval_start, status=RunStatus.COMPLETED)
        .first()
    )
    if run is None:
        raise Conflict(
            _("That interval has not been cleared yet; change your offer or bid instead.")
        )
    return run


def _base(run: ClearingRun) -> tuple[str, str, int]:
    """Snapshot and result to re-dispatch from: the latest re-dispatch, else the run."""
    last = run.redispatches.order_by("-sequence").first()
    if last is None:
        return run.snapshot_json, run.result_json, 1
    return last.snapshot_json, last.result_json, last.sequence + 1


def _apply(
    *, run: ClearingRun, event, event_doc: dict, actor: Actor, now: datetime
) -> tuple[Redispatch, list[int]]:
    base_snapshot, base_result, sequence = _base(run)
    try:
        outcome = redispatch(base_snapshot, json.loads(base_result), event)
    except EventError as exc:
        raise InvalidInput.from_errors({"event": [str(exc)]}) from exc
    record = Redispatch.objects.create(
        run=run,
        sequence=sequence,
        event=event_doc,
        snapshot_json=canonical_json_bytes(outcome.snapshot).decode(),
        result_json=result_json(outcome.result),
        result_sha256=result_sha256(outcome.result),
        changes=outcome.changes,
        elapsed_ms=round(outcome.elapsed_s * 1000),
        actor_label=actor.label,
    )
    order_ids = _replace_firm_rows(run, record, outcome.snapshot, outcome.result, now)
    audit_record(
        code=MarketAudit.CLEARING_REDISPATCHED,
        actor_label=actor.label,
        actor_user=actor.user,
        organisation=actor.organisation,
        obj=record,
        payload={"event": event_doc, "changes": outcome.changes, "orders": order_ids},
    )
    return record, order_ids


def _replace_firm_rows(
    run: ClearingRun, record: Redispatch, snapshot: dict, result: Result, now: datetime
) -> list[int]:
    """The re-solve's rows become current; the run's earlier ones stay, no longer current."""
    sites = {s.code: s for s in Site.objects.select_related("organisation")}
    current = {
        (a.workload_id, a.site.code): a
        for a in Allocation.objects.filter(run=run, is_current=True).select_related(
            "site", "workload__organisation"
        )
    }
    # The re-solve covers one interval: index 0 of its own snapshot, the run's firm interval.
    rows = firm_rows(
        run=run,
        snapshot=snapshot,
        result=result,
        firm={0},
        interval_starts=[run.interval_start],
        sites=sites,
        redispatch=record,
        with_prices=False,  # the run's prices stand; only quantities are re-dispatched
        cleared_before=current,
    )
    for model, new_rows in (
        (Allocation, rows.allocations),
        (EnergyAward, rows.energy_awards),
        (UpliftPayment, rows.uplift_payments),
        (CapacitySale, rows.capacity_sales),
        (GridPurchase, rows.grid_purchases),
    ):
        model.objects.filter(run=run, is_current=True).update(is_current=False)
        model.objects.bulk_create(new_rows)
    allocations = Allocation.objects.filter(run=run, is_current=True).select_related(
        "site", "workload__organisation"
    )
    awards = EnergyAward.objects.filter(run=run, is_current=True).select_related("offer")
    return _amend_orders(run, list(allocations), list(awards), sites, now)


def _place(order: DispatchOrder) -> tuple:
    return (order.organisation_id, order.kind, order.site_id, order.area_id)


def _amend_orders(run, allocations, awards, sites, now) -> list[int]:
    """New versions only where an organisation's order actually changed."""
    fresh = build_order_rows(
        run=run,
        interval_start=run.interval_start,
        allocations=allocations,
        awards=awards,
        site_connection={s.pk: site_connection(s) for s in sites.values()},
    )
    wanted = {_place(o): o for o in fresh}
    current = {_place(o): o for o in DispatchOrder.objects.filter(run=run, is_current=True)}
    amended: list[DispatchOrder] = []
    for place in sorted(set(wanted) | set(current), key=str):
        new, old = wanted.get(place), current.get(place)
        if old is not None and new is not None and old.lines == new.lines:
            continue
        template = new or old
        version = (old.version + 1) if old is not None else 1
        lines = new.lines if new is not None else []
        order = DispatchOrder(
            run=run,
            organisation_id=template.organisation_id,
            kind=template.kind,
            interval_start=run.interval_start,
            site_id=template.site_id,
            area_id=template.area_id,
            version=version,
            supersedes=old,
            lines=lines,
            total_cu=new.total_cu if new is not None else Decimal(0),
            total_kwh=new.total_kwh if new is not None else Decimal(0),
            reason="redispatch",
            idempotency_key=order_key(
                run.pk,
                template.organisation_id,
                template.kind,
                str(template.site_id or template.area_id),
                version,
            ),
        )
        if old is not None:
            DispatchOrder.objects.filter(pk=old.pk).update(is_current=False)
        order.save()
        amended.append(order)
    OrderDelivery.objects.bulk_create(outbox_rows(amended, now=now))
    return [o.pk for o in amended]


@transaction.atomic
def redispatch_site_outage(
    *,
    actor: Actor,
    site: Site,
    interval_start: datetime,
    cu_available: float,
    now: datetime | None = None,
) -> tuple[Redispatch, list[int]]:
    """A provider reports that `site` can deliver only `cu_available` CU in the interval."""
    now = now or timezone.now()
    if not actor.can_write or not actor.organisation.has_role(OrganisationRole.COMPUTE_PROVIDER):
        raise Forbidden(_("Only a compute provider with the 'trade' permission reports outages."))
    if site.organisation_id != actor.organisation.pk:
        raise NotFound(_("No such site."))
    if cu_available < 0:
        raise InvalidInput.from_errors({"cu_available": [_("Cannot be negative.")]})
    run = _firm_run(interval_start, now)
    event_doc = {
        "type": "site_outage",
        "site": site.code,
        "interval_start": calendar.iso_z(run.interval_start),
        "cu_available": cu_available,
    }
    return _apply(
        run=run, event=SiteOutage(site.code, remaining_cu=cu_available), event_doc=event_doc,
        actor=actor, now=now,
    )  # fmt: skip


@transaction.atomic
def redispatch_energy_offer(
    *,
    actor: Actor,
    offer: EnergyOffer,
    interval_start: datetime,
    kwh: float | None = None,
    price: float | None = None,
    now: datetime | None = None,
) -> tuple[Redispatch, list[int]]:
    """A supplier updates an energy offer (e.g. a new curtailment forecast) inside the interval."""
    now = now or timezone.now()
    if not actor.can_write or not actor.organisation.has_role(OrganisationRole.POWER_SUPPLIER):
        raise Forbidden(_("Only a power supplier with the 'trade' permission updates offers."))
    if offer.organisation_id != actor.organisation.pk:
        raise NotFound(_("No such bid."))
    errors = {}
    if kwh is None and price is None:
        errors["kwh"] = [_("Give a new kwh, a new price, or both.")]
    if kwh is not None and kwh < 0:
        errors["kwh"] = [_("Cannot be negative.")]
    if errors:
        raise InvalidInput.from_errors(errors)
    run = _firm_run(interval_start, now)
    event_doc = {
        "type": "energy_offer_change",
        "offer": offer.public_id,
        "interval_start": calendar.iso_z(run.interval_start),
        "kwh": kwh,
        "price": price,
    }
    event = EnergyOfferChange(offer.public_id, kwh=kwh, price=price)
    return _apply(run=run, event=event, event_doc=event_doc, actor=actor, now=now)


__all__ = ["redispatch_energy_offer", "redispatch_site_outage"]
