"""Reading numbers that clients send: finite, of a sane size, and cheap to refuse.

A text like "1e1000000" is a valid Decimal, but turning it into an int or a float (as a
JSON quantity does) takes minutes or overflows; so every number a client sends passes
here first. No quantity in this market reaches 10^15 in its own unit.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

MAX_TEXT = 40  # characters: more digits than any price or quantity needs
MAX_ADJUSTED_EXPONENT = 14  # |x| < 10^15


def to_decimal(value: Any) -> Decimal | None:
    """The number `value` stands for, or None: not a number, not finite, or too large."""
    if isinstance(value, bool) or value is None:
        return None
    text = str(value).strip()
    if len(text) > MAX_TEXT:
        return None
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite():
        return None
    if number and number.adjusted() > MAX_ADJUSTED_EXPONENT:
        return None
    return number
