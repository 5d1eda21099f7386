"""Clearing runs and what they decided: firm allocations, energy awards, prices, uplift.

One run per firm interval (unique), with its frozen input snapshot and its result stored
byte for byte so that anyone can replay it. Rows of a run are written in one transaction.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aggregator.platform.public_ids import CAPACITY_OFFER, ENERGY_OFFER, WORKLOAD, format_public_id
from market.calendar import INTERVAL_MINUTES

INTERVAL_HOURS = Decimal(INTERVAL_MINUTES) / 60

__all__ = [
    "Allocation",
    "CapacitySale",
    "ClearingRun",
    "ComputePrice",
    "EnergyAward",
    "EnergyPrice",
    "GridPurchase",
    "Redispatch",
    "RunStatus",
    "UpliftPayment",
]


class RunStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")


class ClearingRun(models.Model):
    """The clearing of one firm interval (and the advisory horizon behind it)."""

    interval_start = models.DateTimeField(unique=True)
    horizon_intervals = models.PositiveIntegerField()
    gate_closure = models.DateTimeField()
    status = models.CharField(max_length=12, choices=RunStatus.choices, default=RunStatus.PENDING)
    # Lease of the worker doing the run: another may take over once it expires.
    claim_token = models.CharField(max_length=32, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    snapshot_json = models.TextField(blank=True)
    input_sha256 = models.CharField(max_length=64, blank=True)
    result_json = models.TextField(blank=True)
    # sha256 of the deterministic part (allocations, energy, grid, prices): what replay proves.
    result_sha256 = models.CharField(max_length=64, blank=True)
    solver_stats = models.JSONField(default=dict, blank=True)
    # Set when the exact clearing did not finish in its time budget and the engine published
    # its documented fallback instead (why, and what was published); {} for exact runs.
    fallback = models.JSONField(default=dict, blank=True)
    timings = models.JSONField(default=dict, blank=True)
    welfare_jpy = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    stay_welfare_jpy = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    greedy_welfare_jpy = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-interval_start"]

    def __str__(self) -> str:
        return f"run {self.interval_start:%Y-%m-%d %H:%M}Z ({self.status})"


class Redispatch(models.Model):
    """A re-solve of a run's firm interval after an event (outage, changed energy offer)."""

    run = models.ForeignKey(ClearingRun, on_delete=models.PROTECT, related_name="redispatches")
    sequence = models.PositiveIntegerField()
    event = models.JSONField()
    snapshot_json = models.TextField()
    result_json = models.TextField()
    result_sha256 = models.CharField(max_length=64)
    changes = models.JSONField(default=list)
    elapsed_ms = models.PositiveIntegerField(default=0)
    actor_label = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["run", "sequence"], name="redispatch_sequence_unique")
        ]

    def __str__(self) -> str:
        return f"redispatch {self.sequence} of {self.run}"


class Allocation(models.Model):
    """CU of a workload at a site in the firm interval; amended rows supersede old ones."""

    run = models.ForeignKey(ClearingRun, on_delete=models.PROTECT, related_name="allocations")
    redispatch = models.ForeignKey(
        Redispatch, null=True, blank=True, on_delete=models.PROTECT, related_name="allocations"
    )
    is_current = models.BooleanField(default=True)
    interval_start = models.DateTimeField(db_index=True)
    workload = models.ForeignKey("market.WorkloadBid", on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey("operators.Site", on_delete=models.PROTECT, related_name="+")
    cu = models.DecimalField(max_digits=14, decimal_places=6)
    # What the workload pays per CU-hour: compute price + energy price × kW/CU × PUE.
    all_in_jpy_per_cu_h = models.DecimalField(max_digits=14, decimal_places=4)
    compute_jpy_per_cu_h = models.DecimalField(max_digits=14, decimal_places=4)

    class Meta:
        ordering = ["interval_start", "site", "workload"]
        constraints = [
            models.CheckConstraint(condition=Q(cu__gte=0), name="allocation_cu_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{format_public_id(WORKLOAD, self.workload_id)}@{self.site_id} {self.cu} CU"

    @property
    def cu_h(self) -> Decimal:
        return self.cu * INTERVAL_HOURS

    @property
    def all_in_value(self) -> Decimal:
        """What the allocation is worth to the owner at the all-in price (before metering)."""
        return self.cu_h * self.all_in_jpy_per_cu_h

    @property
    def compute_value(self) -> Decimal:
        """What the allocation earns the site at the compute price (before metering)."""
        return self.cu_h * self.compute_jpy_per_cu_h


class CapacitySale(models.Model):
    """CU one capacity offer sold in the firm interval: one price step of its site.

    A site's offers are steps, cheapest filled first; each is paid the site's compute price
    on its own quantity (and made whole against its own price), so settlement and a bid's
    outcome read this, not the site's total."""

    run = models.ForeignKey(ClearingRun, on_delete=models.PROTECT, related_name="capacity_sales")
    redispatch = models.ForeignKey(
        Redispatch, null=True, blank=True, on_delete=models.PROTECT, related_name="capacity_sales"
    )
    is_current = models.BooleanField(default=True)
    interval_start = models.DateTimeField(db_index=True)
    offer = models.ForeignKey("market.CapacityOffer", on_delete=models.PROTECT, related_name="+")
    cu = models.DecimalField(max_digits=14, decimal_places=6)
    # The site's compute price: what every step sold there receives per CU-hour.
    jpy_per_cu_h = models.DecimalField(max_digits=14, decimal_places=4)

    class Meta:
        ordering = ["interval_start", "offer"]
        constraints = [
            models.CheckConstraint(condition=Q(cu__gte=0), name="capacity_sale_cu_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{format_public_id(CAPACITY_OFFER, self.offer_id)} {self.cu} CU"


class EnergyAward(models.Model):
    """kWh taken from an energy offer in the firm interval."""

    run = models.ForeignKey(ClearingRun, on_delete=models.PROTECT, related_name="energy_awards")
    redispatch = models.ForeignKey(
        Redispatch, null=True, blank=True, on_delete=models.PROTECT, related_name="energy_awards"
    )
    is_current = models.BooleanField(default=True)
    interval_start = models.DateTimeField(db_index=True)
    offer = models.ForeignKey("market.EnergyOffer", on_delete=models.PROTECT, related_name="+")
    kwh = models.DecimalField(max_digits=14, decimal_places=3)
    # What the supplier receives per kWh: the area price less any cap rent.
    jpy_per_kwh = models.DecimalField(max_digits=14, decimal_places=4)

    class Meta:
        ordering = ["interval_start", "offer"]

    def __str__(self) -> str:
        return f"{format_public_id(ENERGY_OFFER, self.offer_id)} {self.kwh} kWh"


class GridPurchase(models.Model):
    """kWh bought from the grid at the JEPX area price in the firm interval."""

    run = models.ForeignKey(ClearingRun, on_delete=models.PROTECT, related_name="grid_purchases")
    redispatch = models.ForeignKey(
        Redispatch, null=True, blank=True, on_delete=models.PROTECT, related_name="grid_purchases"
    )
    is_current = models.BooleanField(default=True)
    interval_start = models.DateTimeField(db_index=True)
    area = models.ForeignKey("operators.GridArea", on_delete=models.PROTECT, related_name="+")
    kwh = models.DecimalField(max_digits=14, decimal_places=3)

    class Meta:
        ordering = ["interval_start", "area"]

    def __str__(self) -> str:
        return f"grid {self.area_id} {self.kwh} kWh"


class ComputePrice(models.Model):
    run = models.ForeignKey(ClearingRun, on_delete=models.PROTECT, related_name="compute_prices")
    interval_start = models.DateTimeField(db_index=True)
    site = models.ForeignKey("operators.Site", on_delete=models.PROTECT, related_name="+")
    jpy_per_cu_h = models.DecimalField(max_digits=14, decimal_places=4)

    class Meta:
        ordering = ["interval_start", "site"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "interval_start", "site"], name="compute_price_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.site_id} {self.jpy_per_cu_h} JPY/CU-h"


class EnergyPrice(models.Model):
    run = models.ForeignKey(ClearingRun, on_delete=models.PROTECT, related_name="energy_prices")
    interval_start = models.DateTimeField(db_index=True)
    area = models.ForeignKey("operators.GridArea", on_delete=models.PROTECT, related_name="+")
    jpy_per_kwh = models.DecimalField(max_digits=14, decimal_places=4)
    supplier_jpy_per_kwh = models.DecimalField(max_digits=14, decimal_places=4)
    cap_rent_jpy_per_kwh = models.DecimalField(max_digits=14, decimal_places=4, default=0)

    class Meta:
        ordering = ["interval_start", "area"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "interval_start", "area"], name="energy_price_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.area_id} {self.jpy_per_kwh} JPY/kWh"


class UpliftPayment(models.Model):
    """A make-whole amount the engine reported for a bid whose outcome broke its limit.

    From engine version 5 on it is the firm interval's amount, which settlement pays as it
    is; a re-dispatch replaces it (the old row stays, no longer current)."""

    run = models.ForeignKey(ClearingRun, on_delete=models.PROTECT, related_name="uplift")
    redispatch = models.ForeignKey(
        Redispatch, null=True, blank=True, on_delete=models.PROTECT, related_name="uplift"
    )
    is_current = models.BooleanField(default=True)
    participant = models.CharField(max_length=40)  # the bid's public id, e.g. "wl-7"
    organisation = models.ForeignKey(
        "operators.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    jpy = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        ordering = ["run", "participant"]

    def __str__(self) -> str:
        return f"uplift {self.participant} {self.jpy} JPY"
