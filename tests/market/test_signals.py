"""Signals: publishers and readers over REST, carbon factors, best windows, interconnectors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from aggregator.platform.models import AuditEvent
from market import calendar, selectors
from market.choices import SignalKind
from market.models import CarbonFactor, Signal
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

T0 = datetime(2030, 5, 1, 0, 0, tzinfo=UTC)


def _points(values, start=T0):
    return [
        {"interval_start": calendar.iso_z(start + i * calendar.INTERVAL), "value": v}
        for i, v in enumerate(values)
    ]


def test_supplier_publishes_curtailment_and_latest_publication_wins(sue, alice):
    client = client_for(sue)
    body = {"kind": "curtailment_mw", "area": "kyushu", "values": _points([100, 250])}
    response = client.post("/api/v1/signals/", body, format="json")
    assert response.status_code == 201, response.json()
    later = {"kind": "curtailment_mw", "area": "kyushu", "values": _points([300])}
    assert client.post("/api/v1/signals/", later, format="json").status_code == 201
    series = selectors.signal_series(
        kind=SignalKind.CURTAILMENT_MW, area="kyushu", start=T0, end=T0 + timedelta(hours=1)
    )
    assert series == {T0: Decimal(300), T0 + calendar.INTERVAL: Decimal(250)}
    # Every participant reads signals, with source and publication time.
    listing = client_for(alice).get(
        "/api/v1/signals/", {"kind": "curtailment_mw", "area": "kyushu"}
    )
    rows = listing.json()["results"]
    assert len(rows) == 3 and rows[0]["publisher"] == "gamma" and rows[0]["published_at"]
    assert AuditEvent.objects.filter(code="market.signals.published").count() == 2


def test_only_the_right_role_publishes(sue, alice, rita, oscar):
    cap = {"kind": "area_cap_kw", "area": "tokyo", "values": _points([5000])}
    assert client_for(sue).post("/api/v1/signals/", cap, format="json").status_code == 403
    assert client_for(alice).post("/api/v1/signals/", cap, format="json").status_code == 403
    assert client_for(rita).post("/api/v1/signals/", cap, format="json").status_code == 403
    assert client_for(oscar).post("/api/v1/signals/", cap, format="json").status_code == 201


def test_bad_signal_values_write_nothing(oscar):
    before = Signal.objects.count(), AuditEvent.objects.count()
    body = {
        "kind": "area_cap_kw",
        "area": "tokyo",
        "values": [*_points([-5]), {"interval_start": "2030-05-01T00:10:00Z", "value": 1}],
    }
    response = client_for(oscar).post("/api/v1/signals/", body, format="json")
    assert response.status_code == 400
    assert len(response.json()["errors"]["values"]) == 2
    assert (Signal.objects.count(), AuditEvent.objects.count()) == before


def test_carbon_factors_import_is_idempotent_and_credited():
    out = StringIO()
    call_command("import_carbon_factors", stdout=out)
    assert "ODbL" in out.getvalue()
    call_command("import_carbon_factors", stdout=StringIO())
    assert CarbonFactor.objects.count() == 18
    assert CarbonFactor.objects.get(area_id="kyushu", year=2023).g_per_kwh == Decimal(307)
    assert selectors.carbon_factor(area="tokyo", year=2030) == Decimal(539)  # latest earlier year


def _prices(area, values):
    Signal.objects.bulk_create(
        Signal(
            kind=SignalKind.AREA_PRICE,
            area_id=area,
            interval_start=T0 + i * calendar.INTERVAL,
            value=Decimal(str(v)),
            source="test",
            published_at=T0 - timedelta(days=1),
        )
        for i, v in enumerate(values)
    )


def test_best_windows_by_price(alice):
    _prices("tokyo", [20, 18, 9, 8, 30, 5, 25, 25])
    _prices("kyushu", [0.01, 0.01, 12, 12, 12, 12, 12, 12])
    response = client_for(alice).get(
        "/api/v1/signals/best-windows/",
        {"areas": "tokyo,kyushu,hokkaido", "hours": 1, "within": 4, "start": calendar.iso_z(T0)},
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert [w["area"] for w in body["windows"]] == ["kyushu", "tokyo"]
    assert body["best"]["start"].startswith("2030-05-01T0") and body["best"]["mean"] == "0.0100"
    tokyo = body["windows"][1]
    # [9, 8] beats [30, 5] (17.5) and [20, 18]: mean 8.5 starting at interval 2.
    assert tokyo["mean"] == "8.5000"
    assert tokyo["start"] == (T0 + 2 * calendar.INTERVAL).astimezone(calendar.JST).isoformat()
    assert body["no_data"] == ["hokkaido"]


def test_best_windows_by_carbon_uses_annual_factors(alice):
    call_command("import_carbon_factors", stdout=StringIO())
    response = client_for(alice).get(
        "/api/v1/signals/best-windows/",
        {"areas": "tokyo,kyushu", "hours": 2, "metric": "carbon", "start": calendar.iso_z(T0)},
    )
    windows = response.json()["windows"]
    assert [w["area"] for w in windows] == ["kyushu", "tokyo"]
    assert windows[0]["mean"] == "309.0000"


def test_best_windows_without_trailing_slash(alice):
    response = client_for(alice).get("/api/v1/signals/best-windows", {"areas": "tokyo", "hours": 1})
    assert response.status_code == 200 and response.json()["no_data"] == ["tokyo"]


def test_best_windows_rejects_unknown_areas(alice):
    response = client_for(alice).get("/api/v1/signals/best-windows/", {"areas": "mars", "hours": 1})
    assert response.status_code == 400 and "areas" in response.json()["errors"]


def test_interconnectors_reference_data(alice):
    rows = client_for(alice).get("/api/v1/signals/interconnectors/").json()
    hokkaido = next(r for r in rows if r["link_id"] == "HKD-TH")
    assert hokkaido["fwd_max_mw"] == 900 and hokkaido["area_a"] == "hokkaido"
