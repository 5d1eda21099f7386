"""Bid lifecycle: submit → amend (revisions kept) → cancel, frozen at the gate-closure second."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aggregator.platform.errors import Conflict, Forbidden, InvalidInput
from aggregator.platform.models import AuditEvent
from market import calendar, services
from market.choices import BidStatus, BidType
from market.models import BidRevision, CapacityOffer
from tests.conftest import actor_of, client_for
from tests.market.conftest import capacity_payload, energy_payload, inference_payload

pytestmark = pytest.mark.django_db

START = datetime(2030, 4, 1, 3, 0, tzinfo=UTC)  # 12:00 JST
GATE = START - timedelta(minutes=60)


def _offer(alice, alpha_site, now):
    data = {**capacity_payload(), "start": calendar.iso_z(START)}
    return services.bid_submit(actor=actor_of(alice), bid_type=BidType.CAPACITY, data=data, now=now)


def test_submit_stores_revision_one_and_audits_a_hash_not_the_content(alice, alpha_site):
    bid = _offer(alice, alpha_site, GATE - timedelta(hours=2))
    assert bid.status == BidStatus.SUBMITTED and bid.revision == 1
    assert bid.gate_closure == GATE
    assert bid.end == START + 4 * calendar.INTERVAL
    revision = BidRevision.objects.get(bid_type="capacity", bid_id=bid.pk)
    assert revision.data["cu"] == [32, 32, 32, 32]
    event = AuditEvent.objects.get(code="market.bid.submitted")
    assert event.payload["content_sha256"] == revision.content_sha256
    assert "cu" not in event.payload and "price" not in event.payload


def test_amend_keeps_earlier_revisions(alice, alpha_site):
    now = GATE - timedelta(hours=2)
    bid = _offer(alice, alpha_site, now)
    bid = services.bid_amend(actor=actor_of(alice), bid=bid, changes={"price": 150}, now=now)
    bid = services.bid_amend(actor=actor_of(alice), bid=bid, changes={"cu": 10}, now=now)
    assert bid.revision == 3 and bid.status == BidStatus.AMENDED
    assert bid.price == ["150.0000"] * 4 and bid.cu == [10] * 4
    revisions = list(BidRevision.objects.filter(bid_id=bid.pk).order_by("revision"))
    assert [r.data["price"][0] for r in revisions] == ["180.0000", "150.0000", "150.0000"]
    assert [r.data["cu"][0] for r in revisions] == [32, 32, 10]


def test_amend_one_second_before_gate_closure_works_and_at_it_is_409(alice, alpha_site):
    bid = _offer(alice, alpha_site, GATE - timedelta(hours=2))
    services.bid_amend(
        actor=actor_of(alice), bid=bid, changes={"price": 170}, now=GATE - timedelta(seconds=1)
    )
    with pytest.raises(Conflict, match=r"Gate closure .* passed"):
        services.bid_amend(actor=actor_of(alice), bid=bid, changes={"price": 160}, now=GATE)
    with pytest.raises(Conflict, match="frozen"):
        services.bid_cancel(actor=actor_of(alice), bid=bid, now=GATE)
    bid.refresh_from_db()
    assert bid.price[0] == "170.0000" and bid.revision == 2


def test_submit_at_the_gate_closure_second_is_refused(alice, alpha_site):
    _offer(alice, alpha_site, GATE - timedelta(seconds=1))
    with pytest.raises(InvalidInput) as excinfo:
        _offer(alice, alpha_site, GATE)
    assert "gate closure" in excinfo.value.errors["start"][0]
    assert CapacityOffer.objects.count() == 1


def test_cancel_keeps_the_bid_and_a_final_revision(alice, alpha_site):
    now = GATE - timedelta(hours=1)
    bid = _offer(alice, alpha_site, now)
    bid = services.bid_cancel(actor=actor_of(alice), bid=bid, now=now)
    assert bid.status == BidStatus.CANCELLED and bid.cancelled_at == now
    assert BidRevision.objects.filter(bid_id=bid.pk).count() == 2
    with pytest.raises(Conflict, match="cancelled"):
        services.bid_amend(actor=actor_of(alice), bid=bid, changes={"price": 1}, now=now)
    assert AuditEvent.objects.filter(code="market.bid.cancelled").count() == 1


def test_cleared_bids_cannot_change(alice, alpha_site):
    now = GATE - timedelta(hours=1)
    bid = _offer(alice, alpha_site, now)
    CapacityOffer.objects.filter(pk=bid.pk).update(status=BidStatus.CLEARED)
    with pytest.raises(Conflict, match="cleared"):
        services.bid_cancel(actor=actor_of(alice), bid=bid, now=now)


def test_roles_and_scopes(alice, bob, sue, rita, alpha_site):
    with pytest.raises(Forbidden, match="power suppliers"):
        services.bid_submit(actor=actor_of(alice), bid_type=BidType.ENERGY, data=energy_payload())
    with pytest.raises(Forbidden, match="compute providers"):
        services.bid_submit(actor=actor_of(sue), bid_type=BidType.CAPACITY, data=capacity_payload())
    with pytest.raises(Forbidden, match="trade"):
        services.bid_submit(actor=actor_of(bob), bid_type=BidType.CAPACITY, data=capacity_payload())
    with pytest.raises(Forbidden):
        services.bid_submit(
            actor=actor_of(rita), bid_type=BidType.WORKLOAD, data=inference_payload()
        )
    assert services.bid_submit(actor=actor_of(sue), bid_type=BidType.ENERGY, data=energy_payload())


def test_api_lifecycle(trent, alpha_site):
    client = client_for(trent)
    response = client.post("/api/v1/capacity-offers/", capacity_payload(), format="json")
    assert response.status_code == 201, response.json()
    bid_id = response.json()["id"]
    assert response.json()["public_id"] == f"cap-{bid_id}"
    response = client.patch(f"/api/v1/capacity-offers/{bid_id}/", {"price": 175}, format="json")
    assert response.status_code == 200 and response.json()["revision"] == 2
    revisions = client.get(f"/api/v1/capacity-offers/{bid_id}/revisions/").json()
    assert [r["revision"] for r in revisions] == [1, 2]
    response = client.delete(f"/api/v1/capacity-offers/{bid_id}/")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    response = client.post(f"/api/v1/capacity-offers/{bid_id}/cancel/")
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"


def test_api_amend_after_gate_closure_is_409_with_a_clear_message(trent, alpha_site):
    client = client_for(trent)
    bid_id = client.post("/api/v1/capacity-offers/", capacity_payload(), format="json").json()["id"]
    CapacityOffer.objects.filter(pk=bid_id).update(gate_closure=datetime(2020, 1, 1, tzinfo=UTC))
    response = client.patch(f"/api/v1/capacity-offers/{bid_id}/", {"price": 1}, format="json")
    assert response.status_code == 409
    assert "frozen" in response.json()["detail"]


def test_api_filters(trent, alpha_site):
    client = client_for(trent)
    first = client.post("/api/v1/workloads/", inference_payload(), format="json")
    assert first.status_code == 201, first.json()
    later = inference_payload(
        start=calendar.iso_z(
            calendar.as_utc(datetime.fromisoformat(inference_payload()["start"]))
            + timedelta(days=2)
        )
    )
    assert client.post("/api/v1/workloads/", later, format="json").status_code == 201
    everything = client.get("/api/v1/workloads/").json()["results"]
    assert len(everything) == 2
    soon = client.get(
        "/api/v1/workloads/", {"interval_to": inference_payload()["start"].replace("Z", "+00:00")}
    )
    assert soon.status_code == 200
    window = client.get("/api/v1/workloads/", {"interval_from": later["start"]}).json()["results"]
    assert [w["id"] for w in window] == [everything[1]["id"]]
    assert client.get("/api/v1/workloads/", {"kind": "batch"}).json()["results"] == []
    assert len(client.get("/api/v1/workloads/", {"area": "tokyo"}).json()["results"]) == 2
    assert client.get("/api/v1/workloads/", {"status": "cancelled"}).json()["results"] == []


def test_clearing_outcomes_are_recorded_once_and_freeze_the_bid(alice, alpha_site):
    from market.services.outcomes import bids_record_outcome

    bid = _offer(alice, alpha_site, GATE - timedelta(hours=1))
    outcomes = {bid.public_id: BidStatus.PARTLY_CLEARED}
    assert bids_record_outcome(outcomes=outcomes, run_id="2030-04-01T03:00Z", now=GATE) == 1
    assert bids_record_outcome(outcomes=outcomes, run_id="2030-04-01T03:00Z", now=GATE) == 0
    bid.refresh_from_db()
    assert bid.status == BidStatus.PARTLY_CLEARED and bid.revision == 2
    last = BidRevision.objects.filter(bid_id=bid.pk).order_by("revision").last()
    assert last.status == BidStatus.PARTLY_CLEARED and last.actor_label == "system"
    assert AuditEvent.objects.filter(code="market.bid.outcomes_recorded").count() == 1
    with pytest.raises(InvalidInput):
        bids_record_outcome(outcomes={"xx-1": "cleared", bid.public_id: "submitted"}, run_id="r")


@pytest.mark.parametrize("endpoint", ["capacity-offers", "workloads"])
def test_list_query_budget_does_not_grow_with_bids(
    trent, alpha_site, endpoint, django_assert_max_num_queries
):
    client = client_for(trent)
    # 23 one-CU offers fit the 64-CU site together.
    payload = capacity_payload(cu=1) if endpoint == "capacity-offers" else inference_payload()
    for _ in range(3):
        client.post(f"/api/v1/{endpoint}/", payload, format="json")
    with django_assert_max_num_queries(8):
        assert len(client.get(f"/api/v1/{endpoint}/").json()["results"]) == 3
    for _ in range(20):
        client.post(f"/api/v1/{endpoint}/", payload, format="json")
    with django_assert_max_num_queries(8):
        assert len(client.get(f"/api/v1/{endpoint}/").json()["results"]) == 23
