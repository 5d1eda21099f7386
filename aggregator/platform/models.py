"""The audit chain: an append-only, hash-chained log of every change in the exchange."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AppendOnlyError(RuntimeError):
    """An append-only row (audit events, meter readings, the ledger) was to be updated or
    deleted; corrections are new rows."""


class AppendOnly(models.Model):
    """Refuses `save()` of an existing row and `delete()` (bulk SQL is the tamper case, which
    the keyed hashes and MACs catch)."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{type(self).__name__} rows are append-only")


class AuditEvent(AppendOnly):
    """One audited change. `hash` covers this row's canonical content and `prev_hash`."""

    seq = models.PositiveBigIntegerField(unique=True)
    created_at = models.DateTimeField()
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Who acted, as text that survives user deletion: "user:alice", "api-key:wb_ab12cd34", "system".
    actor_label = models.CharField(max_length=150)
    organisation = models.ForeignKey(
        "operators.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    code = models.CharField(max_length=100, db_index=True)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=100, blank=True)
    payload = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.code} {self.object_type}:{self.object_id}"


class AuditChainHead(models.Model):
    """A single row holding the chain's tip; locking it serialises appends.

    Without it two concurrent transactions could both chain onto the same tip and fork the
    chain. It also lets verification notice that the newest rows were cut off: `mac`
    (keyed, see aggregator.platform.integrity) makes moving the head back detectable, and a missing
    head is itself a failure. Created by migration aggregator 0002.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)
    mac = models.CharField(max_length=64, blank=True, default="")

    def __str__(self) -> str:
        return f"audit head #{self.last_seq}"


class AuditCheckpoint(models.Model):
    """A signed record of the chain's head at one moment, issued periodically.

    The copy that counts is the one outside the database: regulators receive every
    checkpoint in the market report and hand it back to `verify_audit_chain
    --checkpoint`. The rows here are a convenience for building reports (and are checked
    too); deleting them hides nothing that the copies outside do not show.
    """

    seq = models.PositiveBigIntegerField(unique=True)
    head_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(db_index=True)
    key_id = models.CharField(max_length=16)
    signature = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"audit checkpoint #{self.seq}"


class IntegrityCheckResult(models.Model):
    """The last verdict of each integrity check (audit chain, checkpoint, ledger), one row per
    check, written where the check runs and read by /metrics (and so by the alerts)."""

    name = models.CharField(max_length=32, unique=True)
    ok = models.BooleanField()
    checked_at = models.DateTimeField()
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name}: {'ok' if self.ok else 'FAILED'} at {self.checked_at:%Y-%m-%d %H:%M}Z"
