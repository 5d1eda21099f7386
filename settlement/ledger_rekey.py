"""Re-keying a ledger written before entries carried a keyed MAC (migration settlement 0003).

The documented starting point: every existing entry must still match the unkeyed sha256
it was written with, and every posting's organisation must own its account. Only then is
each entry given its keyed MAC, and the re-key is the next audit event
(`settlement.ledger.rekeyed`), whose payload carries a digest of the old hashes in entry
order. A ledger that fails stops the migration and is left as it was: re-keying it would
bless the damage (e.g. a posting already moved to another organisation).

Runs on a migration's historical models (`apps`).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict

from django.db import transaction

from aggregator.platform.audit import append_event
from aggregator.platform.integrity import key_id
from settlement.choices import SettlementAudit
from settlement.ledger_integrity import (
    entry_header,
    entry_mac,
    legacy_postings_hash,
    ownership_problem,
    posting_row_fields,
)

BATCH = 500
REKEY_CODE = SettlementAudit.LEDGER_REKEYED


class LedgerNotRekeyed(RuntimeError):
    """The legacy ledger does not verify; it is left exactly as it was."""


def _batches(apps):
    entry_model = apps.get_model("settlement", "JournalEntry")
    posting_model = apps.get_model("settlement", "Posting")
    last = 0
    while True:
        entries = list(entry_model.objects.filter(pk__gt=last).order_by("pk")[:BATCH])
        if not entries:
            return
        postings = defaultdict(list)
        for p in (
            posting_model.objects.filter(entry_id__in=[e.pk for e in entries])
            .select_related("account")
            .order_by("entry_id", "id")
        ):
            postings[p.entry_id].append(p)
        yield entry_model, entries, postings
        last = entries[-1].pk


@transaction.atomic
def rekey_legacy_ledger(apps) -> dict | None:
    problems: list[str] = []
    digest = hashlib.sha256()
    entries_total = postings_total = 0
    for entry_model, entries, postings in _batches(apps):
        for entry in entries:
            rows = postings[entry.pk]
            entries_total += 1
            postings_total += len(rows)
            digest.update(f"{entry.pk}:{entry.postings_mac}\n".encode())
            if legacy_postings_hash(rows) != entry.postings_mac:
                problems.append(f"entry {entry.pk}: its postings do not match its hash")
            for p in rows:
                if problem := ownership_problem(
                    posting_organisation_id=p.organisation_id,
                    account_organisation_id=p.account.organisation_id,
                    account_code=p.account.code,
                    account_kind=p.account.kind,
                ):
                    problems.append(f"posting {p.pk}: {problem}")
            entry.postings_mac = entry_mac(
                entry_header(entry), [posting_row_fields(p) for p in rows]
            )
        entry_model.objects.bulk_update(entries, ["postings_mac"])
    if problems:
        shown = "; ".join(problems[:10]) + (
            f" … (+{len(problems) - 10})" if len(problems) > 10 else ""
        )
        raise LedgerNotRekeyed(
            f"the ledger does not verify as written ({shown}); it was not re-keyed. Restore "
            "the database from a backup, or rebuild a demo database, then migrate."
        )
    if not entries_total:
        return None
    payload = {
        "scheme": "hmac-sha256",
        "key_id": key_id(),
        "legacy_scheme": "sha256",
        "entries": entries_total,
        "postings": postings_total,
        "legacy_digest": digest.hexdigest(),
    }
    append_event(
        apps.get_model("aggregator", "AuditEvent"),
        apps.get_model("aggregator", "AuditChainHead"),
        actor_label="system:migration",
        code=REKEY_CODE,
        object_type="settlement.journalentry",
        object_id=str(entries_total),
        payload=payload,
    )
    return payload


@transaction.atomic
def unkey_ledger(apps) -> None:
    """The reverse migration: entries get their unkeyed sha256 back."""
    for entry_model, entries, postings in _batches(apps):
        for entry in entries:
            entry.postings_mac = legacy_postings_hash(postings[entry.pk])
        entry_model.objects.bulk_update(entries, ["postings_mac"])
