"""Writing and verifying the audit chain: the only code that touches AuditEvent rows.

Each row's `hash` is an HMAC-SHA256, under a key that is not in the database
(`aggregator.platform.integrity`), of the row's canonical content and the previous row's hash. The
head row holds the tip and its own MAC, so a chain cut short with the head moved back is
found; signed checkpoints held outside the database (`aggregator.platform.audit_checkpoints`)
catch the rest: a truncation whose head was restored from an old backup, or a wholesale
rewrite by someone who got hold of the key later.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from aggregator.platform.audit_codes import PlatformAudit
from aggregator.platform.canonical import canonical_json
from aggregator.platform.integrity import key_id, mac_hex, macs_equal
from aggregator.platform.models import AuditChainHead, AuditEvent

GENESIS_HASH = "0" * 64
REKEY_CODE = PlatformAudit.AUDIT_REKEYED


class AuditChainBroken(RuntimeError):
    """The chain's head is missing or altered: appending would hide the damage."""


def row_content(event: Any, *, prev_hash: str | None = None) -> str:
    """The canonical text a row's hash covers (any object with AuditEvent's fields)."""
    return canonical_json(
        {
            "seq": event.seq,
            "created_at": event.created_at.isoformat(),
            "actor": event.actor_label,
            "actor_user": event.actor_user_id,
            "organisation": event.organisation_id,
            "code": event.code,
            "object_type": event.object_type,
            "object_id": event.object_id,
            "payload": event.payload,
            "prev": event.prev_hash if prev_hash is None else prev_hash,
        }
    )


def compute_hash(event: Any, *, prev_hash: str | None = None) -> str:
    """The keyed hash (HMAC-SHA256) of one row."""
    return mac_hex("audit-row", row_content(event, prev_hash=prev_hash))


def legacy_hash(event: Any, *, prev_hash: str | None = None) -> str:
    """The unkeyed sha256 rows had before the chain was keyed (only the re-key reads it)."""
    return hashlib.sha256(row_content(event, prev_hash=prev_hash).encode("utf-8")).hexdigest()


def head_mac(last_seq: int, last_hash: str) -> str:
    return mac_hex("audit-head", f"{int(last_seq)}:{last_hash}")


def append_event(event_model, head_model, **fields: Any):
    """Append one row to the chain, holding the head's row lock (callers are atomic).

    Takes the model classes so that the data migrations, which see historical models,
    append exactly as `audit_record` does.
    """
    head = head_model.objects.select_for_update().filter(id=1).first()
    if head is None:
        if event_model.objects.exists():
            raise AuditChainBroken(
                "the audit chain's head row is missing; run verify_audit_chain "
                "(nothing is appended to a chain whose tip is unknown)"
            )
        head, _ = head_model.objects.select_for_update().get_or_create(
            id=1, defaults={"last_seq": 0, "last_hash": GENESIS_HASH}
        )
        head.mac = head_mac(head.last_seq, head.last_hash)
    if not macs_equal(head.mac, head_mac(head.last_seq, head.last_hash)):
        # Appending would sign over whatever the head now says (e.g. moved back after a
        # truncation) and hide it; refuse, loudly, until someone looks.
        raise AuditChainBroken(
            f"the audit chain's head row does not carry a valid MAC (key id {key_id()}): it was "
            "altered, or this process has another AUDIT_HMAC_KEY; run verify_audit_chain"
        )
    # Microseconds dropped: every database stores whole seconds + 6 digits alike, and the
    # hash must survive the round trip through any of them.
    created_at = fields.pop("created_at", None) or timezone.now().replace(microsecond=0)
    event = event_model(
        seq=head.last_seq + 1, created_at=created_at, prev_hash=head.last_hash, **fields
    )
    event.hash = compute_hash(event)
    event.save()
    head.last_seq = event.seq
    head.last_hash = event.hash
    head.mac = head_mac(event.seq, event.hash)
    head.save()
    return event


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
    return append_event(
        AuditEvent,
        AuditChainHead,
        actor_user=actor_user,
        actor_label=actor_label,
        organisation=organisation,
        code=str(code),  # an app's audit-code enum member: its value is what is hashed
        object_type=object_type,
        object_id=object_id,
        payload=clean_payload,
    )


@dataclass(frozen=True)
class ChainVerdict:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str = ""
    checkpoints: int = 0  # checkpoints the chain was checked against


def _broken(checked: int, seq: int | None, reason: str, checkpoints: int = 0) -> ChainVerdict:
    return ChainVerdict(False, checked, seq, reason, checkpoints)


def audit_verify_chain(
    *, batch_size: int = 2000, checkpoints: Iterable[Any] = (), stored_checkpoints: bool = True
) -> ChainVerdict:
    """Recompute every MAC and link; name the first row that was altered, removed or moved.

    `checkpoints` (signed `Checkpoint`s, e.g. from regulators' reports) and, unless told
    otherwise, the checkpoints stored in the database must each match the row they name.
    """
    from aggregator.platform.audit_checkpoints import checkpoint_problem, stored

    anchors = [*checkpoints, *(stored() if stored_checkpoints else ())]
    for cp in anchors:
        if problem := checkpoint_problem(cp):
            return _broken(0, cp.seq, problem)
    expected_at: dict[int, list[Any]] = {}
    for cp in anchors:
        expected_at.setdefault(cp.seq, []).append(cp)
    count = len(anchors)

    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=batch_size):
        if event.seq != expected_seq:
            return _broken(
                checked, expected_seq, f"row #{expected_seq} is missing (next is #{event.seq})"
            )
        if event.prev_hash != expected_prev:
            return _broken(
                checked, event.seq, f"row #{event.seq} does not link to the row before it"
            )
        if not macs_equal(compute_hash(event), event.hash):
            return _broken(
                checked, event.seq, f"row #{event.seq} content does not match its keyed hash"
            )
        for cp in expected_at.get(event.seq, ()):
            if not macs_equal(cp.head_hash, event.hash):
                return _broken(
                    checked,
                    event.seq,
                    f"row #{event.seq} differs from the checkpoint signed at {cp.at_text}: "
                    "the chain was rewritten",
                )
        expected_prev = event.hash
        expected_seq += 1
        checked += 1
    if anchors and (beyond := max(cp.seq for cp in anchors)) > checked:
        cp = max(anchors, key=lambda c: c.seq)
        return _broken(
            checked,
            checked + 1,
            f"the chain ends at #{checked} but the checkpoint signed at {cp.at_text} vouches "
            f"for #{beyond}: rows were cut off",
        )
    head = AuditChainHead.objects.filter(id=1).first()
    if head is None:
        return _broken(
            checked, checked + 1, f"the chain's head row is missing (chain ends at #{checked})"
        )
    if not macs_equal(head.mac, head_mac(head.last_seq, head.last_hash)):
        return _broken(
            checked,
            checked + 1,
            f"the chain's head row (#{head.last_seq}) was altered: its MAC does not match",
        )
    if head.last_seq != checked or head.last_hash != expected_prev:
        return _broken(
            checked,
            checked + 1,
            f"the chain ends at #{checked} but its head records #{head.last_seq}: rows were cut off",
        )
    return ChainVerdict(True, checked, checkpoints=count)
