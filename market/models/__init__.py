"""The market's models: bids and their revisions, market parameters and signals (`bids`), the
clearing's runs and results (`clearing`), and dispatch orders with their deliveries
(`dispatch`). Import them from here."""

from market.models.bids import (
    BID_MODELS,
    Bid,
    BidRevision,
    CapacityOffer,
    CarbonFactor,
    EnergyOffer,
    IdempotencyKey,
    MarketParameters,
    Signal,
    WorkloadBid,
)
from market.models.clearing import (
    Allocation,
    CapacitySale,
    ClearingRun,
    ComputePrice,
    EnergyAward,
    EnergyPrice,
    GridPurchase,
    Redispatch,
    RunStatus,
    UpliftPayment,
)
from market.models.dispatch import (
    AckState,
    DeliveryAttempt,
    DeliveryState,
    DispatchOrder,
    OrderDelivery,
    OrderKind,
)

__all__ = [
    "BID_MODELS",
    "AckState",
    "Allocation",
    "Bid",
    "BidRevision",
    "CapacityOffer",
    "CapacitySale",
    "CarbonFactor",
    "ClearingRun",
    "ComputePrice",
    "DeliveryAttempt",
    "DeliveryState",
    "DispatchOrder",
    "EnergyAward",
    "EnergyOffer",
    "EnergyPrice",
    "GridPurchase",
    "IdempotencyKey",
    "MarketParameters",
    "OrderDelivery",
    "OrderKind",
    "Redispatch",
    "RunStatus",
    "Signal",
    "UpliftPayment",
    "WorkloadBid",
]
