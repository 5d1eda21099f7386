"""Settlement: meter data, interval settlement, the double-entry ledger, statements, reports."""
