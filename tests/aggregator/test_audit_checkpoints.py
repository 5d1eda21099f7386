"""Signed checkpoints anchor the chain outside the database: what the keyed chain alone
cannot catch (a head restored from a backup, a rewrite by someone holding the key), a
checkpoint a regulator kept does; a forged checkpoint is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from aggregator.platform.audit import (
    GENESIS_HASH,
    AuditChainBroken,
    audit_record,
    audit_verify_chain,
    compute_hash,
    head_mac,
)
from aggregator.platform.audit_checkpoints import (
    Checkpoint,
    audit_checkpoint_issue,
    parse_checkpoints,
    read_checkpoints,
)
from aggregator.platform.models import AuditChainHead, AuditCheckpoint, AuditEvent
from aggregator.platform.tasks import issue_audit_checkpoint
from tests.support import tamper

pytestmark = pytest.mark.django_db


def record(n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        audit_record(code="test.event", actor_label="system", object_id=str(i), payload={"n": i})


def kept_by_regulator(checkpoint: Checkpoint) -> list[Checkpoint]:
    """The copy outside the database: the token as printed, parsed back."""
    return parse_checkpoints(checkpoint.token)


def test_a_checkpoint_signs_the_head_and_verifies(capsys):
    record(5)
    checkpoint = audit_checkpoint_issue()
    head = AuditChainHead.objects.get()
    assert (checkpoint.seq, checkpoint.head_hash) == (5, head.last_hash)
    assert AuditCheckpoint.objects.get().signature == checkpoint.signature
    assert audit_checkpoint_issue() == checkpoint  # nothing new: the same one
    record(2, start=5)
    verdict = audit_verify_chain(checkpoints=kept_by_regulator(checkpoint))
    assert verdict.ok and verdict.checked == 7 and verdict.checkpoints == 2  # given + stored
    call_command("verify_audit_chain", "--checkpoint", checkpoint.token)
    assert "7 row(s) verified, 2 checkpoint(s) matched" in capsys.readouterr().out


def test_the_beat_task_issues_one():
    record(3)
    assert issue_audit_checkpoint.delay().get() == {"seq": 3}
    assert AuditCheckpoint.objects.get().seq == 3


def test_truncation_with_a_head_restored_from_a_backup_is_caught_by_the_checkpoint():
    record(5)
    backup = tamper.head_row()  # a copy of the head as it was, valid MAC and all
    record(3, start=5)
    checkpoint = audit_checkpoint_issue()
    # Later: rows 6–8 are deleted, the old head put back, and the stored checkpoints too.
    tamper.delete_events_from(6)
    tamper.restore_head(backup)
    tamper.sql("DELETE FROM aggregator_auditcheckpoint")
    # From the database alone this is a consistent, shorter chain: the reason for anchors.
    assert audit_verify_chain().ok
    verdict = audit_verify_chain(checkpoints=kept_by_regulator(checkpoint))
    assert not verdict.ok and verdict.first_bad_seq == 6 and "cut off" in verdict.reason
    with pytest.raises(CommandError, match="cut off"):
        call_command("verify_audit_chain", "--checkpoint", checkpoint.token)


def test_the_whole_chain_wiped_and_the_empty_head_restored_is_caught_by_the_checkpoint():
    # The head as migrate leaves it on an empty chain, and the attacker's copy of it.
    AuditChainHead.objects.get_or_create(id=1, defaults={"mac": head_mac(0, GENESIS_HASH)})
    backup = tamper.head_row()
    record(3)
    checkpoint = audit_checkpoint_issue()
    tamper.sql("DELETE FROM aggregator_auditevent")
    tamper.restore_head(backup)
    tamper.sql("DELETE FROM aggregator_auditcheckpoint")
    record(1)  # the exchange carries on, on a fresh chain
    assert audit_verify_chain().ok
    verdict = audit_verify_chain(checkpoints=kept_by_regulator(checkpoint))
    assert not verdict.ok and "cut off" in verdict.reason


def test_a_rewrite_by_someone_holding_the_key_is_caught_by_an_earlier_checkpoint():
    record(6)
    checkpoint = audit_checkpoint_issue()
    # An insider with the key rewrites row 3 and re-MACs everything after it, head included.
    tamper.set_payload(3, {"n": 3, "yen": 999})
    prev = tamper.event_hash(2)
    for event in AuditEvent.objects.filter(seq__gte=3).order_by("seq"):
        mac = compute_hash(event, prev_hash=prev)
        tamper.sql(
            "UPDATE aggregator_auditevent SET prev_hash = %s, hash = %s WHERE id = %s",
            [prev, mac, event.pk],
        )
        prev = mac
    tamper.set_head(6, prev)
    tamper.sql("UPDATE aggregator_auditchainhead SET mac = %s", [head_mac(6, prev)])
    tamper.sql("DELETE FROM aggregator_auditcheckpoint")
    assert audit_verify_chain().ok  # keyed hashes alone cannot tell
    verdict = audit_verify_chain(checkpoints=kept_by_regulator(checkpoint))
    assert not verdict.ok and verdict.first_bad_seq == 6 and "rewritten" in verdict.reason


@pytest.mark.parametrize("part", ["seq", "head_hash", "at", "signature", "key_id"])
def test_a_forged_checkpoint_is_refused(part):
    record(4)
    genuine = audit_checkpoint_issue()
    forged = {
        "seq": lambda c: Checkpoint(9, c.head_hash, c.at, c.key_id, c.signature),
        "head_hash": lambda c: Checkpoint(c.seq, "a" * 64, c.at, c.key_id, c.signature),
        "at": lambda c: Checkpoint(
            c.seq, c.head_hash, c.at + timedelta(days=1), c.key_id, c.signature
        ),
        "signature": lambda c: Checkpoint(c.seq, c.head_hash, c.at, c.key_id, "0" * 64),
        "key_id": lambda c: Checkpoint(c.seq, c.head_hash, c.at, "0" * 16, c.signature),
    }[part](genuine)
    verdict = audit_verify_chain(checkpoints=parse_checkpoints(forged.token))
    assert not verdict.ok
    assert ("another key" if part == "key_id" else "forged") in verdict.reason
    with pytest.raises(CommandError, match="BROKEN"):
        call_command("verify_audit_chain", "--checkpoint", forged.token)


def test_a_forged_checkpoint_stored_in_the_database_is_refused():
    record(2)
    cp = audit_checkpoint_issue()
    tamper.sql("UPDATE aggregator_auditcheckpoint SET seq = 40 WHERE seq = %s", [cp.seq])
    assert "forged" in audit_verify_chain().reason


def test_no_checkpoint_is_signed_over_a_damaged_chain():
    record(3)
    audit_checkpoint_issue()
    record(3, start=3)
    tamper.set_payload(5, {"n": "changed"})
    with pytest.raises(AuditChainBroken, match="#5"):
        audit_checkpoint_issue()
    assert AuditCheckpoint.objects.count() == 1
    with pytest.raises(CommandError, match="no checkpoint signed"):
        call_command("audit_checkpoint")


def test_appending_to_a_chain_whose_head_was_moved_back_is_refused():
    # Appending would re-sign the head over the truncation and hide it.
    record(5)
    tamper.delete_events_from(5)
    tamper.set_head(4, tamper.event_hash(4))
    with pytest.raises(AuditChainBroken, match="head row"):
        audit_record(code="test.after", actor_label="system")
    assert not audit_verify_chain().ok


def test_checkpoints_are_read_from_tokens_wrapped_over_lines_and_from_files(tmp_path):
    record(2)
    cp = audit_checkpoint_issue()
    wrapped = cp.token.replace(".", ".\n   ")
    assert parse_checkpoints(wrapped) == [cp]
    report = tmp_path / "report.csv"
    report.write_text(f'"audit_checkpoint","","","token","{cp.token}",""\n', encoding="utf-8")
    assert read_checkpoints(str(report)) == [cp]
    with pytest.raises(ValueError, match="neither"):
        read_checkpoints(str(tmp_path / "missing.json"))
    empty = tmp_path / "empty.json"
    empty.write_text("{}")
    with pytest.raises(ValueError, match="no checkpoint"):
        read_checkpoints(str(empty))
    with pytest.raises(CommandError):
        call_command("verify_audit_chain", "--checkpoint", str(empty))
