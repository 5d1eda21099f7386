"""CSV downloads of the portal's tables: one helper, so every export reads the same way.

- UTF-8 with a byte-order mark, so that Excel in Japan opens Japanese text without mojibake;
  CRLF line ends (RFC 4180).
- Instants in JST, ISO 8601 with the offset (`2026-12-07T13:30:00+09:00`); dates ISO 8601.
- Decimals as their plain digits (`12.3400`, never `1.234E+1`), no thousands separators;
  None is an empty cell; booleans `true` / `false`.
- Text that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR at the start)
  gets a leading apostrophe: names and reasons come from participants (OWASP "CSV
  injection"). Numbers are never touched, so a negative amount stays a number.
- Rows stream: an export of a month of meter readings never sits in memory whole.

Each page's export is a sibling route `<page>/export.csv` that takes the page's own query
(filters) and reads through the page's own selector, so it shows exactly the page's rows.

    return csv_response(
        filename=f"wattbit-orders-{day:%Y-%m-%d}.csv",
        header=[_("Order"), _("Interval start (JST)"), ...],
        rows=([o.public_id, o.interval_start, ...] for o in orders),
    )
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.http import StreamingHttpResponse

JST = ZoneInfo("Asia/Tokyo")
BOM = "\ufeff"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SAFE_FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}\.csv$")


def csv_cell(value: Any) -> str:
    """One value as the text of its cell (see the module docstring for the conventions)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in a CSV export; give aware instants")
        return value.astimezone(JST).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


class _Echo:
    """A file-like object whose write returns the line, for csv.writer in a stream."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The BOM, the header line and one line per row, each ending in CRLF."""
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    yield BOM + writer.writerow([str(h) for h in header])
    width = len(header)
    for row in rows:
        if len(row) != width:
            raise ValueError(f"a row of {len(row)} cells under a header of {width}")
        yield writer.writerow([csv_cell(v) for v in row])


def csv_response(
    *, filename: str, header: Sequence[Any], rows: Iterable[Sequence[Any]]
) -> StreamingHttpResponse:
    """A streamed CSV attachment. `filename` is ASCII (letters, digits, `.`, `_`, `-`)."""
    if not _SAFE_FILENAME.match(filename):
        raise ValueError(f"unsafe CSV filename {filename!r}")
    response = StreamingHttpResponse(
        (line.encode("utf-8") for line in csv_lines(header, rows)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Personal rows (own orders, own money): never kept by a shared cache.
    response["Cache-Control"] = "private, no-store"
    return response
