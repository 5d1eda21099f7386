"""Market objects: parameters, sealed bids with their revisions, grid signals, idempotency keys."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aggregator.platform.public_ids import CAPACITY_OFFER, ENERGY_OFFER, WORKLOAD, format_public_id
from market.choices import LIVE_STATUSES, BidStatus, BidType, SignalKind, WorkloadKind
from operators.choices import Accelerator


class MarketParameters(models.Model):
    """The market operator's settings; one row (id=1), created with defaults on first use."""

    gate_closure_lead_minutes = models.PositiveIntegerField(
        _("gate closure lead (min)"), default=60
    )
    horizon_intervals = models.PositiveIntegerField(_("clearing horizon (intervals)"), default=48)
    # How far ahead bids may reach; keeps profiles and snapshots bounded.
    max_bid_intervals = models.PositiveIntegerField(_("longest bid (intervals)"), default=7 * 48)
    max_days_ahead = models.PositiveIntegerField(_("bids at most this many days ahead"), default=14)
    capacity_price_min = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal(0))
    capacity_price_max = models.DecimalField(
        max_digits=12, decimal_places=4, default=Decimal(100000)
    )
    # Negative energy prices are allowed: curtailment relief pays to take energy.
    energy_price_min = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal(-100))
    energy_price_max = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal(1000))
    limit_price_min = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal(0))
    limit_price_max = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal(200000))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("market parameters")
        verbose_name_plural = _("market parameters")
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="market_parameters_singleton")
        ]

    def __str__(self) -> str:
        return str(_("Market parameters"))

    @classmethod
    def current(cls) -> MarketParameters:
        params, _created = cls.objects.get_or_create(id=1)
        return params


class Bid(models.Model):
    """Fields every bid has: owner, interval range, lifecycle state and current revision."""

    organisation = models.ForeignKey(
        "operators.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=20, choices=BidStatus.choices, default=BidStatus.SUBMITTED)
    revision = models.PositiveIntegerField(default=1)
    # [start, end): whole 30-minute intervals, UTC.
    start = models.DateTimeField()
    end = models.DateTimeField()
    interval_count = models.PositiveIntegerField()
    # Of the first interval: after it the whole bid is frozen (see docs/market.md).
    gate_closure = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    bid_type: str = ""

    class Meta:
        abstract = True
        ordering = ["id"]

    def frozen_reason(
        self, now: datetime | None = None, *, cleared_through: datetime | None = None
    ) -> str:
        """Why the bid can no longer change, or "" while it can (docs/market.md, Frozen).

        `cleared_through` is the latest interval a clearing run has started for: the market
        never clears an interval twice, so a bid whose first interval lies at or before it
        is frozen even while the wall clock is still before its gate closure (a simulated
        clock, or clearing triggered by hand).
        """
        if self.status == BidStatus.CANCELLED:
            return "cancelled"
        if self.status not in LIVE_STATUSES:
            return "outcome"
        if (now or timezone.now()) >= self.gate_closure:
            return "gate"
        if cleared_through is not None and self.start <= cleared_through:
            return "cleared"
        return ""

    def is_frozen(
        self, now: datetime | None = None, *, cleared_through: datetime | None = None
    ) -> bool:
        """True exactly when amend and cancel would be refused."""
        return bool(self.frozen_reason(now, cleared_through=cleared_through))

    @property
    def public_id(self) -> str:
        return format_public_id(self.id_prefix, self.pk)

    id_prefix = "bid"


def _bid_constraints(prefix: str) -> list:
    return [
        models.CheckConstraint(
            condition=Q(end__gt=models.F("start")), name=f"{prefix}_end_after_start"
        ),
        models.CheckConstraint(condition=Q(interval_count__gte=1), name=f"{prefix}_one_interval"),
    ]


class CapacityOffer(Bid):
    """A compute provider offers CU at one of its sites, priced per CU-hour (compute only)."""

    site = models.ForeignKey("operators.Site", on_delete=models.PROTECT, related_name="+")
    cu = models.JSONField(help_text="CU available, one number per interval")
    price = models.JSONField(help_text="JPY per CU-hour, one decimal string per interval")

    bid_type = BidType.CAPACITY
    id_prefix = CAPACITY_OFFER

    class Meta(Bid.Meta):
        indexes = [
            models.Index(fields=["organisation", "start"]),
            models.Index(fields=["start", "end"]),
        ]
        constraints = _bid_constraints("capacity_offer")

    def __str__(self) -> str:
        return self.public_id


class EnergyOffer(Bid):
    """A power supplier offers kWh in an area; zero or negative prices relieve curtailment."""

    area = models.ForeignKey("operators.GridArea", on_delete=models.PROTECT, related_name="+")
    kwh = models.JSONField(help_text="kWh per interval")
    price = models.JSONField(help_text="JPY per kWh, one decimal string per interval")
    carbon_g_per_kwh = models.DecimalField(max_digits=8, decimal_places=2)
    curtailment_relief = models.BooleanField(default=False)

    bid_type = BidType.ENERGY
    id_prefix = ENERGY_OFFER

    class Meta(Bid.Meta):
        indexes = [
            models.Index(fields=["organisation", "start"]),
            models.Index(fields=["start", "end"]),
        ]
        constraints = [
            *_bid_constraints("energy_offer"),
            models.CheckConstraint(
                condition=Q(carbon_g_per_kwh__gte=0), name="energy_offer_carbon_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.public_id


class WorkloadBid(Bid):
    """A workload owner's demand: inference per interval, or batch work inside a window."""

    kind = models.CharField(max_length=20, choices=WorkloadKind.choices)
    accelerator = models.CharField(max_length=20, choices=Accelerator.choices)
    residency_tags = models.JSONField(default=list, blank=True)
    limit_price = models.DecimalField(
        _("limit price, all-in (JPY/CU-h)"), max_digits=12, decimal_places=4
    )
    zone = models.ForeignKey(
        "operators.DemandZone", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    max_latency_ms = models.PositiveIntegerField(null=True, blank=True)
    # inference
    demand = models.JSONField(null=True, blank=True, help_text="CU per interval (inference)")
    # batch: the window is [start, end)
    remaining_cu_intervals = models.DecimalField(
        max_digits=14, decimal_places=3, null=True, blank=True
    )
    max_cu = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    gang = models.PositiveIntegerField(null=True, blank=True)
    no_migration = models.BooleanField(default=False)
    migration_cost = models.DecimalField(
        _("migration cost (JPY per CU moved)"), max_digits=12, decimal_places=4, default=Decimal(0)
    )
    home_site = models.ForeignKey(
        "operators.Site", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    allowed_areas = models.JSONField(default=list, blank=True)
    # ",hokkaido,tokyo," — the allowed areas as text, so every database can filter on it.
    allowed_areas_text = models.CharField(max_length=200, blank=True, editable=False)

    bid_type = BidType.WORKLOAD
    id_prefix = WORKLOAD

    class Meta(Bid.Meta):
        indexes = [
            models.Index(fields=["organisation", "start"]),
            models.Index(fields=["start", "end"]),
        ]
        constraints = _bid_constraints("workload_bid")

    def __str__(self) -> str:
        return self.public_id


BID_MODELS: dict[str, type[Bid]] = {
    BidType.CAPACITY: CapacityOffer,
    BidType.ENERGY: EnergyOffer,
    BidType.WORKLOAD: WorkloadBid,
}


class BidRevision(models.Model):
    """Every version of every bid, as submitted; never changed or deleted."""

    organisation = models.ForeignKey(
        "operators.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    bid_type = models.CharField(max_length=20, choices=BidType.choices)
    bid_id = models.BigIntegerField()
    revision = models.PositiveIntegerField()
    status = models.CharField(max_length=20, choices=BidStatus.choices)
    data = models.JSONField()
    # sha256 of the canonical `data`: the audit chain records this, not the sealed content.
    content_sha256 = models.CharField(max_length=64)
    actor_label = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["bid_type", "bid_id", "revision"]
        constraints = [
            models.UniqueConstraint(
                fields=["bid_type", "bid_id", "revision"], name="bid_revision_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.bid_type}-{self.bid_id} r{self.revision}"


class Signal(models.Model):
    """One value of a grid signal for one interval; area empty for national values."""

    kind = models.CharField(max_length=20, choices=SignalKind.choices)
    area = models.ForeignKey(
        "operators.GridArea", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    interval_start = models.DateTimeField()
    value = models.DecimalField(max_digits=14, decimal_places=4)
    source = models.CharField(max_length=60)
    published_at = models.DateTimeField()
    publisher = models.ForeignKey(
        "operators.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind", "area", "interval_start", "published_at"]
        indexes = [models.Index(fields=["kind", "area", "interval_start"])]
        constraints = [
            # Partial indexes instead of nulls_distinct: SQLite supports these too.
            models.UniqueConstraint(
                fields=["kind", "area", "interval_start", "source", "published_at"],
                condition=Q(area__isnull=False),
                name="signal_unique_per_area",
            ),
            models.UniqueConstraint(
                fields=["kind", "interval_start", "source", "published_at"],
                condition=Q(area__isnull=True),
                name="signal_unique_national",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.area_id or 'JP'} {self.interval_start:%Y-%m-%dT%H:%M}Z"


class CarbonFactor(models.Model):
    """Annual average carbon intensity of an area (Electricity Maps, ODbL)."""

    area = models.ForeignKey("operators.GridArea", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    g_per_kwh = models.DecimalField(max_digits=8, decimal_places=2)
    renewable_pct = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    source = models.CharField(max_length=200)

    class Meta:
        ordering = ["area", "year"]
        constraints = [
            models.UniqueConstraint(fields=["area", "year"], name="carbon_factor_unique")
        ]

    def __str__(self) -> str:
        return f"{self.area_id} {self.year}: {self.g_per_kwh} g/kWh"


class IdempotencyKey(models.Model):
    """A POST's stored response, replayed when the same organisation retries the same key."""

    organisation = models.ForeignKey(
        "operators.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    request_sha256 = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "key"], name="idempotency_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id}:{self.key}"
