"""Reader of JEPX `spot_summary_YYYY.csv` exactly as published: Shift-JIS, Japanese headers.

Handles the re-saved calendar-year variant too (unpadded dates, trimmed decimals, trailing
rows of bare commas). Any other deviation is refused with the line number, before anything
is written.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

DATE_HEADER = "受渡日"
SLOT_HEADER = "時刻コード"
SYSTEM_PRICE_PREFIX = "システムプライス"
AREA_PRICE_PREFIX = "エリアプライス"
# JEPX area names in the headers → our GridArea codes.
AREA_CODES = {
    "北海道": "hokkaido",
    "東北": "tohoku",
    "東京": "tokyo",
    "中部": "chubu",
    "北陸": "hokuriku",
    "関西": "kansai",
    "中国": "chugoku",
    "四国": "shikoku",
    "九州": "kyushu",
}
_DATE = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$")


class JepxFormatError(ValueError):
    """The file is not a JEPX spot summary we can read; nothing should be imported."""


@dataclass(frozen=True)
class SpotRow:
    day: date
    slot: int
    system_price: Decimal
    area_prices: dict[str, Decimal]


def _columns(header: list[str]) -> tuple[int, int, int, dict[str, int]]:
    names = [h.strip() for h in header]
    try:
        day_col, slot_col = names.index(DATE_HEADER), names.index(SLOT_HEADER)
    except ValueError:
        raise JepxFormatError(
            f"line 1: the header lacks '{DATE_HEADER}' (delivery date) or '{SLOT_HEADER}' (slot); "
            "is this a JEPX spot_summary file?"
        ) from None
    system = [i for i, n in enumerate(names) if n.startswith(SYSTEM_PRICE_PREFIX)]
    if not system:
        raise JepxFormatError(f"line 1: no '{SYSTEM_PRICE_PREFIX}' (system price) column")
    areas: dict[str, int] = {}
    for i, name in enumerate(names):
        if name.startswith(AREA_PRICE_PREFIX):
            ja = name[len(AREA_PRICE_PREFIX) :].split("(")[0]
            if ja in AREA_CODES:
                areas[AREA_CODES[ja]] = i
    missing = sorted(set(AREA_CODES.values()) - set(areas))
    if missing:
        raise JepxFormatError(f"line 1: area price columns missing for: {', '.join(missing)}")
    return day_col, slot_col, system[0], areas


def _price(text: str, line: int, what: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, ValueError):
        raise JepxFormatError(f"line {line}: {what} {text!r} is not a number") from None
    if not value.is_finite() or not Decimal(-1000) <= value <= Decimal(10000):
        raise JepxFormatError(f"line {line}: {what} {text!r} is not a plausible JPY/kWh price")
    return value


def read_spot_summary(source: Path | str | bytes) -> list[SpotRow]:
    """All rows of the file, validated; raises JepxFormatError naming the first bad line."""
    raw = source if isinstance(source, bytes) else Path(source).read_bytes()
    try:
        text = raw.decode("cp932")
    except UnicodeDecodeError as exc:
        raise JepxFormatError(
            f"not Shift-JIS (cp932) text at byte {exc.start}; JEPX files are Shift-JIS"
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header:
        raise JepxFormatError("the file is empty")
    day_col, slot_col, system_col, area_cols = _columns(header)
    width = max(day_col, slot_col, system_col, *area_cols.values()) + 1
    rows: list[SpotRow] = []
    seen: set[tuple[date, int]] = set()
    for line, fields in enumerate(reader, start=2):
        if not fields or not fields[0].strip():
            continue  # the calendar-2024 file ends in rows of bare commas
        if len(fields) < width:
            raise JepxFormatError(f"line {line}: {len(fields)} fields, expected at least {width}")
        match = _DATE.match(fields[day_col].strip())
        try:
            day = date(*map(int, match.groups())) if match else None
        except ValueError:
            day = None
        if day is None:
            raise JepxFormatError(
                f"line {line}: delivery date {fields[day_col]!r} is not YYYY/MM/DD"
            )
        slot_text = fields[slot_col].strip()
        if not slot_text.isdigit() or not 1 <= int(slot_text) <= 48:
            raise JepxFormatError(f"line {line}: slot {slot_text!r} is not 1..48")
        slot = int(slot_text)
        if (day, slot) in seen:
            raise JepxFormatError(f"line {line}: {day:%Y/%m/%d} slot {slot} appears twice")
        seen.add((day, slot))
        rows.append(
            SpotRow(
                day=day,
                slot=slot,
                system_price=_price(fields[system_col], line, "system price"),
                area_prices={
                    code: _price(fields[col], line, f"{code} price")
                    for code, col in area_cols.items()
                },
            )
        )
    if not rows:
        raise JepxFormatError("no data rows")
    return rows
