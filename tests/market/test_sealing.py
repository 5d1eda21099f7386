"""Sealed bids: before clearing only the owner reads them — through every door."""

from __future__ import annotations

import pytest
from django.test import Client

from market import selectors
from market.choices import BidStatus
from market.models import CapacityOffer, EnergyOffer, WorkloadBid
from tests.conftest import actor_of, client_for, key_client
from tests.market.conftest import capacity_payload, energy_payload, inference_payload

pytestmark = pytest.mark.django_db

ENDPOINTS = ("capacity-offers", "workloads", "energy-offers")


@pytest.fixture
def sealed(alice, sue, alpha_site):
    """One bid of each type, all still sealed."""
    owner = client_for(alice)
    ids = {
        "capacity-offers": owner.post(
            "/api/v1/capacity-offers/", capacity_payload(), format="json"
        ),
        "workloads": owner.post("/api/v1/workloads/", inference_payload(), format="json"),
        "energy-offers": client_for(sue).post(
            "/api/v1/energy-offers/", energy_payload(), format="json"
        ),
    }
    for response in ids.values():
        assert response.status_code == 201, response.json()
    return {name: response.json()["id"] for name, response in ids.items()}


def test_owner_reads_its_bids(alice, bob, sealed):
    for client in (client_for(alice), client_for(bob)):  # teammate with read scope too
        assert (
            client.get(f"/api/v1/capacity-offers/{sealed['capacity-offers']}/").status_code == 200
        )
        assert len(client.get("/api/v1/workloads/").json()["results"]) == 1


@pytest.mark.parametrize("who", ["charlie", "rita", "oscar"])
def test_other_organisations_regulators_and_operator_staff_see_nothing(request, who, sealed):
    client = client_for(request.getfixturevalue(who))
    for endpoint in ENDPOINTS:
        assert client.get(f"/api/v1/{endpoint}/").json()["results"] == []
        bid_id = sealed[endpoint]
        assert client.get(f"/api/v1/{endpoint}/{bid_id}/").status_code == 404
        assert client.get(f"/api/v1/{endpoint}/{bid_id}/revisions/").status_code == 404


def test_another_organisations_api_key_sees_nothing_and_cannot_change(charlie, sealed):
    client, _key = key_client(charlie)
    bid_id = sealed["capacity-offers"]
    assert client.get(f"/api/v1/capacity-offers/{bid_id}/").status_code == 404
    assert (
        client.patch(f"/api/v1/capacity-offers/{bid_id}/", {"price": 1}, format="json").status_code
        == 404
    )
    assert client.delete(f"/api/v1/capacity-offers/{bid_id}/").status_code == 404
    assert CapacityOffer.objects.get(pk=bid_id).status == BidStatus.SUBMITTED


def test_regulator_cannot_write(rita, sealed):
    response = client_for(rita).post("/api/v1/workloads/", inference_payload(), format="json")
    assert response.status_code == 403


def test_selectors_scope_to_the_owner(alice, charlie, rita, oscar, sealed):
    assert selectors.capacity_offer_list(actor=actor_of(alice)).count() == 1
    for outsider in (charlie, rita, oscar):
        actor = actor_of(outsider)
        assert not selectors.capacity_offer_list(actor=actor).exists()
        assert not selectors.workload_bid_list(actor=actor).exists()
        assert not selectors.energy_offer_list(actor=actor).exists()
        assert not selectors.bid_revision_list(
            actor=actor, bid_type="capacity", bid_id=sealed["capacity-offers"]
        ).exists()


def _browser(oscar) -> Client:
    client = Client()
    client.force_login(oscar.user)
    return client


@pytest.mark.parametrize(
    ("model", "endpoint"),
    [
        (CapacityOffer, "capacity-offers"),
        (EnergyOffer, "energy-offers"),
        (WorkloadBid, "workloads"),
    ],
)
def test_django_admin_shows_sealed_bids_to_nobody(oscar, sealed, model, endpoint):
    client = _browser(oscar)
    name = model._meta.model_name
    bid_id = sealed[endpoint]
    listing = client.get(f"/admin/market/{name}/")
    assert listing.status_code == 200
    assert f"/admin/market/{name}/{bid_id}/change/" not in listing.content.decode()
    detail = client.get(f"/admin/market/{name}/{bid_id}/change/")
    assert detail.status_code == 302  # "does not exist" → back to the admin index
    # Once cleared the seal is lifted for the operator (read-only), proving the filter is real.
    model.objects.filter(pk=bid_id).update(status=BidStatus.CLEARED)
    assert (
        f"/admin/market/{name}/{bid_id}/change/"
        in client.get(f"/admin/market/{name}/").content.decode()
    )
    assert client.get(f"/admin/market/{name}/{bid_id}/change/").status_code == 200


def test_django_admin_has_no_revisions_or_idempotency_pages(oscar, sealed):
    client = _browser(oscar)
    assert client.get("/admin/market/bidrevision/").status_code == 404
    assert client.get("/admin/market/idempotencykey/").status_code == 404


def test_portal_shows_bids_to_the_owner_only(alice, charlie, rita, oscar, sealed):
    bid_id = sealed["capacity-offers"]
    owner = _browser(alice)
    assert f"cap-{bid_id}" in owner.get("/market/bids/").content.decode()
    detail = owner.get(f"/market/bids/capacity/{bid_id}/")
    assert detail.status_code == 200 and "alpha-tky-1" in detail.content.decode()
    for outsider in (charlie, rita, oscar):
        client = _browser(outsider)
        assert f"cap-{bid_id}" not in client.get("/market/bids/").content.decode()
        assert client.get(f"/market/bids/capacity/{bid_id}/").status_code == 404
