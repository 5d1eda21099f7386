"""Enumerations of the market app, in one place."""

from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _


class BidType(models.TextChoices):
    CAPACITY = "capacity", _("Capacity offer")
    ENERGY = "energy", _("Energy offer")
    WORKLOAD = "workload", _("Workload bid")


class BidStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    AMENDED = "amended", _("Amended")
    CANCELLED = "cancelled", _("Cancelled")
    CLEARED = "cleared", _("Cleared")
    PARTLY_CLEARED = "partly_cleared", _("Partly cleared")
    REJECTED = "rejected", _("Rejected")


# Bids that still take part in clearing.
LIVE_STATUSES = (BidStatus.SUBMITTED, BidStatus.AMENDED)
# Bids whose outcome is known: the seal is lifted for the market operator's admin.
CLEARED_STATUSES = (BidStatus.CLEARED, BidStatus.PARTLY_CLEARED, BidStatus.REJECTED)


class WorkloadKind(models.TextChoices):
    INFERENCE = "inference", _("Inference")
    BATCH = "batch", _("Batch (training, rendering, simulation)")


class SignalKind(models.TextChoices):
    AREA_PRICE = "area_price", _("JEPX day-ahead area price (JPY/kWh)")
    SYSTEM_PRICE = "system_price", _("JEPX day-ahead system price (JPY/kWh)")
    CARBON = "carbon", _("Carbon intensity (gCO2/kWh)")
    CURTAILMENT_MW = "curtailment_mw", _("Curtailment forecast (MW)")
    AREA_CAP_KW = "area_cap_kw", _("Area cap: extra aggregator load allowed (kW)")


SIGNAL_UNITS = {
    SignalKind.AREA_PRICE: "JPY/kWh",
    SignalKind.SYSTEM_PRICE: "JPY/kWh",
    SignalKind.CARBON: "gCO2/kWh",
    SignalKind.CURTAILMENT_MW: "MW",
    SignalKind.AREA_CAP_KW: "kW",
}


class MarketAudit(StrEnum):
    """Audit event codes of the market app (stored and hashed: values never change)."""

    BID_SUBMITTED = "market.bid.submitted"
    BID_AMENDED = "market.bid.amended"
    BID_CANCELLED = "market.bid.cancelled"
    BID_BULK_SUBMITTED = "market.bid.bulk_submitted"
    BID_OUTCOMES_RECORDED = "market.bid.outcomes_recorded"
    CLEARING_COMPLETED = "market.clearing.completed"
    CLEARING_REDISPATCHED = "market.clearing.redispatched"
    ORDER_ACCEPTED = "market.order.accepted"
    ORDER_REJECTED = "market.order.rejected"
    PARAMETERS_CHANGED = "market.parameters.changed"
    SIGNALS_IMPORTED = "market.signals.imported"
    SIGNALS_PUBLISHED = "market.signals.published"
    CARBON_FACTORS_IMPORTED = "market.carbon_factors.imported"
