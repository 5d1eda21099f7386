"""Pure market-structure figures used by the report: concentration and ratios."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal


def hhi(quantities: Mapping[str, Decimal | float]) -> float | None:
    """Herfindahl–Hirschman index over participants: Σ (100 × share)², 0 … 10,000.

    Shares are of the total quantity; participants with zero are ignored. None when
    nothing was offered/cleared (no market to measure). 10,000 is a monopoly; the usual
    reading (US DOJ/FTC 2023): < 1,000 unconcentrated, > 1,800 highly concentrated.
    """
    total = sum(float(q) for q in quantities.values() if q > 0)
    if total <= 0:
        return None
    return round(sum((100 * float(q) / total) ** 2 for q in quantities.values() if q > 0), 1)


def ratio(offered: Decimal | float, cleared: Decimal | float) -> float | None:
    """Bid-to-clear: quantity bid per unit cleared (None when nothing cleared)."""
    if not cleared or float(cleared) <= 0:
        return None
    return round(float(offered) / float(cleared), 3)
