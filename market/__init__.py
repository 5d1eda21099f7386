"""The market: calendar and intervals, bids, signals, clearing runs and dispatch orders."""
