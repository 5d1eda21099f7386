"""Public ids of bids (`wl-7`, `cap-3`, `en-2`): parsing what clients send.

Only ASCII digits count: "²".isdigit() is true in Python, but int("²") raises.
"""

from __future__ import annotations

import re

_ID = re.compile(r"(?:(?P<prefix>[a-z]+)-)?(?P<pk>[0-9]{1,18})")


def parse_public_id(text: object, prefix: str) -> int | None:
    """The primary key in `<prefix>-<pk>` (or a bare `<pk>`), or None if it is not one."""
    match = _ID.fullmatch(str(text or "").strip())
    if match is None or match["prefix"] not in (None, prefix):
        return None
    return int(match["pk"])
