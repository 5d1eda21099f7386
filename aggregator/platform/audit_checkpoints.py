"""Signed checkpoints of the audit chain's head: the anchor kept outside the database.

A checkpoint says "at time T the chain had N rows and row N's keyed hash was H", signed
(HMAC-SHA256) with the integrity key. It is issued periodically (`issue_audit_checkpoint`
on beat, or `manage.py audit_checkpoint`), printed in every market report (JSON, CSV and
PDF) and handed back to `verify_audit_chain --checkpoint`: a chain shorter than a
checkpoint, or whose row N no longer hashes to H, was truncated or rewritten — even if
whoever did it also restored an old head row from a backup.

The portable form is one token, `wbckpt1.<seq>.<YYYYMMDDTHHMMSSZ>.<head hash>.<key id>.
<signature>`; whitespace after a dot is ignored, so a token wrapped over lines in a PDF
still parses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.db import IntegrityError, transaction
from django.utils import timezone

from aggregator.platform.audit import (
    GENESIS_HASH,
    AuditChainBroken,
    compute_hash,
    head_mac,
)
from aggregator.platform.canonical import canonical_json
from aggregator.platform.integrity import key_id, mac_hex, macs_equal
from aggregator.platform.models import AuditChainHead, AuditCheckpoint, AuditEvent

SCHEMA = "wattbit.audit-checkpoint/1"
TOKEN_RE = re.compile(
    r"wbckpt1\.\s*(\d+)\.\s*(\d{8}T\d{6}Z)\.\s*([0-9a-f]{64})\.\s*([0-9a-f]{16})\.\s*([0-9a-f]{64})"
)
_AT_FORMAT = "%Y%m%dT%H%M%SZ"


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    head_hash: str
    at: datetime  # aware, whole seconds
    key_id: str
    signature: str

    @property
    def at_text(self) -> str:
        return self.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def message(self) -> str:
        """What the signature covers."""
        return canonical_json(
            {
                "schema": SCHEMA,
                "seq": self.seq,
                "head_hash": self.head_hash,
                "at": self.at_text,
                "key_id": self.key_id,
            }
        )

    @property
    def token(self) -> str:
        at = self.at.astimezone(UTC).strftime(_AT_FORMAT)
        return f"wbckpt1.{self.seq}.{at}.{self.head_hash}.{self.key_id}.{self.signature}"

    def as_dict(self) -> dict:
        return {
            "schema": SCHEMA,
            "seq": self.seq,
            "head_hash": self.head_hash,
            "at": self.at_text,
            "key_id": self.key_id,
            "signature": self.signature,
            "token": self.token,
        }


def _signature(seq: int, head_hash: str, at: datetime, kid: str) -> str:
    unsigned = Checkpoint(seq, head_hash, at, kid, "")
    return mac_hex("audit-checkpoint", unsigned.message())


def sign_checkpoint(seq: int, head_hash: str, at: datetime) -> Checkpoint:
    at = at.astimezone(UTC).replace(microsecond=0)
    kid = key_id()
    return Checkpoint(seq, head_hash, at, kid, _signature(seq, head_hash, at, kid))


def checkpoint_problem(cp: Checkpoint) -> str | None:
    """Why `cp` is not a checkpoint this exchange signed, or None."""
    ours = key_id()
    if cp.key_id != ours:
        return (
            f"the checkpoint for row #{cp.seq} ({cp.at_text}) was signed with another key "
            f"(key id {cp.key_id}; this exchange's is {ours})"
        )
    if not macs_equal(cp.signature, _signature(cp.seq, cp.head_hash, cp.at, cp.key_id)):
        return (
            f"the checkpoint for row #{cp.seq} ({cp.at_text}) does not carry a valid "
            "signature: it is forged or was altered"
        )
    return None


def parse_checkpoints(text: str) -> list[Checkpoint]:
    """Every checkpoint token in `text` (a report in JSON or CSV, a list, a single token)."""
    found = []
    for seq, at, head_hash, kid, signature in TOKEN_RE.findall(text):
        moment = datetime.strptime(at, _AT_FORMAT).replace(tzinfo=UTC)
        found.append(Checkpoint(int(seq), head_hash, moment, kid, signature))
    return found


def read_checkpoints(value: str) -> list[Checkpoint]:
    """A token, or a file holding tokens; ValueError if there is none."""
    if TOKEN_RE.search(value):
        return parse_checkpoints(value)
    path = Path(value)
    if not path.is_file():
        raise ValueError(f"{value!r} is neither a checkpoint token nor a readable file")
    found = parse_checkpoints(path.read_text(encoding="utf-8-sig", errors="replace"))
    if not found:
        raise ValueError(
            f"{value}: no checkpoint in it (give the market report as JSON or CSV, or the "
            "token printed in the PDF)"
        )
    return found


def _from_row(row: AuditCheckpoint) -> Checkpoint:
    return Checkpoint(row.seq, row.head_hash, row.created_at, row.key_id, row.signature)


def stored() -> list[Checkpoint]:
    return [_from_row(row) for row in AuditCheckpoint.objects.order_by("seq")]


def checkpoints_between(start: datetime, end: datetime) -> list[Checkpoint]:
    """Checkpoints issued in [start, end), and the newest one issued so far (for reports)."""
    rows = list(
        AuditCheckpoint.objects.filter(created_at__gte=start, created_at__lt=end).order_by("seq")
    )
    latest = AuditCheckpoint.objects.order_by("-seq").first()
    if latest is not None and all(r.pk != latest.pk for r in rows):
        rows.append(latest)
    return [_from_row(row) for row in rows]


def _extension_problem(since: Checkpoint | None, head: AuditChainHead) -> str | None:
    """Do the rows after the last checkpoint extend it correctly up to the head?"""
    if since is not None and (problem := checkpoint_problem(since)):
        return problem
    start = since.seq if since is not None else 0
    prev = since.head_hash if since is not None else GENESIS_HASH
    if since is not None:
        row = AuditEvent.objects.filter(seq=since.seq).first()
        if row is None or not macs_equal(row.hash, since.head_hash):
            return f"row #{since.seq} no longer matches the checkpoint signed at {since.at_text}"
    expected = start + 1
    rows = AuditEvent.objects.filter(seq__gt=start, seq__lte=head.last_seq).order_by("seq")
    for event in rows.iterator(chunk_size=2000):
        if event.seq != expected:
            return f"row #{expected} is missing"
        if event.prev_hash != prev or not macs_equal(compute_hash(event), event.hash):
            return f"row #{event.seq} does not verify"
        prev, expected = event.hash, expected + 1
    if expected - 1 != head.last_seq or prev != head.last_hash:
        return f"the rows do not reach the head (#{head.last_seq})"
    return None


def audit_checkpoint_issue(*, now: datetime | None = None) -> Checkpoint | None:
    """Sign the current head, after checking the rows added since the last checkpoint.

    None when the chain is empty. The newest checkpoint is returned again when no row was
    added since. Raises AuditChainBroken rather than sign over a damaged chain.
    """
    head = AuditChainHead.objects.filter(id=1).first()
    if head is None:
        if AuditEvent.objects.exists():
            raise AuditChainBroken("the audit chain's head row is missing; nothing was signed")
        return None
    if not macs_equal(head.mac, head_mac(head.last_seq, head.last_hash)):
        raise AuditChainBroken("the audit chain's head row was altered; nothing was signed")
    if head.last_seq == 0:
        return None
    last_row = AuditCheckpoint.objects.order_by("-seq").first()
    last = _from_row(last_row) if last_row is not None else None
    if last is not None and last.seq >= head.last_seq:
        if last.seq > head.last_seq:
            raise AuditChainBroken(
                f"the head (#{head.last_seq}) is behind the checkpoint for #{last.seq}: "
                "rows were cut off; nothing was signed"
            )
        return last
    if problem := _extension_problem(last, head):
        raise AuditChainBroken(f"{problem}; nothing was signed")
    cp = sign_checkpoint(head.last_seq, head.last_hash, now or timezone.now())
    try:
        with transaction.atomic():
            AuditCheckpoint.objects.create(
                seq=cp.seq,
                head_hash=cp.head_hash,
                created_at=cp.at,
                key_id=cp.key_id,
                signature=cp.signature,
            )
    except IntegrityError:  # another beat signed the same head a moment ago
        return _from_row(AuditCheckpoint.objects.get(seq=cp.seq))
    return cp
