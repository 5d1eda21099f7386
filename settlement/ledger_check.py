"""Proving the ledger whole (`ledger_check`), as pretix's `check_order_transactions` does.

Every entry and every interval sums to zero, every entry's keyed MAC matches its postings
(settlement.ledger_integrity), every posting's organisation owns its account, reversals
mirror what they reverse, and every current order of a settled interval is settled exactly
once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import F, Q, Sum
from django.utils import timezone

from aggregator.platform.integrity import macs_equal
from aggregator.platform.integrity_checks import LEDGER, integrity_check_record
from market.models.clearing import ClearingRun, RunStatus
from market.models.dispatch import DispatchOrder
from settlement.choices import EntryKind
from settlement.ledger_integrity import entry_header, entry_mac, ownership_problem, posting_fields
from settlement.models import SettlementParameters
from settlement.models.ledger import IntervalSettlement, JournalEntry, Posting, Settlement


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
    foreign_postings: list[int] = field(default_factory=list)
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


_POSTING_VALUES = (
    "entry_id",
    "id",
    "account_id",
    "account__code",
    "account__kind",
    "account__organisation_id",
    "organisation_id",
    "interval_start",
    "component",
    "amount_jpy",
    "quantity",
    "unit",
    "unit_price",
    "memo",
)


def _check_postings(v: LedgerVerdict, extra_suspects: set[int]) -> None:
    """One streamed pass over the postings: MACs, owners, and shapes for reversals.

    Read as plain values (the ledger can hold millions of rows), entry by entry.
    """
    headers = {
        row[0]: (row[1], entry_header(_Header(*row[2:])))
        for row in JournalEntry.objects.values_list("id", "postings_mac", *_HEADER_FIELDS)
    }
    pairs = dict(
        JournalEntry.objects.filter(kind=EntryKind.REVERSAL).values_list("id", "reverses_id")
    )
    wanted = set(pairs) | {r for r in pairs.values() if r is not None}
    shapes: dict[int, list[tuple]] = {}
    bad = set(extra_suspects)
    seen: set[int] = set()

    def close(entry_id: int, fields: list[list]) -> None:
        seen.add(entry_id)
        stored_mac, header = headers.get(entry_id, ("", None))
        if header is None or not macs_equal(entry_mac(header, fields), stored_mac):
            bad.add(entry_id)
        if entry_id in wanted:
            # (account, component, yen) of each posting
            shapes[entry_id] = sorted((f[0], f[4], f[5]) for f in fields)

    current, fields = None, []
    for (
        entry_id,
        posting_id,
        account_id,
        code,
        kind,
        account_org,
        org,
        interval_start,
        component,
        amount,
        quantity,
        unit,
        unit_price,
        memo,
    ) in (
        Posting.objects.order_by("entry_id", "id")
        .values_list(*_POSTING_VALUES)
        .iterator(chunk_size=5000)
    ):
        if entry_id != current:
            if current is not None:
                close(current, fields)
            current, fields = entry_id, []
        if ownership_problem(
            posting_organisation_id=org,
            account_organisation_id=account_org,
            account_code=code,
            account_kind=kind,
        ):
            v.foreign_postings.append(posting_id)
        fields.append(
            posting_fields(
                account_id=account_id,
                account_code=code,
                organisation_id=org,
                interval_start=interval_start,
                component=component,
                amount_jpy=amount,
                quantity=quantity,
                unit=unit,
                unit_price=unit_price,
                memo=memo,
            )
        )
    if current is not None:
        close(current, fields)
    for entry_id in headers.keys() - seen:  # entries without postings (or all removed)
        close(entry_id, [])
    v.hash_mismatches = sorted(bad)
    for entry_id, reverses_id in sorted(pairs.items()):
        mirrored = sorted((a, c, -x) for a, c, x in shapes.get(reverses_id, []))
        if reverses_id is None or shapes.get(entry_id, []) != mirrored:
            v.bad_reversals.append(entry_id)


_HEADER_FIELDS = (
    "interval_start",
    "run_id",
    "order_id",
    "kind",
    "stage",
    "reason",
    "reverses_id",
    "actor_label",
    "created_at",
)


@dataclass(frozen=True)
class _Header:
    """An entry's header fields as read by values_list (what `entry_header` takes)."""

    interval_start: datetime
    run_id: int
    order_id: int | None
    kind: str
    stage: str
    reason: str
    reverses_id: int | None
    actor_label: str
    created_at: datetime


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
        (
            v.foreign_postings,
            "postings whose organisation does not own their account (or whose account was "
            f"altered): {some(v.foreign_postings)}",
        ),
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


__all__ = ["LedgerVerdict", "ledger_check"]


def ledger_check_recorded() -> LedgerVerdict:
    """`ledger_check`, its verdict kept for /metrics and its alerts (`check_ledger`, the daily
    check)."""
    verdict = ledger_check()
    integrity_check_record(name=LEDGER, ok=verdict.ok, detail="; ".join(verdict.problems)[:500])
    return verdict
