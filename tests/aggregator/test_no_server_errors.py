"""Inputs that used to end in a 5xx: each is now a clear problem+json 4xx (issue 14).

The same requests run on SQLite and, in CI's second pass, on PostgreSQL (the out-of-range
UTC offset only failed there).
"""

from __future__ import annotations

import json

import pytest

from market import calendar
from tests.conftest import client_for, key_client
from tests.market.conftest import capacity_payload, inference_payload

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"

LISTS = [
    "capacity-offers", "energy-offers", "workloads", "signals", "clearing-runs",
    "allocations", "energy-awards", "capacity-sales", "orders", "meter-readings",
]  # fmt: skip


def _problem(response, status: int = 400) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith(PROBLEM), response["Content-Type"]
    return response.json()


@pytest.fixture
def client(alice, alpha_site):
    api, _key = key_client(alice)
    return api


@pytest.mark.parametrize("endpoint", LISTS)
@pytest.mark.parametrize("field", ["interval_from", "interval_to"])
def test_a_utc_offset_beyond_any_timezone_is_refused(client, endpoint, field):
    body = _problem(client.get(f"/api/v1/{endpoint}/", {field: "2026-12-04T12:00:00-19:00"}))
    assert field in body["errors"] and "offset" in body["errors"][field][0]


@pytest.mark.parametrize("endpoint", LISTS)
def test_a_real_offset_still_filters(client, endpoint):
    response = client.get(f"/api/v1/{endpoint}/", {"interval_from": "2026-12-04T12:00:00+09:00"})
    assert response.status_code == 200, response.content[:300]


@pytest.mark.parametrize("body", [[1, 2], "abc", 7, None])
def test_a_meter_reading_that_is_not_an_object(client, body):
    response = client.post(
        "/api/v1/meter-readings/", json.dumps(body), content_type="application/json"
    )
    _problem(response)


def test_an_empty_csv_body(client):
    response = client.post("/api/v1/meter-readings/csv/", b"", content_type="text/csv")
    assert "empty" in _problem(response)["errors"]["file"][0]


@pytest.mark.parametrize("start", ["2026-02-30T09:00:00+09:00", "2026-12-04T25:00:00+09:00"])
def test_an_impossible_date_in_a_bid(client, start):
    body = _problem(
        client.post("/api/v1/capacity-offers/", capacity_payload(start=start), format="json")
    )
    assert "start" in body["errors"]
    bulk = {"bids": [{"type": "capacity", **capacity_payload(start=start)}]}
    body = _problem(client.post("/api/v1/bids/bulk", bulk, format="json"))
    assert "start" in body["errors"]["bids"][0]["errors"]


@pytest.mark.parametrize(
    "query", [{"from": "9999-12-31T23:00:00Z"}, {"from": "0001-01-01T00:00:00Z"},
              {"to": "9999-12-31T23:30:00Z"}, {"from": "2026-12-04T00:00:00+23:59"}],
)  # fmt: skip
def test_results_at_the_ends_of_the_calendar(client, query):
    _problem(client.get("/api/v1/results/", query))


@pytest.mark.parametrize("month", ["9999-12", "0000-01", "2026-13", "2026-00"])
def test_statements_of_impossible_months(client, month):
    _problem(client.get("/api/v1/statements/", {"month": month}))
    _problem(client.get(f"/api/v1/statements/{month}/csv"))
    _problem(client.get(f"/api/v1/invoices/{month}/pdf"))


@pytest.mark.parametrize("month", ["9999-12", "0000-01"])
def test_portal_statements_of_impossible_months(alice, month):
    portal = client_for(alice)
    page = portal.get("/settlement/", {"month": month}, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and "Give the month as YYYY-MM" in page.content.decode()
    assert portal.get(f"/settlement/statements/{month}/csv").status_code == 400


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_portal_pages_at_the_ends_of_the_calendar(alice, day):
    portal = client_for(alice)
    for page in ("/market/bids/", "/market/results/"):
        assert portal.get(page, {"day": day}).status_code in (200, 400), page


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_not_a_number_in_signals_and_events(client, value):
    _problem(client.get("/api/v1/signals/best-windows", {"areas": "tokyo", "hours": value}))
    _problem(client.get("/api/v1/signals/best-windows", {"areas": "tokyo", "within": value}))
    k = calendar.iso_z(
        calendar.first_open_interval(
            calendar.as_utc(calendar.parse_iso("2030-01-01T00:00:00Z")), 60
        )
    )
    outage = f'{{"site": "alpha-tky-1", "interval": "{k}", "cu_available": {value}}}'
    _problem(client.post("/api/v1/events/outage", outage, content_type="application/json"))
    change = f'{{"offer": "en-1", "interval": "{k}", "kwh": {value}}}'
    _problem(client.post("/api/v1/events/energy-offer", change, content_type="application/json"))


def test_json_nested_very_deep(client):
    deep = "[" * 100_000 + "]" * 100_000
    _problem(client.post("/api/v1/bids/bulk", deep, content_type="application/json"))


def test_an_idempotency_key_with_a_nul(client):
    response = client.post(
        "/api/v1/capacity-offers/", capacity_payload(), format="json",
        headers={"Idempotency-Key": "abc\x00def"},
    )  # fmt: skip
    assert "Idempotency-Key" in _problem(response)["detail"]


def test_a_lone_surrogate_is_not_echoed_into_a_broken_response(client):
    raw = '{"start": "2026-12-04T12:00:00+09:00", "intervals": 1, "site": "\\ud800", "cu": 1, "price": 1}'
    body = _problem(client.post("/api/v1/capacity-offers/", raw, content_type="application/json"))
    assert "site" in body["errors"]


@pytest.mark.parametrize("public_id", ["wl-²", "cap-٣", "en-１"])
def test_ids_with_non_ascii_digits(client, public_id):
    k = calendar.iso_z(calendar.parse_iso("2030-01-01T00:00:00Z"))
    change = {"offer": public_id, "interval": k, "kwh": 1}
    assert client.post("/api/v1/events/energy-offer", change, format="json").status_code == 400
    reading = {"kind": "workload_cu", "subject": public_id, "interval_start": k, "cu": 1}
    assert client.post("/api/v1/meter-readings/", reading, format="json").status_code == 400


def test_an_invoice_number_with_non_ascii_digits(client):
    response = client.patch(
        "/api/v1/organisations/me/", {"invoice_registration_number": "T" + "²" * 13}, format="json"
    )
    assert response.status_code in (400, 405)
    org_id = client.get("/api/v1/organisations/me/").json()["id"]
    response = client.patch(
        f"/api/v1/organisations/{org_id}/",
        {"invoice_registration_number": "T" + "²" * 13},
        format="json",
    )
    _problem(response)


@pytest.mark.parametrize(
    "item",
    [
        {"type": "energy", "area": ["kyushu"]},
        {"type": "workload", "zone": ["tokyo"]},
        {"type": "workload", "kind": "batch", "home_site": {}},
        {"type": "capacity", "site": ["alpha-tky-1"]},
        {"type": "workload", "accelerator": {"a": 1}},
        {"type": "workload", "allowed_areas": [["tokyo"]]},
    ],
)
def test_bulk_items_with_the_wrong_shapes(client, item):
    base = (
        {**inference_payload(), "remaining_cu_intervals": 10} if item["type"] == "workload" else {}
    )
    bulk = {"bids": [{**base, **item}]}
    body = _problem(client.post("/api/v1/bids/bulk", bulk, format="json"))
    assert body["errors"]["bids"][0]["index"] == 0


@pytest.mark.parametrize(
    "url", ["https://example.com:99999/hook", "https://[::1/hook", "https://exa mple.com/"]
)
def test_a_webhook_url_that_cannot_be_parsed(client, url):
    body = _problem(client.post("/api/v1/webhook-endpoints/", {"url": url}, format="json"))
    assert "url" in body["errors"]


def test_a_body_over_the_cap_is_refused_with_413_before_it_is_parsed(client, settings):
    settings.MAX_REQUEST_BODY_BYTES = 1000
    big = json.dumps({"bids": [{"type": "capacity", **capacity_payload()}] * 50})
    body = _problem(client.post("/api/v1/bids/bulk", big, content_type="application/json"), 413)
    assert "larger than" in body["detail"]
    csv_body = b"kind,interval_start\n" + b"x,y\n" * 500
    _problem(client.post("/api/v1/meter-readings/csv/", csv_body, content_type="text/csv"), 413)
    assert client.get("/api/v1/sites/").status_code == 200  # no body, no limit


def test_an_unexpected_error_is_problem_json_even_in_debug(client, settings, monkeypatch):
    from market.api import clearing_views

    settings.DEBUG = True

    def broken(**kwargs):
        raise RuntimeError("internal detail that must not leak")

    monkeypatch.setattr(clearing_views.clearing_selectors, "public_results", broken)
    client.raise_request_exception = False
    body = _problem(client.get("/api/v1/results/"), 500)
    assert "internal detail" not in json.dumps(body)


def test_a_percent_sign_in_a_filter_value(client):
    """django-filter formats its messages with %: a client's % must not break that."""
    body = _problem(client.get("/api/v1/energy-awards/", {"interval": "%s%d %"}))
    assert "interval" in body["errors"]


@pytest.mark.parametrize(
    "value", ["1e1000000", "1e5000", "9" * 100_000, 10**30, "-1e400", "1e15", 10_000_001]
)
def test_huge_numbers_are_a_field_named_400(client, value):
    """'1e1000000' as kWh once held a gunicorn worker past its timeout (int() of it)."""
    from operators.choices import MemberRole
    from tests.conftest import _member, _org

    supplier, _key = key_client(_member(_org("gamma", ["power_supplier"]), "sue", MemberRole.ADMIN))
    offer = {"start": capacity_payload()["start"], "intervals": 1, "area": "kyushu",
             "kwh": value, "price": 1, "carbon_g_per_kwh": 20}  # fmt: skip
    body = _problem(supplier.post("/api/v1/energy-offers/", offer, format="json"))
    assert "kwh" in body["errors"]
    cap = capacity_payload(cu=value)
    assert "cu" in _problem(client.post("/api/v1/capacity-offers/", cap, format="json"))["errors"]
    priced = capacity_payload(price=value)
    assert (
        "price"
        in _problem(client.post("/api/v1/capacity-offers/", priced, format="json"))["errors"]
    )


def test_an_empty_profile_with_an_invalid_interval_count(client):
    """Found by the fuzzer: `cu: []` with a broken `intervals` reached max([])."""
    payload = capacity_payload(cu=[], intervals=-4)
    body = _problem(client.post("/api/v1/capacity-offers/", payload, format="json"))
    assert "cu" in body["errors"] and "intervals" in body["errors"]
