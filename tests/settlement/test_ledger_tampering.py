"""Tampering with the ledger by someone with database access but without the key.

Raw SQL edits of postings, entries and accounts after a settled interval. The forger
knows how the old, unkeyed hash was computed (it was documented) and recomputes it where
that would have helped; none of it should get past `check_ledger`.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from operators.models import Organisation
from settlement.choices import AccountKind, Component
from settlement.ledger import ledger_check
from settlement.models.ledger import Account, JournalEntry, Posting
from settlement.services.settle import interval_settle
from tests.settlement.conftest import deadline, run_at
from tests.settlement.test_settle import report_all
from tests.support.tamper import rows, sql

pytestmark = pytest.mark.django_db

MAC_COLUMN = next(f.column for f in JournalEntry._meta.fields if f.name.startswith("postings_"))


@pytest.fixture
def settled(cleared):
    k = cleared.k(0)
    report_all(cleared, k)
    interval_settle(run=run_at(k), now=deadline(k))
    assert ledger_check(now=deadline(k)).ok
    return cleared


def caught():
    verdict = ledger_check()
    assert not verdict.ok, "the tampering went unnoticed"
    with pytest.raises(CommandError):
        call_command("check_ledger")
    return verdict


def _fmt(value, places: str) -> str:
    return "" if value is None else str(Decimal(value).quantize(Decimal(places)))


def forge_plain_hash(entry_id: int) -> None:
    """Recompute the entry's hash the unkeyed way, as it was documented before the key."""
    digest = hashlib.sha256()
    for account_id, component, amount, quantity, unit, price in rows(
        "SELECT account_id, component, amount_jpy, quantity, unit, unit_price "
        "FROM settlement_posting WHERE entry_id = %s ORDER BY id",
        [entry_id],
    ):
        line = "|".join(
            (
                str(account_id),
                component,
                str(int(amount)),
                _fmt(quantity, "0.000001"),
                unit,
                _fmt(price, "0.0001"),
            )
        )
        digest.update(line.encode() + b"\n")
    sql(
        f"UPDATE settlement_journalentry SET {MAC_COLUMN} = %s WHERE id = %s",  # noqa: S608
        [digest.hexdigest(), entry_id],
    )


def receivable_posting() -> Posting:
    return (
        Posting.objects.filter(account__kind=AccountKind.RECEIVABLE, amount_jpy__gt=0)
        .order_by("id")
        .first()
    )


def other_organisation(posting: Posting) -> Organisation:
    return Organisation.objects.exclude(pk=posting.organisation_id).order_by("pk").first()


def test_issue14_moving_a_posting_to_another_organisation_is_caught(settled, capsys):
    posting = receivable_posting()
    other = other_organisation(posting)
    # The issue's edit: UPDATE settlement_posting SET organisation_id=6 WHERE id=11.
    sql("UPDATE settlement_posting SET organisation_id = %s WHERE id = %s", [other.pk, posting.pk])
    verdict = caught()
    assert posting.entry_id in verdict.hash_mismatches
    assert posting.pk in verdict.foreign_postings
    assert "does not own their account" in capsys.readouterr().err


def test_moving_a_posting_with_a_recomputed_plain_hash_is_caught(settled):
    posting = receivable_posting()
    other = other_organisation(posting)
    sql("UPDATE settlement_posting SET organisation_id = %s WHERE id = %s", [other.pk, posting.pk])
    forge_plain_hash(posting.entry_id)
    verdict = caught()
    assert posting.entry_id in verdict.hash_mismatches and posting.pk in verdict.foreign_postings


def test_moving_a_posting_to_another_organisations_account_is_caught(settled):
    posting = receivable_posting()
    other = other_organisation(posting)
    target, _ = Account.objects.get_or_create(
        code=f"org-{other.pk}:receivable",
        defaults={"kind": AccountKind.RECEIVABLE, "organisation": other},
    )
    sql(
        "UPDATE settlement_posting SET account_id = %s, organisation_id = %s WHERE id = %s",
        [target.pk, other.pk, posting.pk],
    )
    forge_plain_hash(posting.entry_id)
    assert posting.entry_id in caught().hash_mismatches


def test_giving_an_account_to_another_organisation_is_caught(settled):
    posting = receivable_posting()
    other = other_organisation(posting)
    sql(
        "UPDATE settlement_account SET organisation_id = %s WHERE id = %s",
        [other.pk, posting.account_id],
    )
    verdict = caught()
    assert posting.pk in verdict.foreign_postings


def test_swapping_two_accounts_code_and_owner_is_caught(settled):
    used = Account.objects.filter(organisation__isnull=False, postings__isnull=False)
    a, b = used.distinct().order_by("id")[:2]
    sql("UPDATE settlement_account SET code = 'swap' WHERE id = %s", [a.pk])
    sql(
        "UPDATE settlement_account SET code = %s, organisation_id = %s WHERE id = %s",
        [a.code, a.organisation_id, b.pk],
    )
    sql(
        "UPDATE settlement_account SET code = %s, organisation_id = %s WHERE id = %s",
        [b.code, b.organisation_id, a.pk],
    )
    verdict = caught()
    assert verdict.foreign_postings and verdict.hash_mismatches


def test_a_balanced_amount_edit_with_a_recomputed_plain_hash_is_caught(settled):
    a, b = Posting.objects.filter(component=Component.COMPUTE_ENERGY).order_by("id")[:2]
    assert a.entry_id == b.entry_id
    sql("UPDATE settlement_posting SET amount_jpy = amount_jpy + 50 WHERE id = %s", [a.pk])
    sql("UPDATE settlement_posting SET amount_jpy = amount_jpy - 50 WHERE id = %s", [b.pk])
    forge_plain_hash(a.entry_id)
    verdict = caught()
    assert verdict.unbalanced_entries == [] and verdict.hash_mismatches == [a.entry_id]


def test_editing_a_memo_is_caught(settled):
    posting = Posting.objects.order_by("id").first()
    sql("UPDATE settlement_posting SET memo = 'waived by agreement' WHERE id = %s", [posting.pk])
    assert caught().hash_mismatches == [posting.entry_id]


def test_moving_an_entry_and_its_postings_to_another_interval_is_caught(settled):
    entry = JournalEntry.objects.order_by("id").first()
    later = entry.interval_start.replace(year=entry.interval_start.year + 1)
    sql("UPDATE settlement_journalentry SET interval_start = %s WHERE id = %s", [later, entry.pk])
    sql("UPDATE settlement_posting SET interval_start = %s WHERE entry_id = %s", [later, entry.pk])
    forge_plain_hash(entry.pk)
    assert entry.pk in caught().hash_mismatches


def test_restaging_an_entry_is_caught(settled):
    entry = JournalEntry.objects.order_by("id").first()
    sql(
        "UPDATE settlement_journalentry SET stage = 'provisional', reason = 'x' WHERE id = %s",
        [entry.pk],
    )
    assert caught().hash_mismatches == [entry.pk]
