"""Re-keying an audit chain written before it was keyed (migration aggregator 0002).

The documented starting point: the existing chain is first verified as it was written
(unkeyed sha256, links, sequence, head). Only an intact chain is re-keyed — every row's
hash becomes the HMAC under the integrity key, in order — and the re-key itself is the next
row, `aggregator.audit.rekeyed`, whose payload names the old tip (rows, hash) so that
anyone holding an earlier copy can match it. A damaged chain stops the migration with the
first bad row: re-keying it would bless the damage.

Takes the model classes so that it runs on a migration's historical models.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction

from aggregator.platform.audit import (
    GENESIS_HASH,
    REKEY_CODE,
    append_event,
    compute_hash,
    head_mac,
    legacy_hash,
)
from aggregator.platform.integrity import key_id

BATCH = 1000


class ChainNotRekeyed(RuntimeError):
    """The legacy chain does not verify; it is left exactly as it was."""


def _batches(event_model):
    last = 0
    while True:
        rows = list(event_model.objects.filter(seq__gt=last).order_by("seq")[:BATCH])
        if not rows:
            return
        yield rows
        last = rows[-1].seq


def chain_problem(event_model, head_model, hash_of: Callable[..., str]) -> str | None:
    """Why the chain does not verify under `hash_of` (legacy or keyed), or None."""
    prev, expected = GENESIS_HASH, 1
    for rows in _batches(event_model):
        for event in rows:
            if event.seq != expected:
                return f"row #{expected} is missing"
            if event.prev_hash != prev:
                return f"row #{event.seq} does not link to the row before it"
            if hash_of(event) != event.hash:
                return f"row #{event.seq} content does not match its hash"
            prev, expected = event.hash, expected + 1
    head = head_model.objects.filter(id=1).first()
    if head is None:
        return None if expected == 1 else "the head row is missing"
    if head.last_seq != expected - 1 or head.last_hash != prev:
        return f"the chain ends at #{expected - 1} but its head records #{head.last_seq}"
    return None


def _rechain(event_model, hash_of: Callable[..., str]) -> str:
    prev = GENESIS_HASH
    for rows in _batches(event_model):
        for event in rows:
            event.prev_hash = prev
            event.hash = hash_of(event, prev_hash=prev)
            prev = event.hash
        event_model.objects.bulk_update(rows, ["prev_hash", "hash"])
    return prev


@transaction.atomic
def rekey_legacy_chain(event_model, head_model) -> dict[str, Any] | None:
    """Verify the unkeyed chain, key it, and record the re-key; the re-key event's payload."""
    if problem := chain_problem(event_model, head_model, legacy_hash):
        raise ChainNotRekeyed(
            f"the audit chain does not verify as written ({problem}); it was not re-keyed. "
            "Restore the database from a backup, or rebuild a demo database, then migrate."
        )
    head, _ = head_model.objects.get_or_create(
        id=1, defaults={"last_seq": 0, "last_hash": GENESIS_HASH}
    )
    legacy_rows, legacy_tip = head.last_seq, head.last_hash
    tip = _rechain(event_model, compute_hash) if legacy_rows else GENESIS_HASH
    head.last_hash = tip
    head.mac = head_mac(head.last_seq, tip)
    head.save()
    if not legacy_rows:
        return None
    payload = {
        "scheme": "hmac-sha256",
        "key_id": key_id(),
        "legacy_scheme": "sha256",
        "legacy_rows": legacy_rows,
        "legacy_head_hash": legacy_tip,
    }
    append_event(
        event_model,
        head_model,
        actor_label="system:migration",
        code=REKEY_CODE,
        object_type="aggregator.auditevent",
        object_id=str(legacy_rows),
        payload=payload,
    )
    return payload


@transaction.atomic
def unkey_chain(event_model, head_model) -> None:
    """The reverse migration: back to unkeyed sha256, after checking the keyed chain."""
    if problem := chain_problem(event_model, head_model, compute_hash):
        raise ChainNotRekeyed(f"the keyed audit chain does not verify ({problem})")
    tip = _rechain(event_model, legacy_hash)
    head_model.objects.filter(id=1).update(last_hash=tip)
