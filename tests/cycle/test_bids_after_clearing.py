"""Bids that can no longer clear are refused, and a bid's status, is_frozen and PATCH agree."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest

from aggregator.exchange.cycle import run_clear_interval
from aggregator.platform.errors import Conflict, InvalidInput
from market import calendar
from market.choices import BidStatus, BidType
from market.models import BidRevision, CapacityOffer
from market.services import bid_cancel, bid_submit
from tests.conftest import actor_of, client_for
from tests.cycle.conftest import SUBMITTED_AT, gate

pytestmark = pytest.mark.django_db


def _offer(market, i: int, *, n: int = 1, now=SUBMITTED_AT):
    return bid_submit(
        actor=actor_of(market.alice),
        bid_type=BidType.CAPACITY,
        data={"start": calendar.iso_z(market.k(i)), "intervals": n, "site": "alpha-tky-1",
              "cu": 1, "price": 100},
        now=now,
    )  # fmt: skip


def test_a_bid_for_an_interval_already_cleared_is_refused_naming_the_next_open_one(market):
    """The wall clock (SUBMITTED_AT) is still before k0's gate closure, but k0 has cleared."""
    run_clear_interval(interval_start=market.k(0), now=gate(market.k(0)))
    before = (CapacityOffer.objects.count(), BidRevision.objects.count())
    for i, n in ((0, 1), (0, 3)):  # starting in the cleared interval, or reaching past it
        with pytest.raises(InvalidInput) as exc:
            _offer(market, i, n=n)
        message = exc.value.errors["start"][0]
        assert f"{calendar.to_jst(market.k(0)):%Y-%m-%d %H:%M}" in message
        assert f"earliest open interval starts {calendar.to_jst(market.k(1)):%Y-%m-%d %H:%M}" in (
            message
        )
    assert (CapacityOffer.objects.count(), BidRevision.objects.count()) == before
    assert _offer(market, 1).status == BidStatus.SUBMITTED  # the next one is open


def _clock():
    """The API reads the wall clock: put it where the fixture's bids were submitted."""
    return mock.patch("django.utils.timezone.now", return_value=SUBMITTED_AT)


def test_the_api_refuses_it_too_and_bulk_writes_nothing(market):
    run_clear_interval(interval_start=market.k(0), now=gate(market.k(0)))
    with _clock():  # log in on that clock, too, or the session has expired by then
        _api_refuses(market, client_for(market.alice))


def _api_refuses(market, client):
    item = {"start": calendar.iso_z(market.k(0)), "intervals": 1, "site": "alpha-tky-1",
            "cu": 1, "price": 100}  # fmt: skip
    response = client.post("/api/v1/capacity-offers/", item, format="json")
    assert (
        response.status_code == 400 and "already cleared" in response.json()["errors"]["start"][0]
    )
    before = CapacityOffer.objects.count()
    ok = {**item, "start": calendar.iso_z(market.k(2))}
    bulk = {"bids": [{"type": "capacity", **ok}, {"type": "capacity", **item}]}
    response = client.post("/api/v1/bids/bulk", bulk, format="json")
    assert response.status_code == 400 and response.json()["errors"]["bids"][0]["index"] == 1
    assert CapacityOffer.objects.count() == before


def _patch(client, bid):
    return client.patch(f"/api/v1/capacity-offers/{bid.pk}/", {"price": 101}, format="json")


def test_status_is_frozen_and_patch_agree_in_every_state(market):
    """For each way a bid can stop being changeable, GET says is_frozen and PATCH says 409;
    while it is open, GET says not frozen and PATCH succeeds."""
    open_bid = _offer(market, 6)
    cancelled = bid_cancel(actor=actor_of(market.alice), bid=_offer(market, 7), now=SUBMITTED_AT)
    cleared_interval = market.tky_offer  # starts at k0, which is cleared next
    run_clear_interval(interval_start=market.k(0), now=gate(market.k(0)))
    # Bids whose last interval was the firm one get their outcome (here: rejected or cleared).
    finished = _offer(market, 1)
    for i in range(1, 2):
        run_clear_interval(interval_start=market.k(i), now=gate(market.k(i)))
    finished.refresh_from_db()
    assert finished.status in (BidStatus.REJECTED, BidStatus.CLEARED, BidStatus.PARTLY_CLEARED)
    cases = {
        "open": (open_bid, False, None),
        "cancelled": (cancelled, True, "cancelled"),
        "first interval cleared": (cleared_interval, True, "has already run"),
        "outcome known": (finished, True, "has been cleared (outcome: "),
    }
    with _clock():
        client = client_for(market.alice)
        for name, (bid, frozen, message) in cases.items():
            shown = client.get(f"/api/v1/capacity-offers/{bid.pk}/").json()
            response = _patch(client, bid)
            assert shown["is_frozen"] is frozen, name
            if frozen:
                assert response.status_code == 409, (name, response.json())
                assert message in response.json()["detail"], (name, response.json())
            else:
                assert response.status_code == 200, (name, response.json())
        listed = client.get("/api/v1/capacity-offers/").json()["results"]
    frozen_by_id = {b["id"]: b["is_frozen"] for b in listed}
    assert frozen_by_id[open_bid.pk] is False and frozen_by_id[cleared_interval.pk] is True


def test_a_past_gate_bid_is_frozen_with_the_gate_closure_in_the_refusal(market):
    bid = market.tky_offer
    after_gate = gate(market.k(0)) + timedelta(seconds=1)
    assert bid.is_frozen(after_gate) and not bid.is_frozen(SUBMITTED_AT)
    with pytest.raises(Conflict) as exc:
        bid_cancel(actor=actor_of(market.alice), bid=bid, now=after_gate)
    assert "2030-04-01 11:00:00" in exc.value.detail  # k0's gate closure, JST
