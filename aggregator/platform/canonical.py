"""Canonical JSON for values from the database: the engine's one format, with Decimal and
dates mapped to strings (Decimal as written, dates in ISO 8601)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aggregator.engine.canonical import canonical_json as _canonical_json


def json_default(value: Any) -> Any:
    """Decimal → its digits as a string, date/datetime/time → ISO 8601; anything else refused."""
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"not JSON-serialisable in a canonical document: {type(value).__name__}")


def canonical_json(value: Any, *, ascii_only: bool = False) -> str:
    """The canonical text of `value` (see `aggregator.engine.canonical.canonical_json`)."""
    return _canonical_json(value, default=json_default, ascii_only=ascii_only)
