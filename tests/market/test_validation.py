"""Bad bids get per-field errors and write nothing: no bid, no revision, no audit event."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aggregator.platform.models import AuditEvent
from market.models import BidRevision, CapacityOffer, EnergyOffer, WorkloadBid
from tests.conftest import client_for
from tests.market.conftest import batch_payload, capacity_payload, energy_payload, inference_payload

pytestmark = pytest.mark.django_db


def _counts():
    return (
        CapacityOffer.objects.count(),
        EnergyOffer.objects.count(),
        WorkloadBid.objects.count(),
        BidRevision.objects.count(),
        AuditEvent.objects.count(),
    )


def _post(membership, endpoint, payload):
    before = _counts()
    response = client_for(membership).post(f"/api/v1/{endpoint}/", payload, format="json")
    assert response.status_code == 400, response.json()
    assert response["Content-Type"] == "application/problem+json"
    assert _counts() == before
    return response.json()["errors"]


@pytest.mark.parametrize(
    ("change", "field", "phrase"),
    [
        ({"start": "2020-01-01T00:00:00Z"}, "start", "past its gate closure"),
        ({"start": "2031-01-01T00:15:00Z"}, "start", "hour or half hour"),
        ({"start": "2031-01-01T00:00:00"}, "start", "timezone"),
        ({"start": "2099-01-01T00:00:00Z"}, "start", "days ahead"),
        ({"intervals": 0}, "intervals", "Between 1"),
        ({"cu": [1, 2, 3]}, "cu", "Give 4 values"),
        ({"cu": [1, -2, 3, 4]}, "cu", "cannot be negative"),
        ({"cu": [1, "x", 3, 4]}, "cu", "not a number"),
        ({"cu": 10_000}, "cu", "capacity of 64 CU"),
        ({"price": -5}, "price", "below the market minimum"),
        ({"price": [1, 2, 3, 10**7]}, "price", "above the market maximum"),
        ({"site": "nowhere-1"}, "site", "Unknown or inactive site"),
        ({"site": "beta-kyu-1"}, "site", "not yours"),
    ],
)
def test_capacity_rules(trent, alpha_site, beta_site, change, field, phrase):
    errors = _post(trent, "capacity-offers", capacity_payload(**change))
    assert field in errors, errors
    assert any(phrase in m for m in errors[field]), errors


@pytest.mark.parametrize(
    ("change", "field", "phrase"),
    [
        ({"area": "okinawa"}, "area", "Unknown grid area"),
        ({"kwh": [-1, 0, 0, 0]}, "kwh", "cannot be negative"),
        ({"price": -1000}, "price", "below the market minimum"),
        ({"carbon_g_per_kwh": -3}, "carbon_g_per_kwh", "negative"),
    ],
)
def test_energy_rules(sue, change, field, phrase):
    errors = _post(sue, "energy-offers", energy_payload(**change))
    assert any(phrase in m for m in errors[field]), errors


def test_negative_energy_price_is_allowed_for_curtailment_relief(sue):
    response = client_for(sue).post(
        "/api/v1/energy-offers/", energy_payload(price=-2), format="json"
    )
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize(
    ("payload", "field", "phrase"),
    [
        (inference_payload(accelerator="b200"), "accelerator", "No registered site offers 'b200'"),
        (
            inference_payload(residency_tags=["gov"]),
            "residency_tags",
            "No 'h100' site meets residency",
        ),
        (inference_payload(max_latency_ms=1), "max_latency_ms", "within 1 ms of 'tokyo'"),
        (batch_payload(allowed_areas=["hokkaido"]), "allowed_areas", "allowed areas"),
        (inference_payload(demand=[1, 2]), "demand", "Give 4 values"),
        (inference_payload(demand=[1, 2, -3, 4]), "demand", "cannot be negative"),
        (inference_payload(limit_price=300_000), "limit_price", "market maximum"),
        (inference_payload(zone="atlantis"), "zone", "Unknown demand zone"),
        (inference_payload(gang=8), "gang", "Only for batch"),
        (batch_payload(remaining_cu_intervals=0), "remaining_cu_intervals", "greater than 0"),
        (batch_payload(gang=64), "gang", "Larger than max_cu"),
        (batch_payload(home_site="nowhere"), "home_site", "Unknown or inactive site"),
        (batch_payload(demand=[1] * 8), "demand", "Only for inference"),
        (inference_payload(kind="training"), "kind", "Choose one of"),
    ],
)
def test_workload_rules(trent, alpha_site, payload, field, phrase):
    errors = _post(trent, "workloads", payload)
    assert any(phrase in m for m in errors.get(field, [])), errors


def test_several_errors_are_reported_together(trent, alpha_site):
    errors = _post(trent, "capacity-offers", capacity_payload(cu=[-1] * 4, price=-1, site="x"))
    assert {"cu", "price", "site"} <= set(errors)


def test_amend_with_bad_data_writes_nothing(trent, alpha_site):
    client = client_for(trent)
    bid_id = client.post("/api/v1/capacity-offers/", capacity_payload(), format="json").json()["id"]
    before = _counts()
    response = client.patch(f"/api/v1/capacity-offers/{bid_id}/", {"cu": [1, 2]}, format="json")
    assert response.status_code == 400 and "cu" in response.json()["errors"]
    assert _counts() == before
    assert CapacityOffer.objects.get(pk=bid_id).revision == 1


def test_past_start_is_behind_gate_closure():
    from market.validation import BidContext, clean_bid

    ctx = BidContext(
        now=datetime(2030, 1, 1, 2, 0, 1, tzinfo=UTC), params=_params(), organisation_id=0
    )
    _fields, errors = clean_bid("energy", {"start": "2030-01-01T03:00:00Z", "intervals": 1}, ctx)
    assert "earliest open interval starts 2030-01-01 12:30 JST" in errors["start"][0]


def _params():
    from market.models import MarketParameters

    return MarketParameters()
