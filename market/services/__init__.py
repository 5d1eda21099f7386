"""Writes of the market: bids, signals, snapshots. Services validate, write, audit, atomically."""

from market.services.bids import (
    bid_amend,
    bid_cancel,
    bid_data,
    bid_submit,
    bids_submit_bulk,
)

__all__ = ["bid_amend", "bid_cancel", "bid_data", "bid_submit", "bids_submit_bulk"]
