"""Bulk submission (all or nothing, per-item errors) and Idempotency-Key replay and conflict."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.utils import timezone

from aggregator.platform.models import AuditEvent
from market.idempotency import idempotency_purge
from market.models import BidRevision, CapacityOffer, IdempotencyKey, WorkloadBid
from tests.conftest import client_for, key_client
from tests.market.conftest import batch_payload, capacity_payload, inference_payload

pytestmark = pytest.mark.django_db


def _counts():
    return (
        CapacityOffer.objects.count(),
        WorkloadBid.objects.count(),
        BidRevision.objects.count(),
        AuditEvent.objects.count(),
    )


def _bulk(client, items, **headers):
    return client.post("/api/v1/bids/bulk", {"bids": items}, format="json", headers=headers)


def test_bulk_submits_every_bid(trent, alpha_site):
    items = [
        # 20 offers of 3 CU fit the 64-CU site together (a site is never oversold).
        {"type": "capacity", **capacity_payload(cu=3)},
        {"type": "workload", **inference_payload()},
        {"type": "workload", **batch_payload()},
    ] * 20
    before_events = AuditEvent.objects.count()
    response = _bulk(client_for(trent), items)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (
        body["count"] == 60
        and body["bids"][0].startswith("cap-")
        and body["bids"][1].startswith("wl-")
    )
    assert CapacityOffer.objects.count() == 20 and WorkloadBid.objects.count() == 40
    assert BidRevision.objects.count() == 60
    event = AuditEvent.objects.get(code="market.bid.bulk_submitted")
    assert event.payload["count"] == 60 and AuditEvent.objects.count() == before_events + 1
    # Bulk bids are ordinary bids: the owner reads, amends and sees their revisions.
    bid_id = body["bids"][0].split("-")[1]
    assert client_for(trent).get(f"/api/v1/capacity-offers/{bid_id}/").status_code == 200


def test_bulk_is_all_or_nothing_with_errors_per_index(trent, alpha_site):
    items = [{"type": "capacity", **capacity_payload()} for _ in range(5)]
    items[1]["cu"] = [-1] * 4
    items[3] = {"type": "energy", **capacity_payload()}  # alpha is no power supplier
    items.append({"type": "nonsense"})
    before = _counts()
    response = _bulk(client_for(trent), items)
    assert response.status_code == 400
    body = response.json()
    assert "3 of 6 bids are invalid" in body["detail"]
    errors = {e["index"]: e["errors"] for e in body["errors"]["bids"]}
    assert set(errors) == {1, 3, 5}
    assert "cu" in errors[1] and "type" in errors[3] and "type" in errors[5]
    assert _counts() == before


def test_bulk_limits(trent, alpha_site, rita):
    assert _bulk(client_for(trent), []).status_code == 400
    too_many = [{"type": "capacity"}] * 10_001
    response = _bulk(client_for(trent), too_many)
    assert response.status_code == 400 and "At most 10000" in response.json()["errors"]["bids"][0]
    assert _bulk(client_for(rita), [{"type": "capacity", **capacity_payload()}]).status_code == 403


def test_same_key_same_body_replays_the_stored_response(trent, alpha_site):
    client, _key = key_client(trent)
    payload = capacity_payload()
    first = client.post(
        "/api/v1/capacity-offers/", payload, format="json", headers={"Idempotency-Key": "k-1"}
    )
    assert first.status_code == 201
    before = _counts()
    second = client.post(
        "/api/v1/capacity-offers/", payload, format="json", headers={"Idempotency-Key": "k-1"}
    )
    assert second.status_code == 201 and second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert _counts() == before  # no second bid, no second audit event


def test_same_key_different_body_is_422(trent, alpha_site):
    client = client_for(trent)
    headers = {"Idempotency-Key": "k-2"}
    assert (
        client.post(
            "/api/v1/capacity-offers/", capacity_payload(), format="json", headers=headers
        ).status_code
        == 201
    )
    before = _counts()
    response = client.post(
        "/api/v1/capacity-offers/", capacity_payload(cu=[1] * 4), format="json", headers=headers
    )
    assert response.status_code == 422
    assert response.json()["type"].endswith("/idempotency-key-reused")
    assert _counts() == before


def test_failed_requests_are_not_stored_so_the_key_can_be_retried(trent, alpha_site):
    client = client_for(trent)
    headers = {"Idempotency-Key": "k-3"}
    bad = client.post(
        "/api/v1/capacity-offers/", capacity_payload(cu=[-1] * 4), format="json", headers=headers
    )
    assert bad.status_code == 400 and not IdempotencyKey.objects.exists()
    good = client.post(
        "/api/v1/capacity-offers/", capacity_payload(), format="json", headers=headers
    )
    assert good.status_code == 201


def test_keys_are_scoped_per_organisation(trent, charlie, alpha_site, beta_site):
    headers = {"Idempotency-Key": "shared-name"}
    mine = client_for(trent).post(
        "/api/v1/capacity-offers/", capacity_payload(), format="json", headers=headers
    )
    theirs = client_for(charlie).post(
        "/api/v1/capacity-offers/", capacity_payload("beta-kyu-1"), format="json", headers=headers
    )
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]


def test_key_length_and_expiry(trent, alpha_site):
    client = client_for(trent)
    response = client.post(
        "/api/v1/capacity-offers/",
        capacity_payload(),
        format="json",
        headers={"Idempotency-Key": "x" * 256},
    )
    assert response.status_code == 400 and "Idempotency-Key" in response.json()["errors"]
    headers = {"Idempotency-Key": "old"}
    assert (
        client.post(
            "/api/v1/capacity-offers/", capacity_payload(), format="json", headers=headers
        ).status_code
        == 201
    )
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))
    # After 24 h the key is free: a new body is accepted, not a 422.
    response = client.post(
        "/api/v1/capacity-offers/", capacity_payload(cu=[2] * 4), format="json", headers=headers
    )
    assert response.status_code == 201 and CapacityOffer.objects.count() == 2
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))
    assert idempotency_purge() == 1


def test_bulk_with_a_key_replays(trent, alpha_site):
    client = client_for(trent)
    items = [{"type": "capacity", **capacity_payload()}]
    first = _bulk(client, items, **{"Idempotency-Key": "bulk-1"})
    second = _bulk(client, items, **{"Idempotency-Key": "bulk-1"})
    assert first.json() == second.json() and CapacityOffer.objects.count() == 1


def test_signal_publication_and_cancel_accept_keys(trent, alpha_site):
    client = client_for(trent)
    bid_id = client.post("/api/v1/capacity-offers/", capacity_payload(), format="json").json()["id"]
    headers = {"Idempotency-Key": "cancel-1"}
    first = client.post(f"/api/v1/capacity-offers/{bid_id}/cancel/", headers=headers)
    second = client.post(f"/api/v1/capacity-offers/{bid_id}/cancel/", headers=headers)
    assert first.status_code == second.status_code == 200  # a retried cancel is not a 409


def test_hourly_purge_task_frees_expired_keys(trent):
    from datetime import timedelta

    from django.utils import timezone

    from market.models import IdempotencyKey
    from market.tasks import purge_idempotency_keys

    common = {"organisation": trent.organisation, "method": "POST", "path": "/x",
              "request_sha256": "0" * 64, "status_code": 201, "response_body": {}}  # fmt: skip
    IdempotencyKey.objects.create(key="old", **common)
    IdempotencyKey.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=25))
    IdempotencyKey.objects.create(key="fresh", **common)
    assert purge_idempotency_keys.apply().get() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["fresh"]


def test_a_form_encoded_body_with_a_key_is_fingerprinted_not_a_server_error(trent, alpha_site):
    client, _key = key_client(trent)
    # Form and multipart bodies parse to a QueryDict; the fingerprint must take it as JSON
    # takes a dict, and an uploaded file part by its content (canonical JSON of an
    # UploadedFile raised TypeError: a 500).
    response = client.post(
        "/api/v1/capacity-offers/", {"site": "x", "cu": io.BytesIO(b"1,2")}, format="multipart",
        headers={"Idempotency-Key": "k-form"},
    )  # fmt: skip
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/problem+json")
