"""Writing balanced journal entries, and proving the ledger is whole (`ledger_check`).

The only code that creates ledger rows. An entry is planned as `Line`s, completed with a
rounding posting if its rounded sides differ by a residue (`balanced`), hashed, and written
with bulk inserts. `ledger_check` is pretix's `check_order_transactions` for our ledger:
every entry and every interval sums to zero, hashes match, reversals mirror what they
reverse, and every current order of a settled interval is settled exactly once.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import F, Q, Sum
from django.utils import timezone

from market.clearing_models import ClearingRun, RunStatus
from market.dispatch_models import DispatchOrder
from settlement.choices import AccountKind, Component, EntryKind, Stage
from settlement.ledger_models import Account, IntervalSettlement, JournalEntry, Posting, Settlement
from settlement.models import SettlementParameters

QUANTITY_PLACES = Decimal("0.000001")
PRICE_PLACES = Decimal("0.0001")


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
    actor_label: str = "system"


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


def _fmt(value: Decimal | None, places: Decimal) -> str:
    return "" if value is None else str(Decimal(value).quantize(places))


def postings_hash(rows) -> str:
    """sha256 over (account, component, yen, quantity, unit, price) of each posting, in order."""
    digest = hashlib.sha256()
    for r in rows:
        digest.update(
            "|".join(
                (
                    str(r.account_id),
                    r.component,
                    str(int(r.amount_jpy)),
                    _fmt(r.quantity, QUANTITY_PLACES),
                    r.unit,
                    _fmt(r.unit_price, PRICE_PLACES),
                )
            ).encode()
        )
        digest.update(b"\n")
    return digest.hexdigest()


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
        entries.append(
            JournalEntry(
                interval_start=plan.interval_start,
                run_id=plan.run_id,
                order_id=plan.order_id,
                kind=plan.kind,
                stage=plan.stage,
                reason=plan.reason[:300],
                reverses_id=plan.reverses_id,
                actor_label=plan.actor_label,
                postings_sha256=postings_hash(postings),
                created_at=now,
            )
        )
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


# --- Checking ------------------------------------------------------------------------------


@dataclass
class LedgerVerdict:
    """What `ledger_check` found. `ok` only when `problems` is empty."""

    entries: int = 0
    postings: int = 0
    intervals_settled: int = 0
    items_settled: int = 0
    total_debits_jpy: int = 0
    balance_jpy: int = 0
    totals_by_kind: dict[str, int] = field(default_factory=dict)
    unbalanced_entries: list[int] = field(default_factory=list)
    unbalanced_intervals: list[str] = field(default_factory=list)
    hash_mismatches: list[int] = field(default_factory=list)
    bad_reversals: list[int] = field(default_factory=list)
    unsettled_orders: list[int] = field(default_factory=list)
    settled_twice: list[str] = field(default_factory=list)
    settled_not_current: list[int] = field(default_factory=list)
    due_unsettled_intervals: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "postings": self.postings,
            "intervals_settled": self.intervals_settled,
            "items_settled": self.items_settled,
            "total_debits_jpy": self.total_debits_jpy,
            "balance_jpy": self.balance_jpy,
            "totals_by_kind": dict(self.totals_by_kind),
            "problems": list(self.problems),
        }


def _iso(instant: datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")


def ledger_check(*, now: datetime | None = None, limit: int = 20) -> LedgerVerdict:
    """Prove the ledger whole; name every entry, interval or order that is not."""
    now = now or timezone.now()
    v = LedgerVerdict()
    v.entries = JournalEntry.objects.count()
    v.postings = Posting.objects.count()
    v.balance_jpy = int(Posting.objects.aggregate(s=Sum("amount_jpy"))["s"] or 0)
    v.total_debits_jpy = int(
        Posting.objects.filter(amount_jpy__gt=0).aggregate(s=Sum("amount_jpy"))["s"] or 0
    )
    v.totals_by_kind = {
        row["account__kind"]: int(row["s"])
        for row in Posting.objects.values("account__kind").annotate(s=Sum("amount_jpy"))
    }
    # Entries whose postings do not sum to zero (entries without postings sum to zero).
    v.unbalanced_entries = list(
        Posting.objects.values("entry_id")
        .annotate(s=Sum("amount_jpy"))
        .exclude(s=0)
        .values_list("entry_id", flat=True)
        .order_by("entry_id")
    )
    v.unbalanced_intervals = [
        _iso(k)
        for k in Posting.objects.values("interval_start")
        .annotate(s=Sum("amount_jpy"))
        .exclude(s=0)
        .values_list("interval_start", flat=True)
        .order_by("interval_start")
    ]
    # Postings must carry their entry's interval (statements select on the copy).
    moved = Posting.objects.exclude(interval_start=F("entry__interval_start")).values_list(
        "entry_id", flat=True
    )
    _check_postings(v, extra_suspects=set(moved))
    _check_once(v, now)
    _describe(v, limit)
    return v


@dataclass
class _PostingRow:
    """What the hash covers, read as plain values (the ledger can hold millions of rows)."""

    account_id: int
    component: str
    amount_jpy: int
    quantity: Decimal | None
    unit: str
    unit_price: Decimal | None


def _check_postings(v: LedgerVerdict, extra_suspects: set[int]) -> None:
    """One streamed pass over the postings: hashes of every entry, shapes for reversals."""
    stored = dict(JournalEntry.objects.values_list("id", "postings_sha256"))
    pairs = dict(
        JournalEntry.objects.filter(kind=EntryKind.REVERSAL).values_list("id", "reverses_id")
    )
    wanted = set(pairs) | {r for r in pairs.values() if r is not None}
    shapes: dict[int, list[tuple]] = {}
    bad = set(extra_suspects)
    seen: set[int] = set()

    def close(entry_id: int, rows: list[_PostingRow]) -> None:
        seen.add(entry_id)
        if postings_hash(rows) != stored.get(entry_id):
            bad.add(entry_id)
        if entry_id in wanted:
            shapes[entry_id] = sorted((r.account_id, r.component, r.amount_jpy) for r in rows)

    current, rows = None, []
    for entry_id, *values in (
        Posting.objects.order_by("entry_id", "id")
        .values_list(
            "entry_id", "account_id", "component", "amount_jpy", "quantity", "unit", "unit_price"
        )
        .iterator(chunk_size=5000)
    ):
        if entry_id != current:
            if current is not None:
                close(current, rows)
            current, rows = entry_id, []
        rows.append(_PostingRow(*values))
    if current is not None:
        close(current, rows)
    for entry_id in stored.keys() - seen:  # entries without postings (or all removed)
        close(entry_id, [])
    v.hash_mismatches = sorted(bad)
    for entry_id, reverses_id in sorted(pairs.items()):
        mirrored = sorted((a, c, -x) for a, c, x in shapes.get(reverses_id, []))
        if reverses_id is None or shapes.get(entry_id, []) != mirrored:
            v.bad_reversals.append(entry_id)


def _check_once(v: LedgerVerdict, now: datetime) -> None:
    """Every current order of a settled interval: one live settlement, never two."""
    settled_runs = dict(IntervalSettlement.objects.values_list("run_id", "interval_start"))
    v.intervals_settled = len(settled_runs)
    reversed_ids = set(
        JournalEntry.objects.filter(reverses__isnull=False).values_list("reverses_id", flat=True)
    )
    live: dict[str, list[str]] = defaultdict(list)
    order_of_key: dict[str, int | None] = {}
    for key, stage, entry_id, order_id in Settlement.objects.values_list(
        "key", "stage", "entry_id", "order_id"
    ):
        v.items_settled += 1
        order_of_key[key] = order_id
        if entry_id not in reversed_ids:
            live[key].append(stage)
    v.settled_twice = sorted(k for k, stages in live.items() if len(stages) != 1)
    current = set(
        DispatchOrder.objects.filter(run_id__in=settled_runs, is_current=True).values_list(
            "id", flat=True
        )
    )
    settled_orders = {oid for key, oid in order_of_key.items() if oid is not None}
    v.unsettled_orders = sorted(current - settled_orders)
    v.settled_not_current = sorted(settled_orders - current)
    deadline = timedelta(hours=SettlementParameters.current().metering_deadline_hours)
    due = ClearingRun.objects.filter(
        status=RunStatus.COMPLETED, interval_start__lte=now - deadline - timedelta(minutes=30)
    ).exclude(Q(pk__in=list(settled_runs)))
    v.due_unsettled_intervals = [_iso(k) for k in due.values_list("interval_start", flat=True)]


def _describe(v: LedgerVerdict, limit: int) -> None:
    def some(items) -> str:
        shown = ", ".join(str(x) for x in items[:limit])
        return shown + (f" … (+{len(items) - limit})" if len(items) > limit else "")

    checks = (
        (v.balance_jpy != 0, f"the ledger as a whole is off by {v.balance_jpy:+d} JPY"),
        (v.unbalanced_entries, f"entries that do not balance: {some(v.unbalanced_entries)}"),
        (v.unbalanced_intervals, f"intervals that do not balance: {some(v.unbalanced_intervals)}"),
        (v.hash_mismatches, f"entries whose postings were altered: {some(v.hash_mismatches)}"),
        (v.bad_reversals, f"reversals that do not mirror their entry: {some(v.bad_reversals)}"),
        (v.unsettled_orders, f"current orders never settled: {some(v.unsettled_orders)}"),
        (v.settled_twice, f"items without exactly one live settlement: {some(v.settled_twice)}"),
        (v.settled_not_current, f"superseded orders settled: {some(v.settled_not_current)}"),
        (
            v.due_unsettled_intervals,
            f"intervals past the metering deadline not settled: {some(v.due_unsettled_intervals)}",
        ),
    )
    v.problems = [message for failed, message in checks if failed]


__all__ = [
    "Accounts",
    "LedgerVerdict",
    "Line",
    "PlannedEntry",
    "Stage",
    "balanced",
    "entries_write",
    "ledger_check",
    "reversal_of",
]
