"""Writing and verifying the audit chain: the only code that touches AuditEvent rows."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from aggregator.models import AuditChainHead, AuditEvent

GENESIS_HASH = "0" * 64


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"not JSON-serialisable in an audit payload: {type(value).__name__}")


def canonical_json(value: Any) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default
    )


def _row_content(
    *,
    seq: int,
    created_at: str,
    actor_label: str,
    actor_user_id: int | None,
    organisation_id: int | None,
    code: str,
    object_type: str,
    object_id: str,
    payload: Any,
    prev_hash: str,
) -> str:
    return canonical_json(
        {
            "seq": seq,
            "created_at": created_at,
            "actor": actor_label,
            "actor_user": actor_user_id,
            "organisation": organisation_id,
            "code": code,
            "object_type": object_type,
            "object_id": object_id,
            "payload": payload,
            "prev": prev_hash,
        }
    )


def compute_hash(event: AuditEvent) -> str:
    content = _row_content(
        seq=event.seq,
        created_at=event.created_at.isoformat(),
        actor_label=event.actor_label,
        actor_user_id=event.actor_user_id,
        organisation_id=event.organisation_id,
        code=event.code,
        object_type=event.object_type,
        object_id=event.object_id,
        payload=event.payload,
        prev_hash=event.prev_hash,
    )
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


@transaction.atomic
def audit_record(
    *,
    code: str,
    actor_label: str,
    actor_user=None,
    organisation=None,
    obj: Any = None,
    object_type: str = "",
    object_id: str = "",
    payload: dict | None = None,
) -> AuditEvent:
    """Append one event to the chain, inside the caller's transaction.

    The head row is locked until the caller commits, so appends are serialised and the
    event commits or rolls back together with the change it records.
    """
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    # Round-trip through canonical JSON so the stored payload is exactly what was hashed.
    clean_payload = json.loads(canonical_json(payload or {}))
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(id=1)
    # Microseconds dropped: every database stores whole seconds + 6 digits alike, and the
    # hash must survive the round trip through any of them.
    created_at = timezone.now().replace(microsecond=0)
    event = AuditEvent(
        seq=head.last_seq + 1,
        created_at=created_at,
        actor_user=actor_user,
        actor_label=actor_label,
        organisation=organisation,
        code=code,
        object_type=object_type,
        object_id=object_id,
        payload=clean_payload,
        prev_hash=head.last_hash,
    )
    event.hash = compute_hash(event)
    event.save()
    head.last_seq = event.seq
    head.last_hash = event.hash
    head.save(update_fields=["last_seq", "last_hash"])
    return event


@dataclass(frozen=True)
class ChainVerdict:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str = ""


def audit_verify_chain(*, batch_size: int = 2000) -> ChainVerdict:
    """Recompute every hash and link; name the first row that was altered, removed or moved."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=batch_size):
        if event.seq != expected_seq:
            return ChainVerdict(
                False,
                checked,
                expected_seq,
                f"row #{expected_seq} is missing (next is #{event.seq})",
            )
        if event.prev_hash != expected_prev:
            return ChainVerdict(
                False, checked, event.seq, f"row #{event.seq} does not link to the row before it"
            )
        if compute_hash(event) != event.hash:
            return ChainVerdict(
                False, checked, event.seq, f"row #{event.seq} content does not match its hash"
            )
        expected_prev = event.hash
        expected_seq += 1
        checked += 1
    head = AuditChainHead.objects.filter(id=1).first()
    if head is not None and (head.last_seq != checked or head.last_hash != expected_prev):
        return ChainVerdict(
            False,
            checked,
            checked + 1,
            f"the chain ends at #{checked} but its head records #{head.last_seq}: rows were cut off",
        )
    return ChainVerdict(True, checked)
