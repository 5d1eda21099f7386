"""The data a page hands to templates/includes/chart.html (and static/js/charts.js).

A chart is a plain dict that Django's json_script can write into the page: the x values
(instants, given in JST as ISO 8601 with +09:00, or plain category labels) and one or more
series, each with its unit. The browser only draws it: every number and every label is
decided here, so the page's data table and the chart always show the same figures.

    chart = chart_data(
        chart_id="results-price",
        title=_("Cleared energy price by area"),
        x=[interval.start for interval in intervals],  # aware datetimes
        series=[chart_series(_("Tokyo"), "JPY/kWh", [Decimal("12.30"), None, ...])],
    )
    {% include "includes/chart.html" with chart=chart %}
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")
_ID = re.compile(r"^[a-z][a-z0-9-]{0,60}$")

Number = Decimal | int | float | None
ChartKind = Literal["line", "bar"]


def chart_series(
    name: str,
    unit: str,
    values: Iterable[Number],
    *,
    kind: ChartKind | None = None,
    decimals: int = 2,
    stack: str | None = None,
) -> dict[str, Any]:
    """One series: its legend name, its unit (shown on the axis and in the tooltip) and one
    value per x (None where there is none: the line breaks there instead of dropping to 0).

    `kind` overrides the chart's kind for this series (bars of volume under price lines);
    series with the same `stack` name pile up (volumes of several areas into one bar).
    """
    return {
        "name": str(name),
        "unit": str(unit),
        "kind": kind,
        "decimals": decimals,
        "stack": stack,
        # Floats, not Decimal strings: the chart needs numbers; the table shows the exact text.
        "data": [None if v is None else round(float(v), decimals) for v in values],
    }


def chart_data(
    *,
    chart_id: str,
    title: str,
    x: Sequence[datetime | str],
    series: Sequence[dict[str, Any]],
    kind: ChartKind = "line",
    description: str = "",
) -> dict[str, Any]:
    """The dict for the include. `x` holds aware datetimes (a time axis labelled in JST) or
    strings (categories, e.g. area names). Every series has one value per x.

    `description` is read out instead of the chart (the container's aria-label after the
    title); by default it says how many series and points the chart holds.
    """
    if not _ID.match(chart_id):
        raise ValueError(f"chart_id {chart_id!r}: lower-case letters, digits and '-'")
    timed = bool(x) and all(isinstance(v, datetime) for v in x)
    if not timed and not all(isinstance(v, str) for v in x):
        raise ValueError("x holds either aware datetimes or strings, not a mix")
    xs: list[str] = []
    for v in x:
        if isinstance(v, datetime):
            if v.tzinfo is None:
                raise ValueError("x: naive datetime; give aware instants")
            xs.append(v.astimezone(JST).isoformat())
        else:
            xs.append(v)
    units: list[str] = []
    for s in series:
        if len(s["data"]) != len(xs):
            raise ValueError(f"series {s['name']!r} has {len(s['data'])} values for {len(xs)} x")
        if s["unit"] not in units:
            units.append(s["unit"])
    if len(units) > 2:
        # Two y axes read well (left and right); a third has nowhere to go.
        raise ValueError(f"at most two units per chart, got {units}")
    return {
        "id": chart_id,
        "data_id": f"chart-{chart_id}-data",
        "title": str(title),
        "description": str(description),
        "kind": kind,
        "x_kind": "time" if timed else "category",
        "x": xs,
        "units": units,
        "series": list(series),
        "empty": not any(v is not None for s in series for v in s["data"]),
    }
