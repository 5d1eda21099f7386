"""Canonical JSON bytes (sorted keys, compact, UTF-8) and the fixed rounding of results."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from typing import Any

# Fixed decimals of the result contract (SCENARIO_FORMAT.md): CU 6, kWh 3, prices 4, JPY 2.
CU_DECIMALS = 6
KWH_DECIMALS = 3
PRICE_DECIMALS = 4
JPY_DECIMALS = 2


def rounded(value: float, decimals: int) -> float:
    """Round half-even to `decimals` and normalise -0.0, so equal numbers print equal bytes."""
    out = round(float(value), decimals)
    return 0.0 if out == 0 else out


def canonical_json(
    document: Any, *, default: Callable[[Any], Any] | None = None, ascii_only: bool = False
) -> str:
    """The exchange's one canonical JSON text: sorted keys, compact, no NaN or infinity.

    Everything that is hashed, signed or stored as a canonical document is written by this
    function (the engine's results, the audit chain, the ledger's MACs, bid revisions and
    idempotency fingerprints). `default` maps the caller's own types (the platform's maps
    Decimal and dates); `ascii_only` escapes non-ASCII characters, which bid revisions and
    idempotency fingerprints have always hashed — kept so that stored hashes still verify.
    """
    return json.dumps(
        document,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=ascii_only,
        allow_nan=False,
        default=default,
    )


def canonical_json_bytes(document: Any) -> bytes:
    """The canonical text as UTF-8 bytes: what result files hold and their hash covers."""
    return canonical_json(document).encode("utf-8")


def sha256_hex(document: Any) -> str:
    return hashlib.sha256(canonical_json_bytes(document)).hexdigest()


def is_finite_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
