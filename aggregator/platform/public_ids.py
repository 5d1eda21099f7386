"""Public ids of bids (`wl-7`, `cap-3`, `en-2`): the one codec that writes and reads them.

Snapshots, engine results, orders, uplift rows, meter readings and the API all name a bid
this way: every place formats with `format_public_id` and reads with one of the parsers below.
Only ASCII digits count: "²".isdigit() is true in Python, but int("²") raises.
"""

from __future__ import annotations

import re

WORKLOAD = "wl"
CAPACITY_OFFER = "cap"
ENERGY_OFFER = "en"
BID_PREFIXES = (WORKLOAD, CAPACITY_OFFER, ENERGY_OFFER)

_ID = re.compile(r"(?:(?P<prefix>[a-z]+)-)?(?P<pk>[0-9]{1,18})")


def format_public_id(prefix: str, pk: int) -> str:
    """`<prefix>-<pk>`, e.g. format_public_id(WORKLOAD, 7) == "wl-7"."""
    return f"{prefix}-{pk}"


def parse_public_id(text: object, prefix: str) -> int | None:
    """What a client sent: the primary key in `<prefix>-<pk>` (or a bare `<pk>`), else None."""
    match = _ID.fullmatch(str(text or "").strip())
    if match is None or match["prefix"] not in (None, prefix):
        return None
    return int(match["pk"])


def split_public_id(text: object) -> tuple[str, int] | None:
    """A bid's (prefix, pk) from `<prefix>-<pk>` with a known prefix, else None."""
    match = _ID.fullmatch(str(text or ""))
    if match is None or match["prefix"] not in BID_PREFIXES:
        return None
    return match["prefix"], int(match["pk"])


def public_id_pk(text: str) -> int:
    """The primary key of an id the exchange wrote itself (a snapshot, an engine result).

    A malformed one is a bug upstream, not bad input: ValueError, never a quiet None.
    """
    parsed = split_public_id(text)
    if parsed is None:
        raise ValueError(f"not a public bid id: {text!r}")
    return parsed[1]
