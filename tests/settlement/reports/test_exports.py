"""The report page's table exports: regulators and the market operator only, the page's
period (day or month), audited like every other read of the report."""

from __future__ import annotations

import csv
import io

import pytest

from aggregator.platform.models import AuditEvent
from settlement.reports.builder import build_market_report
from settlement.reports.periods import period_from
from tests.conftest import client_for

pytestmark = pytest.mark.django_db
AREAS = "/reports/export.csv"
INTERVENTIONS = "/reports/interventions/export.csv"


def _rows(who, url, **query) -> list[dict[str, str]]:
    response = client_for(who).get(url, query, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200, response.content
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def test_per_area_export_is_the_pages_table(cleared_market):
    rows = _rows(cleared_market.rita, AREAS, day="2030-04-01", lang="en")
    period = period_from(day="2030-04-01", month=None)
    report = build_market_report(start=period.start, end=period.end, period=period.label)
    shown = [a for a in report.areas if a.intervals or a.cu_offered or a.kwh_offered]
    assert [r["Grid area"] for r in rows] == [a.area for a in shown]
    kyushu = next(r for r in rows if r["Grid area"] == "kyushu")
    summary = next(a for a in shown if a.area == "kyushu")
    assert kyushu["Area name"] == "Kyushu"
    assert kyushu["CU-hours cleared"] == format(summary.cu_h_cleared, "f")
    assert kyushu["Energy price, mean (JPY/kWh)"] == format(summary.energy_price_mean, "f")
    assert float(kyushu["HHI capacity cleared"]) == 6800.0
    assert kyushu["Intervals cleared"] == "2"
    # The page's other period: a month with nothing cleared has no area rows.
    assert _rows(cleared_market.rita, AREAS, month="2030-05") == []
    assert len(_rows(cleared_market.rita, AREAS, month="2030-04")) == len(rows)
    # Audited as a read of the report, with what was exported.
    formats = AuditEvent.objects.filter(code="settlement.report.read").values_list(
        "payload__format", flat=True
    )
    assert list(formats) == ["csv:areas"] * 3


def test_interventions_export_has_a_header_and_the_periods_rows(cleared_market):
    response = client_for(cleared_market.rita).get(
        INTERVENTIONS, {"day": "2030-04-01"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    header = body.splitlines()[0]
    assert header == "Interval start (JST),Kind,What,By,At (JST)"
    period = period_from(day="2030-04-01", month=None)
    report = build_market_report(start=period.start, end=period.end, period=period.label)
    assert len(body.splitlines()) == 1 + len(report.interventions)


def test_participants_get_no_report_table(cleared_market):
    for who in (cleared_market.alice, cleared_market.sue, cleared_market.dave):
        for url in (AREAS, INTERVENTIONS):
            assert client_for(who).get(url, {"day": "2030-04-01"}).status_code == 403
    assert not AuditEvent.objects.filter(code="settlement.report.read").exists()


def test_a_bad_period_is_a_400(cleared_market):
    client = client_for(cleared_market.rita)
    assert client.get(AREAS, {"day": "2030-02-30"}).status_code == 400
    assert client.get(INTERVENTIONS, {"day": "2030-04-01", "month": "2030-04"}).status_code == 400


def test_the_page_links_both_exports_with_its_period(cleared_market):
    html = client_for(cleared_market.rita).get("/reports/", {"month": "2030-04"}).content.decode()
    assert 'href="/reports/export.csv?month=2030-04&amp;lang=' in html
    assert 'href="/reports/interventions/export.csv?month=2030-04"' in html
