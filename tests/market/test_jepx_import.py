"""The JEPX import: both published variants, idempotent, refuses malformed files whole."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from aggregator.platform.models import AuditEvent
from market.choices import SignalKind
from market.jepx import JepxFormatError, read_spot_summary
from market.models import Signal

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"
FY2023 = DATA / "spot_summary_2023_excerpt.csv"
CY2024 = DATA / "spot_summary_2024_excerpt.csv"
SHARED = Path("/work/shared/data")
FULL_FILES = [
    SHARED / "jepx-spot-fy2023" / "spot_summary_2023.csv",
    SHARED / "jepx-spot-cy2024" / "spot_summary_2024.csv",
]


def _run(*files) -> str:
    out = StringIO()
    call_command("import_jepx_spot", *map(str, files), stdout=out)
    return out.getvalue()


def _price(kind, area, at):
    return Signal.objects.get(kind=kind, area_id=area, interval_start=at).value


def test_fiscal_year_file_prices_land_on_the_right_utc_interval():
    output = _run(FY2023)
    assert "960 prices imported" in output  # 96 slots × (system + 9 areas)
    assert "[##########] 96/96" in output
    # 2023/04/01 slot 1 = 00:00 JST = 2023-03-31 15:00 UTC: system 10.48, Hokkaido 16.53, Kyushu 5.84
    at = datetime(2023, 3, 31, 15, 0, tzinfo=UTC)
    assert _price(SignalKind.SYSTEM_PRICE, None, at) == Decimal("10.48")
    assert _price(SignalKind.AREA_PRICE, "hokkaido", at) == Decimal("16.53")
    assert _price(SignalKind.AREA_PRICE, "kyushu", at) == Decimal("5.84")
    signal = Signal.objects.filter(kind=SignalKind.AREA_PRICE, interval_start=at).first()
    # Published 10:00 JST the day before delivery.
    assert signal.published_at == datetime(2023, 3, 31, 1, 0, tzinfo=UTC)
    assert signal.source == "jepx-spot"


def test_calendar_year_file_with_unpadded_dates_and_trailing_commas():
    rows = read_spot_summary(CY2024)
    assert len(rows) == 96  # the bare-comma rows are skipped
    assert rows[0].system_price == Decimal("12.2")
    _run(CY2024)
    # 2024/2/29 slot 48 = 23:30 JST = 14:30 UTC
    at = datetime(2024, 2, 29, 14, 30, tzinfo=UTC)
    assert Signal.objects.filter(interval_start=at).count() == 10


def test_second_import_adds_nothing_and_says_so():
    _run(FY2023)
    count, events = Signal.objects.count(), AuditEvent.objects.count()
    output = _run(FY2023)
    assert "nothing new" in output and "all 960 prices" in output
    assert Signal.objects.count() == count and AuditEvent.objects.count() == events


def _set_field(line: bytes, index: int, value: bytes) -> bytes:
    fields = line.split(b",")
    fields[index] = value
    return b",".join(fields)


def _broken(tmp_path, transform) -> Path:
    lines = FY2023.read_bytes().split(b"\r\n")
    path = tmp_path / "spot_summary_broken.csv"
    path.write_bytes(b"\r\n".join(transform(lines)))
    return path


@pytest.mark.parametrize(
    ("transform", "message"),
    [
        (lambda ls: [ls[0].decode("cp932").encode("utf-8"), *ls[1:]], "Shift-JIS"),
        (lambda ls: [b"date,slot,price", *ls[1:]], "header"),
        (lambda ls: [*ls[:50], ls[50].replace(b",", b",99,", 1), *ls[51:]], "slot '99'"),
        (lambda ls: [*ls[:60], ls[60].replace(b"2023/04/02", b"2023/13/02"), *ls[61:]], "line 61"),
        (lambda ls: [*ls[:70], _set_field(ls[70], 5, b"abc"), *ls[71:]], "not a number"),
        (lambda ls: [*ls, ls[5]], "appears twice"),
        (lambda ls: [ls[0]], "no data rows"),
    ],
)
def test_malformed_file_is_refused_and_changes_nothing(tmp_path, transform, message):
    path = _broken(tmp_path, transform)
    with pytest.raises(CommandError, match="refused, nothing imported") as excinfo:
        _run(path)
    assert message in str(excinfo.value)
    assert Signal.objects.count() == 0 and AuditEvent.objects.count() == 0


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        _run(tmp_path / "nope.csv")


def test_read_errors_name_the_line():
    bad = FY2023.read_bytes().replace(b"2023/04/01,3,", b"2023/04/01,x,", 1)
    with pytest.raises(JepxFormatError, match="line 4"):
        read_spot_summary(bad)


@pytest.mark.slow
@pytest.mark.skipif(not all(p.exists() for p in FULL_FILES), reason="shared data not present")
def test_both_full_files_import_and_overlap_is_not_duplicated():
    _run(FULL_FILES[0])
    assert Signal.objects.count() == 17_568 * 10
    output = _run(FULL_FILES[1])
    # Jan–Mar 2024 (4,368 slots) is in both files with identical values: skipped, not doubled.
    assert f"{(17_568 - 4_368) * 10:,} prices imported, {4_368 * 10:,} already present" in output
    assert Signal.objects.count() == (2 * 17_568 - 4_368) * 10
    chubu = Signal.objects.filter(
        kind=SignalKind.AREA_PRICE, area_id="chubu", interval_start__year=2024
    ).order_by("-value")[0]
    assert chubu.value == Decimal("100.00")  # the real 2024-09-23 Chubu spike
