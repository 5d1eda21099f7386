"""Portal pages of the cycle: results heat map, orders with acknowledgement, runs and replay."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aggregator.exchange.cycle import run_clear_interval
from market import calendar
from market.models.dispatch import DispatchOrder
from tests.conftest import portal_client
from tests.cycle.conftest import gate

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(market):
    k = market.k(0)
    return run_clear_interval(interval_start=k, now=gate(k)).run


def test_results_page_shows_the_heat_map_and_own_allocations(market, run):
    day = calendar.to_jst(market.k(0)).date().isoformat()
    client = portal_client(market.dave)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(f"/market/results/?day={day}")
    body = response.content.decode()
    assert response.status_code == 200
    assert "hsl(" in body and "32 CU" in body
    assert f"wl-{market.workload.pk}" in body  # dave's own allocation
    assert len(ctx.captured_queries) <= 12  # query budget: no per-cell queries
    other = portal_client(market.sue).get(f"/market/results/?day={day}").content.decode()
    assert f"wl-{market.workload.pk}" not in other  # nobody else sees dave's workload


def test_order_accepted_and_rejected_in_the_portal(market, run):
    client = portal_client(market.charlie)
    order = DispatchOrder.objects.get(organisation__slug="beta")
    page = client.get("/market/orders/").content.decode()
    assert order.public_id in page and "Accept" in page
    client.post(f"/market/orders/{order.pk}/acknowledge/", {"decision": "accept"})
    order.refresh_from_db()
    assert order.ack_state == "accepted"
    placement = DispatchOrder.objects.filter(organisation__slug="delta").first()
    dave = portal_client(market.dave)
    response = dave.post(
        f"/market/orders/{placement.pk}/acknowledge/", {"decision": "reject"}, follow=True
    )
    assert "Say why you reject the order." in response.content.decode()
    placement.refresh_from_db()
    assert placement.ack_state == "pending"
    # Another organisation's order cannot be acknowledged.
    assert (
        dave.post(
            f"/market/orders/{order.pk}/acknowledge/", {"decision": "reject", "reason": "x"}
        ).status_code
        == 404
    )


def test_regulator_replays_from_the_runs_page(market, run):
    regulator = portal_client(market.rita)
    assert "Replay" in regulator.get("/market/runs/").content.decode()
    response = regulator.post(f"/market/runs/{run.pk}/replay/", follow=True)
    assert "identical result" in response.content.decode()
    assert portal_client(market.alice).post(f"/market/runs/{run.pk}/replay/").status_code == 403
