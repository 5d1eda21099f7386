"""The one rounding rule for ledger money: exact Decimal yen in, integer yen out.

Every posting amount goes through `to_yen`. Prices are Decimal (4 places) and
quantities Decimal (CU-h, kWh); their product is exact, and it is rounded once, here.

Mode: ROUND_HALF_EVEN ("banker's rounding"). A posting's two sides use the same rounded
amount, so rounding never unbalances a pair; it only decides who keeps a half yen. Half
to even makes that decision without a systematic bias over the ~48 intervals a day × many
orders (half-up would tilt every exact half towards the charged party). Where one entry
splits a rounded debit into several rounded credits (an energy delivery: supplier share +
congestion rent), the sub-yen residue is posted to the market's rounding account, so every
entry sums to exactly zero (`settlement.ledger.balanced`).

Consumption tax is not ledger money: invoices compute it once per rate per invoice,
truncated (切り捨て), in `settlement.documents.tax` (the renderers' module).
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

LEDGER_ROUNDING = ROUND_HALF_EVEN
HALF_HOUR = Decimal("0.5")  # an interval is 30 minutes: CU × 0.5 = CU-h


def to_yen(amount: Decimal) -> int:
    """Round an exact Decimal amount of yen to an integer, half to even."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"to_yen takes a Decimal, not {type(amount).__name__}")
    return int(amount.quantize(Decimal(1), rounding=LEDGER_ROUNDING))
