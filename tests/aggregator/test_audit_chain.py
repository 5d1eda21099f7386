"""The audit chain detects any altered, removed or reordered row."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from aggregator.platform.audit import audit_record, audit_verify_chain
from aggregator.platform.models import AppendOnlyError, AuditChainHead, AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain():
    for i in range(6):
        audit_record(
            code="test.event",
            actor_label="system",
            object_id=str(i),
            payload={"n": i, "yen": 100 * i},
        )
    return list(AuditEvent.objects.order_by("seq"))


def test_intact_chain_verifies(chain, capsys):
    verdict = audit_verify_chain()
    assert verdict.ok and verdict.checked == 6
    call_command("verify_audit_chain")
    assert "6 row(s) verified" in capsys.readouterr().out


def test_every_write_records_an_event_in_the_same_transaction(alice, alpha_site):
    codes = list(AuditEvent.objects.values_list("code", flat=True))
    assert codes[-1] == "operators.site.created"
    event = AuditEvent.objects.last()
    assert event.actor_label == "user:alice"
    assert event.payload["new"]["code"] == alpha_site.code


def test_rolled_back_change_leaves_no_event(db):
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(code="test.lost", actor_label="system")
        raise RuntimeError
    assert not AuditEvent.objects.filter(code="test.lost").exists()
    assert audit_verify_chain().ok


def test_altered_payload_detected(chain):
    AuditEvent.objects.filter(seq=3).update(payload={"n": 2, "yen": 1})
    verdict = audit_verify_chain()
    assert not verdict.ok and verdict.first_bad_seq == 3
    with pytest.raises(CommandError, match="#3"):
        call_command("verify_audit_chain")


def test_altered_actor_detected(chain):
    AuditEvent.objects.filter(seq=5).update(actor_label="user:mallory")
    assert audit_verify_chain().first_bad_seq == 5


def test_rehashed_row_breaks_the_next_link(chain):
    # A forger who recomputes the altered row's own hash still breaks the next row's link.
    from aggregator.platform.audit import compute_hash

    row = AuditEvent.objects.get(seq=2)
    row.payload = {"n": 1, "yen": 999999}
    AuditEvent.objects.filter(seq=2).update(payload=row.payload, hash=compute_hash(row))
    verdict = audit_verify_chain()
    assert not verdict.ok and verdict.first_bad_seq == 3


def test_deleted_row_detected(chain):
    AuditEvent.objects.filter(seq=4)._raw_delete(AuditEvent.objects.db)
    verdict = audit_verify_chain()
    assert not verdict.ok and verdict.first_bad_seq == 4
    assert "missing" in verdict.reason


def test_deleted_tail_detected(chain):
    AuditEvent.objects.filter(seq=6)._raw_delete(AuditEvent.objects.db)
    verdict = audit_verify_chain()
    assert not verdict.ok and "cut off" in verdict.reason


def test_reordered_rows_detected(chain):
    # Swap the positions of rows 2 and 3 (via a free seq number to respect uniqueness).
    AuditEvent.objects.filter(seq=2).update(seq=1000)
    AuditEvent.objects.filter(seq=3).update(seq=2)
    AuditEvent.objects.filter(seq=1000).update(seq=3)
    verdict = audit_verify_chain()
    assert not verdict.ok and verdict.first_bad_seq == 2


def test_rows_refuse_update_and_delete_through_the_orm(chain):
    row = chain[0]
    row.code = "changed"
    with pytest.raises(AppendOnlyError):
        row.save()
    with pytest.raises(AppendOnlyError):
        row.delete()


def test_head_tracks_tip(chain):
    head = AuditChainHead.objects.get()
    assert head.last_seq == 6 and head.last_hash == chain[-1].hash
