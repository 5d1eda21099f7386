"""Who reads market reports (regulator, market operator) and that every read is audited."""

from __future__ import annotations

import json

import pytest

from aggregator.platform.models import AuditEvent
from operators.models import Membership
from tests.conftest import client_for, key_client

URL = "/api/v1/reports/market"


def test_regulator_reads_json_csv_and_pdf_and_each_read_is_audited(cleared_market):
    client = client_for(cleared_market.rita)
    before = AuditEvent.objects.filter(code="settlement.report.read").count()
    response = client.get(URL, {"day": "2030-04-01", "format": "json"})
    assert response.status_code == 200, response.content
    data = json.loads(response.content)
    assert data["schema"] == "wattbit.market-report/2"
    assert data["intervals_cleared"] == 2 and data["period"] == "2030-04-01"
    kyushu = next(a for a in data["areas"] if a["area"] == "kyushu")
    assert kyushu["hhi_capacity_cleared"] == "6800.0"  # a decimal string, as the API writes
    assert data["start"] == "2030-04-01T00:00:00+09:00"  # JST, not UTC
    csv = client.get(URL, {"day": "2030-04-01", "format": "csv"})
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    assert csv.content.startswith(b"\xef\xbb\xbfsection,interval_start_jst,area,metric")
    pdf = client.get(URL, {"day": "2030-04-01", "format": "pdf", "lang": "en"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert 'filename="market-report-2030-04-01-en.pdf"' in pdf["Content-Disposition"]
    reads = AuditEvent.objects.filter(code="settlement.report.read").order_by("seq")
    assert reads.count() == before + 3
    last = reads.last()
    assert last.actor_label == "user:rita"
    assert last.payload == {"period": "2030-04-01", "format": "pdf", "channel": "api"}


def test_market_operator_reads_with_an_api_key(cleared_market):
    oscar = Membership.objects.get(user__username="oscar")
    client, _key = key_client(oscar)
    response = client.get(URL, {"month": "2030-04", "format": "json"})
    assert response.status_code == 200
    assert json.loads(response.content)["intervals_in_period"] == 30 * 48


@pytest.mark.parametrize("who", ["alice", "charlie", "dave", "sue"])
def test_participants_get_403(cleared_market, who):
    response = client_for(getattr(cleared_market, who)).get(URL, {"day": "2030-04-01"})
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/problem+json")
    assert not AuditEvent.objects.filter(code="settlement.report.read").exists()


def test_anonymous_is_refused(db):
    from rest_framework.test import APIClient

    response = APIClient().get(URL, {"day": "2030-04-01"})
    # No credentials at all: 401 with the scheme to use, not a 403.
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Api-Key")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"day": "2030-02-30"}, "day"),
        ({"month": "April"}, "month"),
        ({}, "period"),
        ({"day": "2030-04-01", "month": "2030-04"}, "period"),
        ({"day": "2030-04-01", "format": "xlsx"}, "format"),
        ({"day": "2030-04-01", "lang": "fr"}, "lang"),
    ],
)
def test_bad_input_is_a_problem_response(rita, params, field):
    response = client_for(rita).get(URL, params)
    assert response.status_code == 400
    body = json.loads(response.content)
    assert field in body["errors"], body


def test_regulator_cannot_write(rita):
    assert client_for(rita).post(URL, {"day": "2030-04-01"}).status_code in (403, 405)


def test_portal_page_shows_figures_and_charts_to_the_regulator(cleared_market):
    client = client_for(cleared_market.rita)
    response = client.get("/reports/", {"day": "2030-04-01"})
    assert response.status_code == 200
    html = response.content.decode()
    # Interactive charts in the page (their data inline); the PDF keeps the PNG charts.
    assert html.count('data-chart="chart-report-') == 3
    assert 'src="data:image/png;base64,' not in html
    assert "2 / 48" in html  # intervals cleared
    assert "format=pdf" in html and "format=csv" in html and "format=json" in html
    download = client.get("/reports/download/", {"day": "2030-04-01", "format": "csv"})
    assert download.status_code == 200 and download.content.startswith(b"\xef\xbb\xbf")
    channels = AuditEvent.objects.filter(code="settlement.report.read").values_list(
        "payload__channel", flat=True
    )
    assert list(channels) == ["portal", "portal"]
    bad = client.get("/reports/download/", {"day": "2030-04-01", "format": "xlsx"})
    assert bad.status_code == 400


def test_portal_refuses_participants(cleared_market):
    for who in (cleared_market.alice, cleared_market.charlie):
        assert client_for(who).get("/reports/", {"day": "2030-04-01"}).status_code == 403
        assert client_for(who).get("/reports/download/", {"day": "2030-04-01"}).status_code == 403
