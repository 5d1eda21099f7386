"""manage.py market_report: every format to a file, progress for a month, clear refusals."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command


@pytest.mark.parametrize("fmt", ["json", "csv", "pdf"])
def test_writes_each_format(cleared_market, tmp_path, fmt):
    out = tmp_path / f"report.{fmt}"
    stderr = io.StringIO()
    call_command("market_report", "--day", "2030-04-01", "--format", fmt, "-o", str(out), stderr=stderr)  # fmt: skip
    data = out.read_bytes()
    if fmt == "json":
        assert json.loads(data)["intervals_cleared"] == 2
    elif fmt == "csv":
        assert data.startswith(b"\xef\xbb\xbf") and b"hhi_capacity_cleared" in data
    else:
        assert data.startswith(b"%PDF-") and b"IPAexGothic" in data
    assert f"wrote {out}" in stderr.getvalue()


def test_month_prints_progress_per_day(cleared_market, tmp_path):
    stderr = io.StringIO()
    out = tmp_path / "m.json"
    call_command("market_report", "--month", "2030-04", "--format", "json", "-o", str(out), stderr=stderr)  # fmt: skip
    assert "2030-04-01: reading clearing runs" in stderr.getvalue()
    assert json.loads(out.read_bytes())["period"] == "2030-04"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--day", "2030-02-30", "--format", "json"], "YYYY-MM-DD"),
        (["--day", "yesterday", "--format", "json"], "YYYY-MM-DD"),
        (["--month", "2030-13", "--format", "csv"], "YYYY-MM"),
        (["--month", "2030-4", "--format", "csv"], "YYYY-MM"),
        (["--day", "2030-04-01", "--month", "2030-04", "--format", "csv"], "not allowed with"),
        (["--format", "csv"], "one of the arguments --day --month is required"),
        (["--day", "2030-04-01", "--format", "xlsx"], "invalid choice"),
    ],
)
def test_refuses_bad_input_clearly(db, tmp_path, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("market_report", *args, "-o", str(tmp_path / "x"))
    assert not (tmp_path / "x").exists()


def test_refuses_a_missing_directory(db, tmp_path):
    with pytest.raises(CommandError, match="directory does not exist"):
        call_command("market_report", "--day", "2030-04-01", "--format", "json", "-o", str(tmp_path / "no" / "r.json"))  # fmt: skip


def test_missing_font_is_a_clear_error(db, tmp_path, monkeypatch):
    from settlement.documents import fonts

    monkeypatch.setenv("WATTBIT_JP_FONT", str(tmp_path / "nofont.ttf"))
    fonts.reportlab_font.cache_clear()
    try:
        with pytest.raises(CommandError, match="fonts-ipaexfont"):
            call_command("market_report", "--day", "2030-04-01", "--format", "pdf", "-o", str(tmp_path / "r.pdf"))  # fmt: skip
    finally:
        fonts.reportlab_font.cache_clear()
