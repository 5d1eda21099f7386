"""The meter data export: one's own readings of a JST month, every revision, in the upload's
columns; a regulator's, everyone's; a bad month is refused."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.utils import timezone

from market import calendar
from settlement.models import MeterReading
from settlement.services.meter import CSV_COLUMNS, meter_report_bulk, meter_report_csv
from tests.conftest import actor_of, client_for
from tests.settlement.conftest import ended, full_readings

pytestmark = pytest.mark.django_db
URL = "/settlement/meter/export.csv"
MONTH = "2030-04"  # the cycle market's intervals are on 2030-04-01 JST


def _rows(who, **query) -> tuple[list[str], list[dict[str, str]]]:
    response = client_for(who).get(URL, query)
    assert response.status_code == 200, response.content
    month = query.get("month") or f"{calendar.to_jst(timezone.now()):%Y-%m}"
    assert response["Content-Disposition"] == f'attachment; filename="wattbit-meter-{month}.csv"'
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    return rows[0], [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


@pytest.fixture
def metered(cleared):
    """alpha and beta report compute for the first interval, gamma its supply; alpha then
    corrects its reading (revision 2)."""
    k = cleared.k(0)
    provider, supplier = full_readings(k)
    for who in (cleared.alice, cleared.charlie):
        own = [
            i for i in provider if i["site"].startswith("alpha" if who is cleared.alice else "beta")
        ]
        meter_report_bulk(actor=actor_of(who), items=own, now=ended(k))
    meter_report_bulk(actor=actor_of(cleared.sue), items=supplier, now=ended(k))
    alpha = next(i for i in provider if i["site"].startswith("alpha"))
    meter_report_bulk(actor=actor_of(cleared.alice), items=[{**alpha, "cu": "1.5"}], now=ended(k))
    return cleared


def test_own_readings_of_the_month_every_revision(metered):
    header, alice = _rows(metered.alice, month=MONTH)
    assert header[: len(CSV_COLUMNS)] == list(CSV_COLUMNS)  # the upload's own columns
    own = MeterReading.objects.filter(organisation__slug="alpha")
    assert len(alice) == own.count() == 2  # the reading and its correction
    assert {r["organisation"] for r in alice} == {"alpha"}
    assert [r["revision"] for r in alice] == ["1", "2"]
    assert alice[1]["cu"] == format(Decimal("1.5"), "f") + "00000"  # as stored: 6 places
    first = own.order_by("revision").first()
    assert alice[0]["interval_start"] == calendar.to_jst(first.interval_start).isoformat()
    assert alice[0]["interval_start"].endswith("+09:00")
    assert alice[0]["workload"] == f"wl-{first.workload_id}" and alice[0]["late"] == "false"
    # Nothing of beta's or gamma's.
    assert not {r["site"] for r in alice} & {"beta-kyu-1"}
    _h, sue = _rows(metered.sue, month=MONTH)
    assert {r["kind"] for r in sue} == {"supply"} and {r["organisation"] for r in sue} == {"gamma"}
    assert all(r["offer"].startswith("en-") for r in sue)
    # The regulator sees every organisation's.
    _h, rita = _rows(metered.rita, month=MONTH)
    assert len(rita) == MeterReading.objects.count()
    assert {r["organisation"] for r in rita} == {"alpha", "beta", "gamma"}


def test_the_month_filter_applies_and_a_bad_month_is_refused(metered):
    _h, march = _rows(metered.alice, month="2030-03")
    assert march == []
    response = client_for(metered.alice).get(URL, {"month": "2030-13"})
    assert response.status_code == 400
    response = client_for(metered.alice).get(URL, {"month": "April"})
    assert response.status_code == 400


def test_an_exported_file_goes_back_through_the_upload(metered):
    """The first seven columns are the upload's: the file is accepted as a correction."""
    _h, alice = _rows(metered.alice, month=MONTH)
    latest = alice[-1]
    text = ",".join(CSV_COLUMNS) + "\n" + ",".join(latest[c] for c in CSV_COLUMNS) + "\n"
    k = metered.k(0)
    rows = meter_report_csv(actor=actor_of(metered.alice), content=text.encode(), now=ended(k))
    assert rows[0].revision == 3 and rows[0].cu == Decimal("1.5")


def test_without_a_month_the_export_is_this_months(metered):
    _h, now = _rows(metered.alice)  # the market's readings are in 2030, not this month
    assert now == []


def test_the_upload_page_offers_the_download(metered):
    html = client_for(metered.alice).get("/settlement/meter/").content.decode()
    assert 'action="/settlement/meter/export.csv"' in html and 'name="month"' in html
