"""What someone with write access to the database (and without the integrity key) can do.

Every edit is raw SQL, as it would be from psql or sqlite3: no model method, no signal.
The forger knows the hashing scheme (it is documented) but not the key, so the best
they can do is recompute hashes the unkeyed way, or copy values they saw before.
"""

from __future__ import annotations

import hashlib
import json

from django.db import connection

GENESIS_HASH = "0" * 64


def _content(event, prev: str) -> str:
    """A row's canonical content as documented (docs/security.md), computed independently."""
    return json.dumps(
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
            "prev": prev,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def sql(query: str, params: list | tuple = ()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.rowcount


def rows(query: str, params: list | tuple = ()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return list(cursor.fetchall())


def head_row() -> dict | None:
    """The head row's columns, whatever they are (a backup copy of it)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM aggregator_auditchainhead WHERE id = 1")
        found = cursor.fetchone()
        names = [c[0] for c in cursor.description]
    return dict(zip(names, found, strict=True)) if found else None


def restore_head(saved: dict) -> None:
    """Put a head row back exactly as copied (e.g. from an old backup)."""
    sql("DELETE FROM aggregator_auditchainhead WHERE id = 1")
    names = list(saved)  # column names read from the table itself, not from input
    columns, marks = ", ".join(names), ", ".join(["%s"] * len(names))
    sql(
        f"INSERT INTO aggregator_auditchainhead ({columns}) VALUES ({marks})",  # noqa: S608
        [saved[n] for n in names],
    )


def set_head(last_seq: int, last_hash: str) -> None:
    """Move the head (its MAC, if it has one, cannot be recomputed without the key)."""
    sql(
        "UPDATE aggregator_auditchainhead SET last_seq = %s, last_hash = %s WHERE id = 1",
        [last_seq, last_hash],
    )


def event_hash(seq: int) -> str:
    return rows("SELECT hash FROM aggregator_auditevent WHERE seq = %s", [seq])[0][0]


def delete_events_from(seq: int) -> int:
    return sql("DELETE FROM aggregator_auditevent WHERE seq >= %s", [seq])


def set_payload(seq: int, payload: dict) -> None:
    sql("UPDATE aggregator_auditevent SET payload = %s WHERE seq = %s", [json.dumps(payload), seq])


def forge_rehash(from_seq: int = 1) -> str:
    """Recompute every hash from `from_seq` on, unkeyed (all a forger can do); move the head.

    Returns the forged tip. The head's MAC is left as it was: the forger cannot compute one.
    """
    from aggregator.platform.models import AuditEvent

    prev = GENESIS_HASH
    for event in AuditEvent.objects.order_by("seq"):
        if event.seq >= from_seq:
            forged = hashlib.sha256(_content(event, prev).encode()).hexdigest()
            sql(
                "UPDATE aggregator_auditevent SET prev_hash = %s, hash = %s WHERE id = %s",
                [prev, forged, event.pk],
            )
            prev = forged
        else:
            prev = event.hash
    last = rows("SELECT MAX(seq) FROM aggregator_auditevent")[0][0] or 0
    set_head(last, prev)
    return prev
