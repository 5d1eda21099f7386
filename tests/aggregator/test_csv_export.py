"""The CSV helper every portal export uses: BOM, JST instants, plain decimals, safe text."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from aggregator.platform.csv_export import csv_cell, csv_response


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_cells_follow_the_conventions():
    assert csv_cell(datetime(2026, 12, 7, 4, 30, tzinfo=UTC)) == "2026-12-07T13:30:00+09:00"
    assert csv_cell(date(2026, 12, 7)) == "2026-12-07"
    assert csv_cell(Decimal("1E+1")) == "10"  # never scientific notation
    assert csv_cell(Decimal("12.3400")) == "12.3400"  # the stored precision, as written
    assert csv_cell(Decimal("-5")) == "-5"  # a negative number stays a number
    assert csv_cell(None) == ""
    assert csv_cell(True) == "true" and csv_cell(False) == "false"
    assert csv_cell(7) == "7"
    with pytest.raises(ValueError, match="naive"):
        csv_cell(datetime(2026, 12, 7, 4, 30))


@pytest.mark.parametrize("text", ["=1+1", "+81", "-cmd", "@SUM(A1)", "\tx", "\rx"])
def test_text_that_a_spreadsheet_would_run_is_quoted(text):
    assert csv_cell(text) == "'" + text


def test_response_is_utf8_with_bom_crlf_and_a_header():
    response = csv_response(
        filename="wattbit-test-2026-12-07.csv",
        header=["エリア", "price"],
        rows=iter([["東京", Decimal("12.50")], ["a,b", None]]),
    )
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="wattbit-test-2026-12-07.csv"'
    assert response["Cache-Control"] == "private, no-store"
    body = _body(response)
    assert body.startswith(b"\xef\xbb\xbf")
    assert body.count(b"\r\n") == 3
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows == [["エリア", "price"], ["東京", "12.50"], ["a,b", ""]]


def test_a_row_of_the_wrong_width_and_an_unsafe_filename_are_refused():
    response = csv_response(filename="a.csv", header=["a", "b"], rows=[[1]])
    with pytest.raises(ValueError, match="1 cells under a header of 2"):
        _body(response)
    with pytest.raises(ValueError, match="unsafe"):
        csv_response(filename='x".csv', header=["a"], rows=[])
