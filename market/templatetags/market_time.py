"""Intervals as people count them in templates: the JEPX slot (コマ 1–48) of an instant."""

from __future__ import annotations

from datetime import datetime

from django import template

from market import calendar

register = template.Library()


@register.filter
def slot(value: datetime | None) -> int | str:
    """The slot number (1..48 from JST midnight) of the interval containing `value`."""
    if not isinstance(value, datetime):
        return ""
    return calendar.slot_of(value)[1]


@register.filter
def slot_label(value: datetime | None) -> str:
    """'コマ 27' in Japanese, 'slot 27' in English; empty for no instant."""
    if not isinstance(value, datetime):
        return ""
    return calendar.slot_label(value)


@register.filter
def jst_content(data) -> str:
    """A stored JSON document (a bid revision) as text, its instants in JST with their slot:
    stored data keeps UTC (`2026-12-04T04:00:00Z`), a person reads 2026-12-04 13:00 JST."""
    if not isinstance(data, dict):
        return "" if data is None else str(data)
    return "; ".join(f"{key}: {_shown(value)}" for key, value in data.items())


def _shown(value) -> str:
    if isinstance(value, str) and "T" in value:
        try:
            instant = calendar.parse_iso(value)
        except ValueError:
            return value
        return calendar.interval_text(instant)
    if isinstance(value, list):
        return ", ".join(_shown(v) for v in value)
    return str(value)
