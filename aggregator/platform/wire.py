"""The REST API's one convention for instants and numbers (docs/api.md).

- An instant is ISO 8601 in JST with its offset: `2026-12-04T13:00:00+09:00`. The database,
  the audit chain, snapshots and logs keep UTC; only what the API writes is JST, as DRF's
  DateTimeField already writes it under TIME_ZONE = "Asia/Tokyo".
- A quantity, price or amount is a decimal string (`"141.2000"`, `"16.0"`), as DRF's
  DecimalField writes it (COERCE_DECIMAL_TO_STRING): exact, never a binary float.
  Integers (ids, counts, revisions, whole-number fields such as a site's `capacity_cu`)
  stay JSON integers.

Most endpoints follow it through their serializer fields; the documents the API passes on
from storage (order lines, re-dispatch events, bid revisions, the market report) go
through `wire_json`, so that no endpoint answers in UTC `Z` or with bare floats.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")
# An instant as stored documents write it: date, time, and a Z or an offset.
_INSTANT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,6})?)?(Z|[+-]\d\d:\d\d)$")


def wire_instant(instant: datetime) -> str:
    """`instant` (aware) as the API writes it: ISO 8601 in JST, `+09:00`."""
    if instant.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; give a timezone")
    return instant.astimezone(JST).isoformat()


def wire_decimal(value: Decimal | float | int) -> str:
    """A quantity as the API writes it: a decimal string, exact for a Decimal; a float
    becomes the shortest text that reads back as the same float (0.1 is "0.1")."""
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    return format(number, "f")


def wire_json(doc: Any, *, quantities: frozenset[str] = frozenset()) -> Any:
    """A stored JSON document as the API writes it: instants in JST, floats as decimal
    strings; integers under a key in `quantities` (a bid's `cu: [32, 32]`) too, so that a
    field's type never depends on its value."""
    return _wire(doc, quantities, quantity=False)


def _wire(value: Any, quantities: frozenset[str], *, quantity: bool) -> Any:
    if isinstance(value, dict):
        return {k: _wire(v, quantities, quantity=k in quantities) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_wire(v, quantities, quantity=quantity) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float | Decimal) or (quantity and isinstance(value, int)):
        return wire_decimal(value)
    if isinstance(value, datetime):
        return wire_instant(value)
    if isinstance(value, str) and _INSTANT.match(value):
        return wire_instant(datetime.fromisoformat(value.replace("Z", "+00:00")))
    return value
