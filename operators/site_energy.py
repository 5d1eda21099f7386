"""What a compute unit draws from the grid at a site: the one home of kW/CU × PUE."""

from __future__ import annotations

from decimal import Decimal
from typing import TypeVar

Number = TypeVar("Number", Decimal, float)


def kwh_per_cu_hour(kw_per_cu: Number, pue: Number) -> Number:
    """kWh one CU takes from the grid in an hour: its IT power times the site's PUE.

    The engine applies the same factor to the snapshot's `kw_per_cu` and `pue`
    (`aggregator.engine.feasibility`), so money computed here matches the clearing.
    """
    return kw_per_cu * pue
