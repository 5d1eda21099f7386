"""One unit for volumes over a period: CU-hours, in the page, the PDF, the JSON and the CSV;
and welfare of firm intervals in every writer (the cleared market of conftest.py)."""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal

from settlement.reports.builder import build_market_report
from settlement.reports.periods import day_period
from settlement.reports.writers import render_csv, render_json
from tests.conftest import client_for


def _report():
    period = day_period("2030-04-01")
    return build_market_report(start=period.start, end=period.end, period=period.label)


def test_json_and_csv_give_cu_hours_and_firm_welfare(cleared_market):
    report = _report()
    # 40 CU cleared in each of two intervals: 40 CU-h.
    data = json.loads(render_json(report))
    assert Decimal(data["cu_h_cleared"]) == 40 and Decimal(data["cu_h_demanded"]) == 40
    firm = 2 * (18000 - 3040 - Decimal("0.26"))
    assert Decimal(data["welfare"]["welfare_jpy"]) == firm
    rows = list(csv.reader(io.StringIO(render_csv(report).decode("utf-8-sig"))))
    summary = {r[3]: (r[4], r[5]) for r in rows if r[0] == "summary"}
    assert Decimal(summary["cu_h_cleared"][0]) == 40 and summary["cu_h_cleared"][1] == "CU-h"
    assert "cu_cleared" not in summary  # no total in CU × intervals any more
    assert Decimal(summary["welfare_jpy"][0]) == firm


def test_the_page_table_is_in_cu_hours(cleared_market):
    page = client_for(cleared_market.rita).get("/reports/?day=2030-04-01")
    html = page.content.decode()
    assert "約定CU時間" in html  # the column: CU-hours cleared
    (kyushu,) = re.findall(r'<tr><th scope="row">九州</th>.*?</tr>', html, flags=re.S)
    cells = re.findall(r'<td class="num">([^<]*)</td>', kyushu)
    # Offered 48 CU (beta 32 + alpha 16) and cleared 40 CU, in each of two intervals.
    assert cells[2:4] == ["48.0", "40.0"]  # CU-hours offered, CU-hours cleared
