"""Carbon-Aware SDK–compatible windows: the SDK's query style and response shapes, values from
the market's public signals, and clear 400s for what a scheduler can get wrong."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest
from rest_framework.test import APIClient

from market.carbon_aware_locations import LOCATIONS, PREFECTURES, area_of
from market.choices import SignalKind
from market.models import CarbonFactor, Signal

pytestmark = pytest.mark.django_db

BASE = "/api/v1/carbon-aware"
SCHEMA = json.loads(
    (Path(__file__).parent / "data" / "carbon_aware_sdk_v1.schema.json").read_text()
)
T0 = datetime(2030, 6, 1, 0, 0, tzinfo=UTC)
HALF = timedelta(minutes=30)
# Kyushu's six intervals from T0: carbon published per interval; curtailment in the 3rd.
KYUSHU_CARBON = [Decimal(v) for v in ("420", "380", "350", "300", "310", "500")]
KYUSHU_PRICE = [Decimal(v) for v in ("9.1", "8.2", "0.01", "0.01", "7.5", "12.0")]
TOKYO_FACTOR = Decimal("455.00")


def _js_iso(at: datetime) -> str:
    """An instant as JavaScript's Date.toISOString() writes it (generated SDK clients)."""
    return at.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _signal(kind, area, i, value, published=T0 - timedelta(hours=14)):
    Signal.objects.create(kind=kind, area_id=area, interval_start=T0 + i * HALF, value=value,
                          source="test", published_at=published)  # fmt: skip


@pytest.fixture
def signals(db):
    for i, (carbon, price) in enumerate(zip(KYUSHU_CARBON, KYUSHU_PRICE, strict=True)):
        _signal(SignalKind.CARBON, "kyushu", i, carbon)
        _signal(SignalKind.AREA_PRICE, "kyushu", i, price)
        _signal(SignalKind.SYSTEM_PRICE, None, i, Decimal("10"))
    _signal(SignalKind.CURTAILMENT_MW, "kyushu", 2, Decimal("120.5"))
    _signal(SignalKind.CURTAILMENT_MW, "kyushu", 3, Decimal("0"))  # forecast, none curtailed
    CarbonFactor.objects.filter(area_id="tokyo").delete()
    CarbonFactor.objects.create(area_id="tokyo", year=2030, g_per_kwh=TOKYO_FACTOR)


def _get(path, params):
    client = APIClient()  # no credentials: schedulers call it as they call the SDK
    return client.get(f"{BASE}{path}", params, HTTP_ACCEPT="application/json")


def _expected_ratings(window: int) -> list[Decimal]:
    ratings = [Decimal(0) if i == 2 else c for i, c in enumerate(KYUSHU_CARBON)]
    means = [sum(ratings[i : i + window]) / window for i in range(len(ratings) - window + 1)]
    return [m.quantize(Decimal("0.0001")) for m in means]


def test_current_forecast_as_an_sdk_client_asks_for_it(signals):
    response = _get(
        "/emissions/forecasts/current",
        {"location": ["kyushu", "japaneast"], "dataStartAt": _js_iso(T0),
         "dataEndAt": _js_iso(T0 + 6 * HALF), "windowSize": 60},
    )  # fmt: skip
    assert response.status_code == 200, response.content
    body = response.json()
    jsonschema.validate(
        body, {"type": "array", "items": {"$ref": "#/$defs/EmissionsForecastDTO"}, **SCHEMA}
    )
    kyushu, tokyo = body
    assert [kyushu["location"], tokyo["location"]] == ["kyushu", "japaneast"]
    assert kyushu["windowSize"] == 60
    # Rolling one-hour means over the six points, the curtailed interval rated 0.
    expected = _expected_ratings(2)
    assert [Decimal(str(p["value"])) for p in kyushu["forecastData"]] == expected
    assert all(p["duration"] == 60 for p in kyushu["forecastData"])
    assert [datetime.fromisoformat(p["timestamp"]) for p in kyushu["forecastData"]] == [
        T0 + i * HALF for i in range(5)
    ]
    [best] = kyushu["optimalDataPoints"]
    assert Decimal(str(best["value"])) == min(expected)
    assert datetime.fromisoformat(best["timestamp"]) == T0 + 2 * HALF  # 0 and 300 → 150
    # Tokyo has no published carbon: its annual factor, flat; generated at request time.
    assert {p["value"] for p in tokyo["forecastData"]} == {float(TOKYO_FACTOR)}
    assert datetime.fromisoformat(kyushu["generatedAt"]) == T0 - timedelta(hours=14)


def test_equal_ratings_list_the_cheapest_window_first(signals):
    Signal.objects.filter(kind=SignalKind.CURTAILMENT_MW).delete()
    Signal.objects.filter(kind=SignalKind.CARBON, area_id="kyushu").update(value=Decimal("300"))
    response = _get(
        "/emissions/forecasts/current",
        {"location": "kyushu", "dataStartAt": _js_iso(T0), "dataEndAt": _js_iso(T0 + 6 * HALF)},
    )
    optimal = response.json()[0]["optimalDataPoints"]
    assert len(optimal) == 6  # every point ties at 300
    starts = [datetime.fromisoformat(p["timestamp"]) for p in optimal]
    # Ordered by JEPX price (0.01, 0.01, 7.5, 8.2, 9.1, 12.0), then time.
    assert starts[:3] == [T0 + 2 * HALF, T0 + 3 * HALF, T0 + 4 * HALF]
    assert starts[-1] == T0 + 5 * HALF


def test_best_over_several_locations(signals):
    response = _get(
        "/emissions/bylocations/best",
        {"location": ["JP-TK", "九州", "福岡県"], "time": _js_iso(T0),
         "toTime": _js_iso(T0 + 6 * HALF), "duration": 30},
    )  # fmt: skip
    assert response.status_code == 200, response.content
    body = response.json()
    jsonschema.validate(
        body, {"type": "array", "items": {"$ref": "#/$defs/EmissionsData"}, **SCHEMA}
    )
    # Both Kyushu names rate the curtailed interval 0; Tokyo (455) never wins.
    assert {b["location"] for b in body} == {"九州", "福岡県"}
    assert {b["rating"] for b in body} == {0.0}
    assert {b["duration"] for b in body} == {"00:30:00"}


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"location": "mars-1"}, "location", "Valid names"),
        ({"location": "沖縄県"}, "location", "Unknown location"),
        ({}, "location", "at least one location"),
        ({"location": "kyushu", "windowSize": 45}, "windowSize", "30-minute"),
        ({"location": "kyushu", "windowSize": 0}, "windowSize", ""),
        ({"location": "kyushu", "dataStartAt": "2030-06-01T00:00:00Z",
          "dataEndAt": "2030-06-09T00:00:00Z"}, "dataEndAt", "seven days"),
        ({"location": "kyushu", "dataStartAt": "2030-06-01T02:00:00Z",
          "dataEndAt": "2030-06-01T01:00:00Z"}, "dataEndAt", "after the start"),
        ({"location": "kyushu", "dataStartAt": "2030-06-01T00:00:00Z",
          "dataEndAt": "2030-06-01T00:30:00Z", "windowSize": 60}, "dataEndAt", "one window"),
        ({"location": "kyushu", "dataStartAt": "yesterday"}, "dataStartAt", ""),
    ],
)  # fmt: skip
def test_what_a_scheduler_gets_wrong_is_a_clear_400(signals, params, field, words):
    response = _get("/emissions/forecasts/current", params)
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    errors = response.json()["errors"]
    assert field in errors and words in " ".join(errors[field])
    if "Valid names" in words:
        assert "japaneast" in errors[field][0] and "kyushu" in errors[field][0]


def test_the_location_map_covers_areas_prefectures_and_cloud_regions():
    assert {area_of(p[0]) for p in PREFECTURES} == {
        "hokkaido", "tohoku", "tokyo", "chubu", "hokuriku", "kansai", "chugoku", "shikoku",
        "kyushu",
    }  # fmt: skip
    assert len(PREFECTURES) == 46  # every prefecture but Okinawa, off the JEPX grid
    cases = {"Japan East": None, " JapanEast ": "tokyo", "ap-northeast-3": "kansai",
             "北海道": "hokkaido", "大阪府": "kansai", "京都": "kansai", "東京都": "tokyo",
             "関西": "kansai", "中国": "chugoku", "JP-KY": "kyushu", "shizuoka": "chubu"}  # fmt: skip
    for name, area in cases.items():
        assert area_of(name) == area, name
    listed = APIClient().get(f"{BASE}/locations").json()
    assert listed == dict(sorted(LOCATIONS.items()))


def test_errors_come_in_japanese_when_asked(signals):
    response = APIClient().get(
        f"{BASE}/emissions/forecasts/current",
        {"location": "kyushu", "windowSize": 45},
        HTTP_ACCEPT_LANGUAGE="ja",
    )
    assert response.status_code == 400
    assert response.json()["errors"]["windowSize"] == [
        "分数は30分単位で指定してください（30、60、90…）。"
    ]
