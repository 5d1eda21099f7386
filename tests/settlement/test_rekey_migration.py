"""The migration path (aggregator 0002, settlement 0003): chains and ledgers written before the key are verified as written,
re-keyed, and the re-key recorded; damaged ones are refused and left as they were."""

from __future__ import annotations

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from aggregator.platform.audit import audit_verify_chain, legacy_hash
from aggregator.platform.audit_rekey import chain_problem
from aggregator.platform.models import AuditEvent
from settlement.ledger import ledger_check
from settlement.ledger_integrity import legacy_postings_hash
from settlement.ledger_rekey import LedgerNotRekeyed, rekey_legacy_ledger, unkey_ledger
from settlement.models.ledger import JournalEntry, Posting
from settlement.services.settle import interval_settle
from tests.settlement.conftest import deadline, run_at
from tests.settlement.test_settle import report_all
from tests.support import tamper

BEFORE = [("aggregator", "0001_initial"), ("settlement", "0002_tolerance_label")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _latest():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_migrate_rekeys_a_chain_and_a_ledger_written_before_the_key(reference_data, cleared):
    # reference_data first: an earlier transactional test's flush may have emptied the
    # migration-loaded areas and zones (tests/conftest.py).
    k = cleared.k(0)
    report_all(cleared, k)
    interval_settle(run=run_at(k), now=deadline(k))
    events, entries = AuditEvent.objects.count(), JournalEntry.objects.count()
    assert entries and audit_verify_chain().ok
    try:
        old = _migrate(BEFORE)  # the schema and hashes as they were before the key
        old_event = old.get_model("aggregator", "AuditEvent")
        old_head = old.get_model("aggregator", "AuditChainHead")
        assert chain_problem(old_event, old_head, legacy_hash) is None
        old_entry = old.get_model("settlement", "JournalEntry")
        old_posting = old.get_model("settlement", "Posting")
        for entry in old_entry.objects.all():
            rows = old_posting.objects.filter(entry_id=entry.pk).order_by("id")
            assert legacy_postings_hash(rows) == entry.postings_sha256
    finally:
        _migrate(_latest())
    assert audit_verify_chain().ok
    assert ledger_check(now=deadline(k)).ok
    chain_rekey, ledger_rekey = AuditEvent.objects.order_by("-seq")[:2][::-1]
    assert chain_rekey.code == "aggregator.audit.rekeyed"
    assert chain_rekey.payload["legacy_rows"] == events and chain_rekey.seq == events + 1
    assert ledger_rekey.code == "settlement.ledger.rekeyed"
    assert ledger_rekey.payload["entries"] == entries
    assert ledger_rekey.payload["postings"] == Posting.objects.count()
    call_command("verify_audit_chain")
    call_command("check_ledger")


@pytest.mark.django_db
def test_a_legacy_ledger_with_a_posting_moved_to_another_organisation_is_not_rekeyed(cleared):
    k = cleared.k(0)
    report_all(cleared, k)
    interval_settle(run=run_at(k), now=deadline(k))
    unkey_ledger(django_apps)
    posting = Posting.objects.filter(organisation__isnull=False).order_by("id").first()
    other = cleared.charlie.organisation_id
    if other == posting.organisation_id:
        other = cleared.alice.organisation_id
    tamper.sql(
        "UPDATE settlement_posting SET organisation_id = %s WHERE id = %s", [other, posting.pk]
    )
    with pytest.raises(LedgerNotRekeyed, match=f"posting {posting.pk}"):
        rekey_legacy_ledger(django_apps)
    assert not AuditEvent.objects.filter(code="settlement.ledger.rekeyed").exists()
