"""Bid lifecycle: submit → amend (new revision) → cancel, frozen at gate closure, sealed.

The audit chain is readable by regulators, so audit payloads carry the sha256 of a
revision's content, never the content itself: the chain commits to the sealed bid
without revealing it before clearing.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aggregator.platform.audit import audit_record
from aggregator.platform.canonical import canonical_json
from aggregator.platform.errors import Conflict, Forbidden, InvalidInput, NotFound
from market import calendar
from market.choices import BidStatus, BidType, MarketAudit, WorkloadKind
from market.models import BID_MODELS, Bid, BidRevision
from market.selectors import cleared_through
from market.services import capacity
from market.validation import BidContext, clean_bid
from operators.actors import Actor
from operators.choices import OrganisationRole
from operators.models import Site

MAX_BULK = 10_000

ROLE_FOR_TYPE = {
    BidType.CAPACITY: OrganisationRole.COMPUTE_PROVIDER,
    BidType.ENERGY: OrganisationRole.POWER_SUPPLIER,
    BidType.WORKLOAD: OrganisationRole.WORKLOAD_OWNER,
}


def _role_message(bid_type: str) -> str:
    return {
        BidType.CAPACITY: _("Only compute providers offer capacity."),
        BidType.ENERGY: _("Only power suppliers offer energy."),
        BidType.WORKLOAD: _("Only workload owners submit workload bids."),
    }[bid_type]


def _require_writer(actor: Actor, bid_type: str) -> None:
    if not actor.can_write:
        raise Forbidden(_("Submitting or changing bids needs the 'trade' permission."))
    if not actor.organisation.has_role(ROLE_FOR_TYPE[bid_type]):
        raise Forbidden(_role_message(bid_type))


def content_sha256(data: dict[str, Any]) -> str:
    """The hash of a bid revision's content (ASCII-escaped, as every stored revision was)."""
    return hashlib.sha256(canonical_json(data, ascii_only=True).encode()).hexdigest()


def bid_data(bid: Bid, *, site_codes: dict[int, str] | None = None) -> dict[str, Any]:
    """A bid's content in input shape: what was submitted, and what an amendment starts from."""

    def code(site_id: int | None) -> str | None:
        if site_id is None:
            return None
        if site_codes is not None:
            return site_codes[site_id]
        from operators.models import Site

        return Site.objects.only("code").get(pk=site_id).code

    data: dict[str, Any] = {"start": calendar.iso_z(bid.start), "intervals": bid.interval_count}
    if bid.bid_type == BidType.CAPACITY:
        data.update(site=code(bid.site_id), cu=bid.cu, price=bid.price)
    elif bid.bid_type == BidType.ENERGY:
        data.update(
            area=bid.area_id,
            kwh=bid.kwh,
            price=bid.price,
            carbon_g_per_kwh=str(bid.carbon_g_per_kwh),
            curtailment_relief=bid.curtailment_relief,
        )
    else:
        data.update(
            kind=bid.kind,
            accelerator=bid.accelerator,
            residency_tags=bid.residency_tags,
            limit_price=str(bid.limit_price),
            zone=bid.zone_id,
            max_latency_ms=bid.max_latency_ms,
            max_cu=None if bid.max_cu is None else str(bid.max_cu),
            allowed_areas=bid.allowed_areas,
        )
        if bid.kind == WorkloadKind.INFERENCE:
            data["demand"] = bid.demand
        else:
            data.update(
                remaining_cu_intervals=str(bid.remaining_cu_intervals),
                gang=bid.gang,
                no_migration=bid.no_migration,
                migration_cost=str(bid.migration_cost),
                home_site=code(bid.home_site_id),
            )
    return data


def _revision(bid: Bid, data: dict[str, Any], actor: Actor, now: datetime) -> BidRevision:
    return BidRevision(
        organisation_id=bid.organisation_id,
        bid_type=bid.bid_type,
        bid_id=bid.pk,
        revision=bid.revision,
        status=bid.status,
        data=data,
        content_sha256=content_sha256(data),
        actor_label=actor.label,
        created_at=now,
    )


def _audit(actor: Actor, code: str, bid: Bid, revision: BidRevision) -> None:
    audit_record(
        code=code,
        actor_label=actor.label,
        actor_user=actor.user,
        organisation=actor.organisation,
        obj=bid,
        payload={
            "bid": bid.public_id,
            "revision": revision.revision,
            "status": bid.status,
            "content_sha256": revision.content_sha256,
        },
    )


@transaction.atomic
def bid_submit(
    *, actor: Actor, bid_type: str, data: dict[str, Any], now: datetime | None = None
) -> Bid:
    """Validate and store a new bid (revision 1); per-field errors and nothing written if bad."""
    _require_writer(actor, bid_type)
    now = now or timezone.now()
    ctx = BidContext.load(organisation_id=actor.organisation.pk, now=now)
    fields, errors = clean_bid(bid_type, data, ctx)
    if errors:
        raise InvalidInput.from_errors(errors)
    if bid_type == BidType.CAPACITY:
        _require_fit(fields)
    model = BID_MODELS[bid_type]
    bid = model.objects.create(
        organisation=actor.organisation, created_at=now, updated_at=now, **fields
    )
    revision = _revision(bid, bid_data(bid), actor, now)
    revision.save()
    _audit(actor, MarketAudit.BID_SUBMITTED, bid, revision)
    return bid


def _require_fit(fields: dict[str, Any], exclude_pk: int | None = None) -> None:
    """The site's live offers, this one included, fit its capacity (site row locked)."""
    message = capacity.offer_fits(
        site_id=fields["site_id"], start=fields["start"], cu=fields["cu"], exclude_pk=exclude_pk
    )
    if message:
        raise InvalidInput.from_errors({"cu": [message]})


def _bulk_overflows(cleaned: list[tuple[int, str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Per-item errors for capacity offers of a bulk that, in order, overfill their site."""
    by_site: dict[int, list[tuple[int, dict[str, Any]]]] = {}
    for index, bid_type, fields in cleaned:
        if bid_type == BidType.CAPACITY:
            by_site.setdefault(fields["site_id"], []).append((index, fields))
    capacities = capacity.sites_lock(by_site)
    codes = dict(Site.objects.filter(pk__in=by_site).values_list("pk", "code"))
    errors = []
    for site_id, items in by_site.items():
        offered = capacity.offered_cu(
            site_id, min(f["start"] for _i, f in items), max(f["end"] for _i, f in items)
        )
        for index, fields in items:
            message = capacity.overflow_message(
                site_code=codes[site_id], capacity_cu=capacities[site_id], offered=offered,
                start=fields["start"], cu=fields["cu"],
            )  # fmt: skip
            if message:
                errors.append({"index": index, "errors": {"cu": [message]}})
            else:
                capacity.add_profile(offered, fields["start"], fields["cu"])
    return sorted(errors, key=lambda e: e["index"])


def _locked_own(actor: Actor, bid: Bid) -> Bid:
    if bid.organisation_id != actor.organisation.pk:
        raise NotFound(_("No such bid."))
    # Row lock: two amendments of one bid serialise, and revision numbers stay gap-free.
    return type(bid).objects.select_for_update().get(pk=bid.pk)


def _check_changeable(bid: Bid, now: datetime, verb: str) -> None:
    """Refuse exactly where `Bid.is_frozen` says so, with the reason."""
    reason = bid.frozen_reason(now, cleared_through=cleared_through())
    if reason == "cancelled":
        raise Conflict(_("This bid was cancelled; it cannot be %(verb)s.") % {"verb": verb})
    if reason == "outcome":
        raise Conflict(
            _("This bid has been cleared (outcome: %(status)s); it cannot be %(verb)s.")
            % {"status": bid.get_status_display(), "verb": verb}
        )
    if reason == "cleared":
        raise Conflict(
            _(
                "The clearing of this bid's first interval (%(start)s JST) has already run; "
                "the bid is frozen and cannot be %(verb)s."
            )
            % {"start": f"{calendar.to_jst(bid.start):%Y-%m-%d %H:%M}", "verb": verb}
        )
    if reason == "gate":
        raise Conflict(
            _(
                "Gate closure for this bid's first interval passed at %(gc)s JST; "
                "the bid is frozen and cannot be %(verb)s."
            )
            % {"gc": f"{calendar.to_jst(bid.gate_closure):%Y-%m-%d %H:%M:%S}", "verb": verb}
        )


@transaction.atomic
def bid_amend(
    *, actor: Actor, bid: Bid, changes: dict[str, Any], now: datetime | None = None
) -> Bid:
    """A new revision with `changes` applied; the earlier revisions stay readable by the owner."""
    _require_writer(actor, bid.bid_type)
    now = now or timezone.now()
    bid = _locked_own(actor, bid)
    _check_changeable(bid, now, _("amended"))
    if bid.bid_type == BidType.WORKLOAD and changes.get("kind", bid.kind) != bid.kind:
        raise InvalidInput.from_errors(
            {"kind": [_("A workload's kind cannot change; cancel it and submit a new bid.")]}
        )
    merged = {**bid_data(bid), **changes}
    ctx = BidContext.load(organisation_id=actor.organisation.pk, now=now)
    fields, errors = clean_bid(bid.bid_type, merged, ctx)
    if errors:
        raise InvalidInput.from_errors(errors)
    if bid.bid_type == BidType.CAPACITY:
        _require_fit(fields, exclude_pk=bid.pk)
    for name, value in fields.items():
        setattr(bid, name, value)
    bid.revision += 1
    bid.status = BidStatus.AMENDED
    bid.updated_at = now
    bid.save()
    revision = _revision(bid, bid_data(bid), actor, now)
    revision.save()
    _audit(actor, MarketAudit.BID_AMENDED, bid, revision)
    return bid


@transaction.atomic
def bid_cancel(*, actor: Actor, bid: Bid, now: datetime | None = None) -> Bid:
    """Withdraw a bid before gate closure; kept, with a final `cancelled` revision."""
    _require_writer(actor, bid.bid_type)
    now = now or timezone.now()
    bid = _locked_own(actor, bid)
    _check_changeable(bid, now, _("cancelled"))
    bid.status = BidStatus.CANCELLED
    bid.cancelled_at = now
    bid.updated_at = now
    bid.revision += 1
    bid.save(update_fields=["status", "cancelled_at", "updated_at", "revision"])
    revision = _revision(bid, bid_data(bid), actor, now)
    revision.save()
    _audit(actor, MarketAudit.BID_CANCELLED, bid, revision)
    return bid


@transaction.atomic
def bids_submit_bulk(
    *, actor: Actor, items: list[dict[str, Any]], now: datetime | None = None
) -> list[Bid]:
    """Submit up to 10,000 bids at once: all of them, or — if any is invalid — none.

    Errors come back per item with its index. Rows are written with bulk inserts and one
    audit event covers the batch (listing every bid and its content hash).
    """
    if not isinstance(items, list) or not items:
        raise InvalidInput.from_errors({"bids": [_("Give a non-empty list of bids.")]})
    if len(items) > MAX_BULK:
        raise InvalidInput.from_errors(
            {"bids": [_("At most %(max)d bids per request.") % {"max": MAX_BULK}]}
        )
    if not actor.can_write:
        raise Forbidden(_("Submitting or changing bids needs the 'trade' permission."))
    now = now or timezone.now()
    ctx = BidContext.load(organisation_id=actor.organisation.pk, now=now)
    item_errors: list[dict[str, Any]] = []
    cleaned: list[tuple[int, str, dict[str, Any]]] = []
    for index, item in enumerate(items):
        bid_type = item.get("type") if isinstance(item, dict) else None
        if bid_type not in BidType.values:
            errors = {"type": [_("Choose one of: %(t)s.") % {"t": ", ".join(BidType.values)}]}
        elif not actor.organisation.has_role(ROLE_FOR_TYPE[bid_type]):
            errors = {"type": [_role_message(bid_type)]}
        else:
            fields, errors = clean_bid(bid_type, item, ctx)
            if not errors:
                cleaned.append((index, bid_type, fields))
        if errors:
            item_errors.append({"index": index, "errors": errors})
    if not item_errors:
        item_errors = _bulk_overflows(cleaned)
    if item_errors:
        raise InvalidInput(
            _("%(bad)d of %(total)d bids are invalid; none was submitted.")
            % {"bad": len(item_errors), "total": len(items)},
            errors={"bids": item_errors},
        )
    by_type: dict[str, list[Bid]] = {}
    order: list[tuple[str, int]] = []
    for _index, bid_type, fields in cleaned:
        rows = by_type.setdefault(bid_type, [])
        order.append((bid_type, len(rows)))
        rows.append(
            BID_MODELS[bid_type](
                organisation=actor.organisation, created_at=now, updated_at=now, **fields
            )
        )
    for bid_type, rows in by_type.items():
        # PostgreSQL and SQLite ≥ 3.35 return the new primary keys from bulk_create.
        BID_MODELS[bid_type].objects.bulk_create(rows, batch_size=1000)
    site_codes = {s.pk: s.code for s in ctx.sites.values()}
    revisions = [
        _revision(bid, bid_data(bid, site_codes=site_codes), actor, now)
        for rows in by_type.values()
        for bid in rows
    ]
    BidRevision.objects.bulk_create(revisions, batch_size=1000)
    bids = [by_type[t][i] for t, i in order]
    digest = hashlib.sha256("".join(r.content_sha256 for r in revisions).encode()).hexdigest()
    audit_record(
        code=MarketAudit.BID_BULK_SUBMITTED,
        actor_label=actor.label,
        actor_user=actor.user,
        organisation=actor.organisation,
        object_type="market.bid",
        object_id=f"bulk:{len(bids)}",
        payload={
            "count": len(bids),
            "bids": [b.public_id for b in bids],
            "contents_sha256": digest,
        },
    )
    return bids
