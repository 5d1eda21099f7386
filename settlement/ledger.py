"""Writing balanced journal entries; `ledger_check` (re-exported here) proves the ledger whole.

The only code that creates ledger rows. An entry is planned as `Line`s, completed with a
rounding posting if its rounded sides differ by a residue (`balanced`), given its keyed MAC
(settlement.ledger_integrity), and written with bulk inserts. `ledger_check`
(settlement.ledger_check) proves the ledger whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from aggregator.platform.audit_codes import SYSTEM_ACTOR
from settlement.choices import AccountKind, Component, EntryKind, Stage
from settlement.ledger_check import LedgerVerdict, ledger_check, ledger_check_recorded
from settlement.ledger_integrity import (
    PRICE_PLACES,
    QUANTITY_PLACES,
    entry_header,
    entry_mac,
    posting_row_fields,
)
from settlement.models.ledger import Account, JournalEntry, Posting


@dataclass
class Line:
    """One planned posting: signed integer yen (+ debit, − credit) on one account."""

    account: Account
    component: str
    amount_jpy: int
    quantity: Decimal | None = None
    unit: str = ""
    unit_price: Decimal | None = None
    memo: str = ""


@dataclass
class PlannedEntry:
    interval_start: datetime
    run_id: int
    order_id: int | None
    kind: str
    stage: str
    reason: str
    lines: list[Line]
    reverses_id: int | None = None
    actor_label: str = SYSTEM_ACTOR


class Accounts:
    """Accounts by (organisation, kind) or market kind, created on first use, cached.

    `persist=False` keeps new accounts in memory (numbered from 1): planning without a
    database, as the property tests of the money rules do.
    """

    def __init__(self, *, persist: bool = True) -> None:
        self.persist = persist
        self._by_code: dict[str, Account] = (
            {a.code: a for a in Account.objects.all()} if persist else {}
        )

    def _get(self, code: str, kind: str, organisation_id: int | None) -> Account:
        account = self._by_code.get(code)
        if account is None:
            if self.persist:
                account, _created = Account.objects.get_or_create(
                    code=code, defaults={"kind": kind, "organisation_id": organisation_id}
                )
            else:
                account = Account(
                    pk=len(self._by_code) + 1,
                    code=code,
                    kind=kind,
                    organisation_id=organisation_id,
                )
            self._by_code[code] = account
        return account

    def ensure_organisations(self, organisation_ids) -> None:
        """Create every missing receivable/payable account of these organisations at once."""
        missing = [
            Account(code=f"org-{org_id}:{kind}", kind=kind, organisation_id=org_id)
            for org_id in sorted(set(organisation_ids))
            for kind in (AccountKind.RECEIVABLE, AccountKind.PAYABLE)
            if f"org-{org_id}:{kind}" not in self._by_code
        ]
        if not missing:
            return
        if not self.persist:
            for account in missing:
                account.pk = len(self._by_code) + 1
                self._by_code[account.code] = account
            return
        # A concurrent settler may create the same accounts: the unique code makes it a no-op.
        Account.objects.bulk_create(missing, ignore_conflicts=True)
        for account in Account.objects.filter(code__in=[a.code for a in missing]):
            self._by_code[account.code] = account

    def org(self, organisation_id: int, kind: str) -> Account:
        return self._get(f"org-{organisation_id}:{kind}", kind, organisation_id)

    def market(self, kind: str) -> Account:
        return self._get(f"market:{kind}", kind, None)


def balanced(lines: list[Line], accounts: Accounts) -> list[Line]:
    """Drop zero lines; post any residue of separately rounded sides to rounding."""
    kept = [line for line in lines if line.amount_jpy != 0]
    residue = sum(line.amount_jpy for line in kept)
    if residue:
        kept.append(
            Line(accounts.market(AccountKind.ROUNDING), Component.ROUNDING, -residue, memo="")
        )
    return kept


def _posting_rows(plan: PlannedEntry) -> list[Posting]:
    return [
        Posting(
            account=line.account,
            account_id=line.account.pk,
            organisation_id=line.account.organisation_id,
            interval_start=plan.interval_start,
            component=line.component,
            amount_jpy=line.amount_jpy,
            quantity=None if line.quantity is None else line.quantity.quantize(QUANTITY_PLACES),
            unit=line.unit,
            unit_price=None
            if line.unit_price is None
            else Decimal(line.unit_price).quantize(PRICE_PLACES),
            memo=line.memo[:200],
        )
        for line in plan.lines
    ]


def entries_write(plans: list[PlannedEntry], *, now: datetime) -> list[JournalEntry]:
    """Write planned entries and their postings (bulk); each must already sum to zero."""
    postings_per_plan = [_posting_rows(p) for p in plans]
    entries = []
    for plan, postings in zip(plans, postings_per_plan, strict=True):
        total = sum(p.amount_jpy for p in postings)
        if total != 0:
            raise ValueError(f"entry for order {plan.order_id} does not balance: {total:+d} JPY")
        entry = JournalEntry(
            interval_start=plan.interval_start,
            run_id=plan.run_id,
            order_id=plan.order_id,
            kind=plan.kind,
            stage=plan.stage,
            reason=plan.reason[:300],
            reverses_id=plan.reverses_id,
            actor_label=plan.actor_label,
            created_at=now,
        )
        entry.postings_mac = entry_mac(
            entry_header(entry), [posting_row_fields(p) for p in postings]
        )
        entries.append(entry)
    # PostgreSQL and SQLite ≥ 3.35 return the new primary keys from bulk_create.
    JournalEntry.objects.bulk_create(entries, batch_size=2000)
    rows = []
    for entry, postings in zip(entries, postings_per_plan, strict=True):
        for p in postings:
            p.entry_id = entry.pk
            rows.append(p)
    Posting.objects.bulk_create(rows, batch_size=5000)
    return entries


def reversal_of(entry: JournalEntry, *, reason: str, accounts: Accounts) -> PlannedEntry:
    """A reversing entry: every posting of `entry` negated, pointing back at it."""
    lines = [
        Line(
            accounts._by_code.get(p.account.code) or p.account,
            p.component,
            -p.amount_jpy,
            quantity=None if p.quantity is None else -p.quantity,
            unit=p.unit,
            unit_price=p.unit_price,
            memo=p.memo,
        )
        for p in entry.postings.select_related("account").order_by("id")
    ]
    return PlannedEntry(
        interval_start=entry.interval_start,
        run_id=entry.run_id,
        order_id=entry.order_id,
        kind=EntryKind.REVERSAL,
        stage=entry.stage,
        reason=reason,
        lines=lines,
        reverses_id=entry.pk,
    )


__all__ = [
    "Accounts",
    "LedgerVerdict",
    "Line",
    "PlannedEntry",
    "Stage",
    "balanced",
    "entries_write",
    "ledger_check",
    "ledger_check_recorded",
    "reversal_of",
]
