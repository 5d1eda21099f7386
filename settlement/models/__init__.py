"""Settlement's models: its parameters and the meter data (`meter`), and the double-entry
ledger with the interval settlements (`ledger`). Import them from here."""

from aggregator.platform.models import AppendOnlyError
from settlement.models.impact import ImpactFigure, RunImpact
from settlement.models.ledger import (
    Account,
    IntervalSettlement,
    JournalEntry,
    Posting,
    Settlement,
)
from settlement.models.meter import MeterReading, SettlementParameters, reading_subject

__all__ = [
    "Account",
    "AppendOnlyError",
    "ImpactFigure",
    "IntervalSettlement",
    "JournalEntry",
    "MeterReading",
    "Posting",
    "RunImpact",
    "Settlement",
    "SettlementParameters",
    "reading_subject",
]
