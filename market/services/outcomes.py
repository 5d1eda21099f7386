"""Clearing outcomes on bids: cleared / partly cleared / rejected, recorded once per bid."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from aggregator.platform.audit import audit_record
from aggregator.platform.audit_codes import SYSTEM_ACTOR
from aggregator.platform.errors import InvalidInput
from aggregator.platform.public_ids import split_public_id
from market.choices import CLEARED_STATUSES, LIVE_STATUSES, MarketAudit
from market.models import BID_MODELS, BidRevision
from market.services.bids import bid_data, content_sha256

BID_TYPE_OF_PREFIX = {model.id_prefix: bid_type for bid_type, model in BID_MODELS.items()}


def _bid_type_and_pk(text: str) -> tuple[str, int] | None:
    parsed = split_public_id(text)
    if parsed is None:
        return None
    prefix, pk = parsed
    return BID_TYPE_OF_PREFIX[prefix], pk


@transaction.atomic
def bids_record_outcome(
    *, outcomes: dict[str, str], run_id: str, now: datetime | None = None
) -> int:
    """Set each bid's outcome from a clearing run (`{"wl-7": "cleared", …}`); returns how many.

    Compare-and-set: only bids still live change, so a re-run of the same clearing is a
    no-op. Each change is a new revision; one audit event lists them (the seal lifts now).
    """
    now = now or timezone.now()
    errors = {}
    parsed: dict[str, list[tuple[int, str]]] = {}
    for public_id, status in sorted(outcomes.items()):
        target = _bid_type_and_pk(public_id)
        if target is None:
            errors[public_id] = ["Unknown bid id."]
        elif status not in CLEARED_STATUSES:
            errors[public_id] = [f"Outcome must be one of {', '.join(CLEARED_STATUSES)}."]
        else:
            parsed.setdefault(target[0], []).append((target[1], status))
    if errors:
        raise InvalidInput.from_errors(errors)
    changed: list[str] = []
    for bid_type, items in parsed.items():
        model = BID_MODELS[bid_type]
        by_status: dict[str, list[int]] = {}
        for pk, status in items:
            by_status.setdefault(status, []).append(pk)
        for status, pks in by_status.items():
            live = model.objects.select_for_update().filter(pk__in=pks, status__in=LIVE_STATUSES)
            bids = list(live)
            if not bids:
                continue
            model.objects.filter(pk__in=[b.pk for b in bids]).update(
                status=status, updated_at=now, revision=F("revision") + 1
            )
            revisions = []
            for bid in bids:
                bid.status, bid.revision = status, bid.revision + 1
                data = bid_data(bid)
                revisions.append(
                    BidRevision(
                        organisation_id=bid.organisation_id,
                        bid_type=bid_type,
                        bid_id=bid.pk,
                        revision=bid.revision,
                        status=status,
                        data=data,
                        content_sha256=content_sha256(data),
                        actor_label=SYSTEM_ACTOR,
                        created_at=now,
                    )
                )
                changed.append(bid.public_id)
            BidRevision.objects.bulk_create(revisions)
    if changed:
        audit_record(
            code=MarketAudit.BID_OUTCOMES_RECORDED,
            actor_label=SYSTEM_ACTOR,
            object_type="market.clearingrun",
            object_id=run_id,
            payload={
                "run_id": run_id,
                "bids": sorted(changed),
                "outcomes": dict(sorted(outcomes.items())),
            },
        )
    return len(changed)
