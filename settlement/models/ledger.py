"""The double-entry ledger: accounts, journal entries and their postings in integer yen.

Sign convention: a posting's `amount_jpy` is positive for a debit and negative for a
credit; the postings of every entry sum to zero. A receivable account's balance (debit) is
what an organisation owes the exchange; a payable account's balance (credit, negative) is
what the exchange owes it. Rows are append-only: a correction is a reversing entry (every
posting negated, `reverses` set) followed by a new entry, each with its reason.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from aggregator.platform.audit_codes import SYSTEM_ACTOR
from aggregator.platform.models import AppendOnly
from settlement.choices import AccountKind, Component, EntryKind, Stage

__all__ = ["Account", "IntervalSettlement", "JournalEntry", "Posting", "Settlement"]


class Account(models.Model):
    """Per organisation: receivable and payable. The market: clearing, fees, rent, …"""

    code = models.CharField(max_length=60, unique=True)  # "org-12:receivable", "market:fee_revenue"
    kind = models.CharField(max_length=20, choices=AccountKind.choices)
    organisation = models.ForeignKey(
        "operators.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class JournalEntry(AppendOnly):
    """One balanced set of postings: the settlement (or reversal) of one order or item."""

    interval_start = models.DateTimeField(db_index=True)
    run = models.ForeignKey("market.ClearingRun", on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey(
        "market.DispatchOrder", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=12, choices=EntryKind.choices)
    stage = models.CharField(max_length=12, choices=Stage.choices)
    reason = models.CharField(max_length=300)
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    actor_label = models.CharField(max_length=150, default=SYSTEM_ACTOR)
    # HMAC-SHA256 (key outside the database) over this header and every posting's account,
    # organisation, interval, amount, memo…, written with them (settlement.ledger_integrity):
    # check_ledger recomputes it, so an edit is found even when it keeps the entry balanced.
    postings_mac = models.CharField(max_length=64)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        verbose_name_plural = _("journal entries")

    def __str__(self) -> str:
        return f"je-{self.pk} {self.kind}/{self.stage} {self.interval_start:%Y-%m-%d %H:%M}Z"


class Posting(AppendOnly):
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="postings")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="postings")
    # Copies of the entry's interval and the account's organisation, for statement queries.
    organisation = models.ForeignKey(
        "operators.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    interval_start = models.DateTimeField()
    component = models.CharField(max_length=20, choices=Component.choices)
    amount_jpy = models.BigIntegerField()  # integer yen; + debit, − credit
    quantity = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    unit = models.CharField(max_length=8, blank=True)  # "CU-h" | "kWh" | ""
    unit_price = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    memo = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["entry", "id"]
        indexes = [models.Index(fields=["organisation", "interval_start"])]

    def __str__(self) -> str:
        return f"{self.account_id} {self.amount_jpy:+d} JPY ({self.component})"


class Settlement(AppendOnly):
    """Which item was settled at which stage, by which entry: at most one per (key, stage).

    Keys: "order:<id>" for a current dispatch-order version, "uplift:<run id>" for a run's
    uplift. The unique constraint is what makes settling twice impossible.
    """

    key = models.CharField(max_length=40)
    stage = models.CharField(max_length=12, choices=Stage.choices)
    run = models.ForeignKey("market.ClearingRun", on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey(
        "market.DispatchOrder", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    interval_start = models.DateTimeField(db_index=True)
    entry = models.OneToOneField(JournalEntry, on_delete=models.PROTECT, related_name="settlement")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["interval_start", "key", "stage"]
        constraints = [
            models.UniqueConstraint(fields=["key", "stage"], name="settlement_once_per_stage")
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.stage}"


class IntervalSettlement(models.Model):
    """The state of one cleared interval's settlement; created once (unique), moved by CAS."""

    run = models.OneToOneField(
        "market.ClearingRun", on_delete=models.PROTECT, related_name="settlement"
    )
    interval_start = models.DateTimeField(unique=True)
    state = models.CharField(max_length=12, choices=Stage.choices)
    items = models.PositiveIntegerField(default=0)
    provisional_items = models.PositiveIntegerField(default=0)
    settled_at = models.DateTimeField()
    finalised_at = models.DateTimeField(null=True, blank=True)
    # Last time late meter data was looked for (finalisation attempts).
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-interval_start"]

    def __str__(self) -> str:
        return f"settlement {self.interval_start:%Y-%m-%d %H:%M}Z ({self.state})"
