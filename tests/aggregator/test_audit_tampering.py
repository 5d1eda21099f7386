"""Tampering with the audit chain by someone with database access but without the key.

Each case edits the database with raw SQL (tests/support/tamper.py). The cases marked
"issue 14" passed verification before the chain was keyed and its head was checked.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from aggregator.platform.audit import audit_record, audit_verify_chain
from aggregator.platform.models import AuditEvent
from tests.support import tamper

pytestmark = pytest.mark.django_db

N = 8


@pytest.fixture
def chain():
    for i in range(N):
        audit_record(
            code="test.event",
            actor_label="system",
            object_id=str(i),
            payload={"n": i, "yen": 100 * i},
        )
    assert audit_verify_chain().ok


def broken():
    verdict = audit_verify_chain()
    assert not verdict.ok, "the tampering went unnoticed"
    with pytest.raises(CommandError, match="BROKEN"):
        call_command("verify_audit_chain")
    return verdict


def test_issue14_deleting_the_last_events_and_the_head_row_is_detected(chain):
    tamper.delete_events_from(N - 1)
    tamper.sql("DELETE FROM aggregator_auditchainhead")
    verdict = broken()
    assert "head row is missing" in verdict.reason and verdict.first_bad_seq == N - 1


def test_issue14_truncation_with_the_head_moved_back_is_detected(chain):
    tamper.delete_events_from(N - 1)
    tamper.set_head(N - 2, tamper.event_hash(N - 2))
    verdict = broken()
    assert verdict.first_bad_seq == N - 1 and "head" in verdict.reason


def test_issue14_an_edit_followed_by_rehashing_the_rest_is_detected(chain):
    tamper.set_payload(3, {"n": 2, "yen": 1_000_000})
    tamper.forge_rehash(from_seq=3)
    assert broken().first_bad_seq == 3


def test_the_whole_chain_and_its_head_deleted_is_detected(chain):
    tamper.sql("DELETE FROM aggregator_auditevent")
    tamper.sql("DELETE FROM aggregator_auditchainhead")
    verdict = broken()
    assert verdict.checked == 0 and "head row is missing" in verdict.reason


def test_editing_a_payload_is_detected(chain):
    tamper.set_payload(5, {"n": 4, "yen": 1})
    assert broken().first_bad_seq == 5


def test_deleting_a_middle_row_is_detected(chain):
    tamper.sql("DELETE FROM aggregator_auditevent WHERE seq = 4")
    verdict = broken()
    assert verdict.first_bad_seq == 4 and "missing" in verdict.reason


def test_deleting_a_middle_row_then_renumbering_and_rehashing_is_detected(chain):
    tamper.sql("DELETE FROM aggregator_auditevent WHERE seq = 4")
    for seq in range(5, N + 1):  # one at a time: seq is unique
        tamper.sql("UPDATE aggregator_auditevent SET seq = %s WHERE seq = %s", [seq - 1, seq])
    tamper.forge_rehash(from_seq=4)
    assert broken().first_bad_seq == 4


def test_reordering_rows_is_detected(chain):
    tamper.sql("UPDATE aggregator_auditevent SET seq = 1000 WHERE seq = 2")
    tamper.sql("UPDATE aggregator_auditevent SET seq = 2 WHERE seq = 3")
    tamper.sql("UPDATE aggregator_auditevent SET seq = 3 WHERE seq = 1000")
    assert broken().first_bad_seq == 2


def test_reordering_rows_then_rehashing_is_detected(chain):
    tamper.sql("UPDATE aggregator_auditevent SET seq = 1000 WHERE seq = 2")
    tamper.sql("UPDATE aggregator_auditevent SET seq = 2 WHERE seq = 3")
    tamper.sql("UPDATE aggregator_auditevent SET seq = 3 WHERE seq = 1000")
    tamper.forge_rehash(from_seq=2)
    assert broken().first_bad_seq == 2


def test_a_fabricated_event_appended_with_a_plain_hash_is_detected(chain):
    # Copy the last row as a new one, give it a plausible code, hash it the unkeyed way.
    tamper.sql(
        "INSERT INTO aggregator_auditevent (seq, created_at, actor_label, code, object_type, "
        "object_id, payload, prev_hash, hash, actor_user_id, organisation_id) "
        "SELECT seq + 1, created_at, 'user:mallory', 'market.parameters.changed', "
        "object_type, object_id, payload, hash, 'forged', actor_user_id, organisation_id "
        "FROM aggregator_auditevent WHERE seq = %s",
        [N],
    )
    tamper.forge_rehash(from_seq=N + 1)
    assert AuditEvent.objects.filter(seq=N + 1).exists()
    assert broken().first_bad_seq == N + 1


def test_head_edited_alone_is_detected(chain):
    tamper.set_head(N + 5, tamper.event_hash(N))
    assert "head" in broken().reason
