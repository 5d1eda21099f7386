"""Settlement parameters and meter data."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aggregator.platform.models import AppendOnly
from settlement.choices import ReadingKind


class SettlementParameters(models.Model):
    """The market operator's settlement settings; one row (id=1), created on first use."""

    market_fee_jpy_per_cu_h = models.DecimalField(
        _("market fee (JPY per CU-h)"), max_digits=10, decimal_places=4, default=Decimal("2")
    )
    # Shortfalls are charged at multiplier × the cleared price (so never below it).
    deviation_multiplier = models.DecimalField(
        _("deviation price multiplier"), max_digits=6, decimal_places=3, default=Decimal("1.5")
    )
    metering_deadline_hours = models.PositiveIntegerField(
        _("metering deadline (hours after the interval ends)"), default=2
    )
    # Readings for intervals settled provisionally are still taken this long (then final).
    late_metering_days = models.PositiveIntegerField(
        _("late meter data accepted for (days)"), default=30
    )
    metering_tolerance_pct = models.DecimalField(
        _("metering tolerance (percent over the ordered amount)"),
        max_digits=6,
        decimal_places=3,
        default=Decimal("2"),
    )
    consumption_tax_rate = models.DecimalField(
        _("consumption tax rate"), max_digits=5, decimal_places=4, default=Decimal("0.10")
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("settlement parameters")
        verbose_name_plural = _("settlement parameters")
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="settlement_parameters_singleton"),
            models.CheckConstraint(
                condition=Q(deviation_multiplier__gte=1),
                name="settlement_deviation_multiplier_at_least_one",
            ),
            models.CheckConstraint(
                condition=Q(metering_tolerance_pct__gte=0), name="settlement_tolerance_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(market_fee_jpy_per_cu_h__gte=0), name="settlement_fee_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return str(_("Settlement parameters"))

    @classmethod
    def current(cls) -> SettlementParameters:
        params, _created = cls.objects.get_or_create(id=1)
        return params


def reading_subject(kind: str, *, site_id=None, workload_id=None, offer_id=None) -> str:
    """The natural key of what a reading measures within its interval."""
    if kind == ReadingKind.COMPUTE:
        return f"compute:{site_id}:{workload_id}"
    if kind == ReadingKind.SITE_ENERGY:
        return f"site:{site_id}"
    return f"supply:{offer_id}"


class MeterReading(AppendOnly):
    """One revision of one measured quantity in one interval; the highest revision counts."""

    interval_start = models.DateTimeField()
    kind = models.CharField(max_length=12, choices=ReadingKind.choices)
    # compute:<site>:<workload> | site:<site> | supply:<offer> (nullable FKs can't be unique).
    subject = models.CharField(max_length=60)
    revision = models.PositiveIntegerField(default=1)
    organisation = models.ForeignKey(
        "operators.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    site = models.ForeignKey(
        "operators.Site", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    workload = models.ForeignKey(
        "market.WorkloadBid", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    offer = models.ForeignKey(
        "market.EnergyOffer", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cu = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    kwh = models.DecimalField(max_digits=14, decimal_places=3, null=True, blank=True)
    # Arrived after the metering deadline (only for provisionally settled intervals).
    late = models.BooleanField(default=False)
    actor_label = models.CharField(max_length=150)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["interval_start", "subject", "revision"]
        constraints = [
            models.UniqueConstraint(
                fields=["interval_start", "subject", "revision"], name="meter_reading_revision"
            ),
            models.CheckConstraint(
                condition=Q(cu__isnull=True) | Q(cu__gte=0), name="meter_reading_cu_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(kwh__isnull=True) | Q(kwh__gte=0),
                name="meter_reading_kwh_non_negative",
            ),
        ]
        indexes = [models.Index(fields=["organisation", "interval_start"])]

    def __str__(self) -> str:
        return f"{self.subject} r{self.revision} @ {self.interval_start:%Y-%m-%d %H:%M}Z"

    @property
    def quantity(self) -> Decimal:
        return self.cu if self.kind == ReadingKind.COMPUTE else self.kwh
