"""One time convention and one number convention across the REST API (docs/api.md).

A cleared demo market (the demo's participants, sites and bids, three intervals cleared,
metered and settled, an outage and an energy-offer change re-dispatched through the API)
is read through every JSON route of /api/v1/ by each demo organisation's API key. Every
answer is walked, and:

- every instant is ISO 8601 in JST with its offset (`…+09:00`), never UTC `Z`;
- no number is a binary float (only the clearing runs' engine diagnostics are);
- every quantity or price that can be fractional (CU, kWh, prices, demand, hours, HHI,
  CO2) is a decimal string, even where its value happens to be whole.

The routes come from the URL conf, so a new endpoint is walked without editing this test;
a route this test cannot fill fails it. The Carbon Aware SDK's shapes
(/api/v1/carbon-aware/…) and the engine's snapshot download keep their own formats.
"""

from __future__ import annotations

import re
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from aggregator.exchange.cycle import run_clear_interval
from aggregator.exchange.demo.market import load_market_demo
from aggregator.exchange.demo.settlement import demo_meter_and_settle
from aggregator.exchange.management.commands.load_demo import Command as LoadDemo
from market import calendar
from market.models import CapacityOffer, EnergyOffer, MarketParameters, WorkloadBid
from market.models.clearing import Allocation, EnergyAward
from market.models.dispatch import DispatchOrder
from market.services.orders import order_payload
from operators.models import Site
from settlement.models import MeterReading
from tests.support.routes import filled_urls

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

INSTANT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d")
JST_INSTANT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?\+09:00$")
# Words that make a key a quantity or price that can be fractional.
FRACTIONAL = {"cu", "kwh", "price", "demand", "hours", "hhi", "co2", "mean", "per"}
# Whole-number fields by definition (a site's capacity is registered in whole CU).
WHOLE = {"capacity_cu"}
# Engine diagnostics of a clearing run: solver seconds, gaps, counts, as the engine reports
# them (docs/api.md says so); not market quantities.
DIAGNOSTICS = {"solver_stats", "timings"}
# Fixed by others' specifications, or not JSON (docs/api.md lists them).
EXEMPT = (
    "/api/v1/carbon-aware/",  # the Carbon Aware SDK WebAPI's shapes
    "/api/v1/clearing-runs/{pk}/snapshot/",  # the engine's input document, as hashed
    "/api/v1/statements/{month}/",  # CSV and PDF downloads
    "/api/v1/invoices/{month}/",
)
DEMO_READERS = ("sakura-compute", "tokyo-ai-labs", "kyushu-mirai", "hokkaido-green",
                "market-surveillance", "wattbit-operator")  # fmt: skip


def violations(doc: Any, path: str = "") -> list[str]:
    """Every place in `doc` that breaks the convention, as 'path: value'."""
    found: list[str] = []
    if isinstance(doc, dict):
        for key, value in doc.items():
            if key in DIAGNOSTICS:
                continue
            found += violations(value, f"{path}.{key}")
            if _fractional(key):
                for item in value if isinstance(value, list) else [value]:
                    if item is not None and not isinstance(item, str | dict | list):
                        found.append(f"{path}.{key}: quantity {item!r} is not a decimal string")
    elif isinstance(doc, list):
        for i, item in enumerate(doc):
            found += violations(item, f"{path}[{i}]")
    elif isinstance(doc, float):
        found.append(f"{path}: float {doc!r}")
    elif isinstance(doc, str) and INSTANT.match(doc) and not JST_INSTANT.match(doc):
        found.append(f"{path}: instant {doc!r} is not JST")
    return found


def _fractional(key: str) -> bool:
    return key not in WHOLE and bool(FRACTIONAL & set(key.split("_")))


def test_the_checker_catches_what_the_api_wrote_before():
    """The detector works: the shapes /results/advisory, revisions and outages had."""
    assert violations({"interval_start": "2026-12-04T04:00:00Z"})
    assert violations({"start": "2026-12-04T04:00:00+00:00"})
    assert violations({"sites": [{"cu": 16.0}]})
    assert violations({"cu": [32, 32]})
    assert violations({"changes": [{"cu_before": 0.5}]})
    assert not violations(
        {"interval_start": "2026-12-04T13:00:00+09:00", "cu": ["32", "32.5"], "id": 7,
         "capacity_cu": 64, "created_at": "2026-12-04T13:00:00.123456+09:00",
         "solver_stats": {"solve_s": 0.1}}
    )  # fmt: skip


@pytest.fixture
def demo(reference_data):
    """The demo market at the real clock, three intervals cleared, metered and settled."""
    command = LoadDemo()
    command._load_participants()
    command._load_sites()
    keys = command._ensure_keys({})
    MarketParameters.objects.filter(pk=MarketParameters.current().pk).update(horizon_intervals=8)
    # As load_demo does: bids as if sent 90 minutes ago, so the first intervals are due.
    load_market_demo(StringIO(), now=timezone.now() - timedelta(minutes=90))
    k0 = min(CapacityOffer.objects.values_list("start", flat=True))
    runs = []
    for i in range(3):
        k = k0 + i * calendar.INTERVAL
        outcome = run_clear_interval(interval_start=k, now=calendar.gate_closure(k, 60))
        assert outcome.run.status == "completed", outcome.run.error
        runs.append(outcome.run)
    demo_meter_and_settle(runs, seed=6)
    clients = {}
    for slug in DEMO_READERS:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {keys[slug]}")
        clients[slug] = client
    return k0, clients


def _post_events(k0, clients) -> dict[str, Any]:
    """Re-dispatch answers and a new bid, through the API (the outage's was `Z` and floats)."""
    k = calendar.iso_z(k0 + 2 * calendar.INTERVAL)
    answers = {}
    site = Allocation.objects.filter(interval_start=k0 + 2 * calendar.INTERVAL,
                                     site__organisation__slug="sakura-compute").first().site  # fmt: skip
    response = clients["sakura-compute"].post(
        "/api/v1/events/outage", {"site": site.code, "interval": k, "cu_available": 0.5},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    answers["outage"] = response.json()
    # Whichever supplier the clearing took energy from in that interval.
    award = EnergyAward.objects.filter(interval_start=k0 + 2 * calendar.INTERVAL).first()
    response = clients[award.offer.organisation.slug].post(
        "/api/v1/events/energy-offer",
        {"offer": award.offer.public_id, "interval": k, "kwh": 100.5}, format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    answers["energy-offer"] = response.json()
    start = calendar.iso_z(calendar.first_open_interval(timezone.now(), 60) + calendar.INTERVAL)
    response = clients["sakura-compute"].post(
        "/api/v1/capacity-offers/",
        {"start": start, "intervals": 2, "site": site.code, "cu": [8, 8.5], "price": 150},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    answers["capacity-offer"] = response.json()
    order = DispatchOrder.objects.filter(
        organisation__slug="tokyo-ai-labs", is_current=True
    ).first()
    response = clients["tokyo-ai-labs"].post(
        f"/api/v1/orders/{order.pk}/acknowledge", {"decision": "accept"}, format="json"
    )
    assert response.status_code == 200, response.content
    answers["acknowledge"] = response.json()
    return answers


def _urls(k0) -> list[str]:
    day = calendar.to_jst(k0).date().isoformat()
    month = f"{calendar.to_jst(k0):%Y-%m}"
    span = calendar.iso_z(k0 - timedelta(days=1))
    values = {
        "pk": [str(pk) for model in (CapacityOffer, EnergyOffer, WorkloadBid, DispatchOrder,
               MeterReading) for pk in model.objects.values_list("pk", flat=True)[:3]],
        "code": [*Site.objects.values_list("code", flat=True)[:2], "kyushu", "tokyo"],
        "month": [month],
    }  # fmt: skip
    queries = ["", f"?day={day}&month={month}&from={span}&interval_from={span}",
               "?areas=tokyo,kyushu&hours=1.5&within=24"]  # fmt: skip
    return filled_urls(values, queries=queries, skip=_not_scanned)


def _not_scanned(template: str, _name: str) -> bool:
    """Outside the API, format-suffix duplicates, and the documented exemptions."""
    return (
        not template.startswith("/api/v1/")
        or "{format}" in template
        or any(template.startswith(e) for e in EXEMPT)
    )


def test_every_api_answer_writes_instants_in_jst_and_quantities_as_decimal_strings(demo):
    k0, clients = demo
    problems: dict[str, list[str]] = {}
    for name, answer in _post_events(k0, clients).items():
        if found := violations(answer):
            problems[f"POST {name}"] = found
    read = 0
    for slug, client in clients.items():
        for url in _urls(k0):
            response = client.get(url)
            assert response.status_code < 500, f"{slug} {url}: {response.status_code}"
            if response.status_code != 200 or "json" not in response.get("Content-Type", ""):
                continue
            read += 1
            if found := violations(response.json()):
                problems[f"{slug} GET {url}"] = found[:5]
    # The push a webhook receives is the same order, in the same convention.
    for order in DispatchOrder.objects.all()[:20]:
        if found := violations(order_payload(order)):
            problems[f"webhook {order.public_id}"] = found
    assert read > 100, f"only {read} JSON answers were read: the walk lost its routes"
    assert problems == {}, problems


def test_stored_data_keeps_utc(demo):
    """Only what the API writes is JST: the stored order lines and revisions keep UTC."""
    from market.models import BidRevision

    revision = BidRevision.objects.filter(
        bid_type="capacity",
        bid_id__in=CapacityOffer.objects.filter(organisation__slug="sakura-compute").values("pk"),
    ).first()
    assert revision.data["start"].endswith("Z")
    _k0, clients = demo
    answer = (
        clients["sakura-compute"]
        .get(f"/api/v1/capacity-offers/{revision.bid_id}/revisions/")
        .json()
    )
    assert (
        answer[0]["data"]["start"]
        == calendar.to_jst(calendar.parse_iso(revision.data["start"])).isoformat()
    )
