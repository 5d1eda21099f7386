"""Sealed means sealed: a canary's unique prices appear nowhere another party can read.

An organisation offers capacity at 987.6543 JPY/CU-h at a site where it is the only offer
(so it sets that site's LP price) and energy at 0.0731 JPY/kWh (so it sets its area's
energy price). Earlier intervals clear with the canary inside their advisory horizon;
then every page and endpoint is fetched as another provider's admin and viewer, a
workload owner, a regulator and the market operator's staff (with the Django admin) and
searched for those numbers in any rounding. Once the canary's own interval clears, the
same scan must find them: the detector is shown to work.

The pages come from the URL conf and the admin registry, so a new route is covered
without editing this test; a route with a parameter the test cannot fill fails it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from django.contrib import admin
from django.test import Client
from django.utils import timezone

from aggregator.exchange.cycle import run_clear_interval
from aggregator.openadr.services.clients import openadr_client_create
from market import calendar
from market.choices import BidType
from market.models import CapacityOffer, EnergyOffer, MarketParameters, WorkloadBid
from market.services import bid_submit
from market.services.signals import signal_publish
from operators import services as op
from operators.choices import MemberRole
from operators.models import Site
from tests.conftest import SITE_DATA, _member, _org, actor_of
from tests.support.pdf import pdf_text
from tests.support.routes import filled_urls

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

CANARY_CU_PRICE = "987.6543"
CANARY_KWH_PRICE = "0.0731"
# Every rounding that could be shown (JPY/kWh below 3 decimals, 0.07, is too common a
# number to mean the canary).
NEEDLES = {
    "capacity": [CANARY_CU_PRICE, "987.654", "987.65", "987.7"],
    "energy": [CANARY_KWH_PRICE, "0.073"],
}
PATTERN = re.compile(
    "|".join(rf"(?<![\d.]){re.escape(n)}(?!\d)" for ns in NEEDLES.values() for n in ns)
)
HORIZON = 8
CANARY_AT = 4  # the canary's first interval, index from k0

# Routes a GET cannot read, each with its reason; anything else unfillable fails the test.
NOT_READABLE = {
    "logout": "POST only (logs out)",
    "set_language": "POST only (sets a cookie)",
    "demo-receiver": "the demo's webhook receiver: accepts POSTs from the exchange only",
}


@dataclass
class Scene:
    k0: datetime
    readers: dict[str, Client]
    values: dict[str, list[str]]  # URL parameter name -> values to try
    queries: list[str]  # query strings tried on every route without parameters


def _k0() -> datetime:
    return calendar.first_open_interval(timezone.now(), 60) + 4 * calendar.INTERVAL


@pytest.fixture
def scene(db) -> Scene:
    now = timezone.now()
    k0 = _k0()
    params = MarketParameters.current()
    params.horizon_intervals = HORIZON
    params.save()
    alpha = _org("alpha", ["compute_provider", "workload_owner"])
    alice = _member(alpha, "alice", MemberRole.ADMIN)
    bob = _member(alpha, "bob", MemberRole.VIEWER)
    canary_org = _org("canary", ["compute_provider", "power_supplier"])
    carl = _member(canary_org, "carl", MemberRole.ADMIN)
    delta = _org("delta", ["workload_owner"])
    dave = _member(delta, "dave", MemberRole.ADMIN)
    rita = _member(_org("reg", ["regulator"]), "rita", MemberRole.ADMIN)
    oscar = _member(_org("ops", ["market_operator"]), "oscar", MemberRole.ADMIN)
    oscar.user.is_staff = oscar.user.is_superuser = True
    oscar.user.save(update_fields=["is_staff", "is_superuser"])
    op.site_register(actor=actor_of(alice), **SITE_DATA)
    op.site_register(
        actor=actor_of(carl),
        **{**SITE_DATA, "code": "canary-kyu-1", "area": "kyushu", "prefecture": "fukuoka"},
    )
    signal_publish(
        actor=actor_of(oscar),
        kind="system_price",
        area=None,
        values=[
            {"interval_start": calendar.iso_z(k0 + i * calendar.INTERVAL), "value": "12.0"}
            for i in range(-2, 2 * HORIZON)
        ],
        source="test",
        now=now,
    )
    n = CANARY_AT + HORIZON

    def submit(member, bid_type, data):
        return bid_submit(actor=actor_of(member), bid_type=bid_type, data=data, now=now)

    start = calendar.iso_z(k0)
    canary_start = calendar.iso_z(k0 + CANARY_AT * calendar.INTERVAL)
    submit(alice, BidType.CAPACITY, {"start": start, "intervals": CANARY_AT,
           "site": "alpha-tky-1", "cu": 32, "price": 180})  # fmt: skip
    submit(carl, BidType.CAPACITY, {"start": canary_start, "intervals": HORIZON,
           "site": "canary-kyu-1", "cu": 32, "price": CANARY_CU_PRICE})  # fmt: skip
    submit(carl, BidType.ENERGY, {"start": canary_start, "intervals": HORIZON, "area": "kyushu",
           "kwh": 5000, "price": CANARY_KWH_PRICE, "carbon_g_per_kwh": 20,
           "curtailment_relief": True})  # fmt: skip
    submit(dave, BidType.WORKLOAD, {"start": start, "intervals": n, "kind": "inference",
           "accelerator": "h100", "residency_tags": ["jp"], "limit_price": 2000,
           "zone": "tokyo", "max_latency_ms": 50, "demand": 20})  # fmt: skip
    submit(alice, BidType.WORKLOAD, {"start": start, "intervals": n, "kind": "batch",
           "accelerator": "h100", "limit_price": 1500, "remaining_cu_intervals": 40,
           "max_cu": 8})  # fmt: skip

    readers = {}
    for name, member in (("alice", alice), ("bob", bob), ("dave", dave), ("rita", rita),
                         ("oscar", oscar)):  # fmt: skip
        client = Client()
        client.force_login(member.user)
        readers[name] = client
    _api_key, key = op.api_key_create(actor=actor_of(dave), name="canary-scan", scopes=["read"])
    readers["dave-api-key"] = Client(HTTP_AUTHORIZATION=f"Api-Key {key}")
    # OpenADR VENs (openadr/): their bearer tokens reach /openadr3/ only.
    for name, member in (("dave-openadr", dave), ("rita-openadr", rita)):
        ven_client, secret = openadr_client_create(organisation=member.organisation)
        token = Client().post("/openadr3/auth/token", {"grant_type": "client_credentials",
            "client_id": ven_client.application.client_id, "client_secret": secret}).json()  # fmt: skip
        readers[name] = Client(HTTP_AUTHORIZATION=f"Bearer {token['access_token']}")

    day = calendar.to_jst(k0).date().isoformat()
    month = f"{calendar.to_jst(k0):%Y-%m}"
    span = (
        f"from={calendar.iso_z(k0 - timedelta(days=1))}&to={calendar.iso_z(k0 + timedelta(days=1))}"
    )
    interval = f"interval_from={calendar.iso_z(k0 - timedelta(days=1))}"
    queries = [
        "",
        f"?day={day}&{span}&{interval}",
        f"?month={month}&organisation=canary",
        # Downloads: CSV and PDF (JSON is every API route's default already).
        *(f"?day={day}&format={fmt}" for fmt in ("csv", "pdf")),
    ]
    bids = [
        *CapacityOffer.objects.values_list("pk", flat=True),
        *EnergyOffer.objects.values_list("pk", flat=True),
        *WorkloadBid.objects.values_list("pk", flat=True),
    ]
    values = {
        "pk": sorted({str(pk) for pk in bids}),
        # Site codes, and an area and a zone (their detail routes also say "code").
        "code": [*Site.objects.values_list("code", flat=True), "kyushu", "tokyo"],
        "format": ["json"],
        "bid_type": list(BidType.values),
        "month": [month],
        # The OpenADR VTN's ids (aggregator.openadr.payloads): orders' and prices' events, programs,
        # and the VEN objects (none exist here: a 404 is a page without a price, too).
        "program_id": ["dispatch-hosting-kyushu", "prices-kyushu"],
        "event_id": [*(f"ord-{i}-v1" for i in range(1, 13)), *(f"prc-{i}" for i in range(1, 13))],
        "report_id": ["rpt-1"],
        "subscription_id": ["sub-1"],
        "ven_id": ["ven-1"],
        "resource_id": ["res-1"],
    }
    return Scene(k0, readers, values, queries)


def _urls(scene: Scene) -> list[str]:
    return filled_urls(
        scene.values, queries=scene.queries, skip=lambda _template, name: name in NOT_READABLE
    )


def _admin_urls() -> list[str]:
    urls = ["/admin/"]
    for model, model_admin in admin.site._registry.items():
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        urls.append(base)
        # Every row, not only what the admin lists: a sealed bid's change page must not open.
        urls += [
            f"{base}{pk}/change/" for pk in model._default_manager.values_list("pk", flat=True)
        ]
        del model_admin
    return urls


def _text(response) -> str:
    body = (
        b"".join(response.streaming_content)
        if getattr(response, "streaming", False)
        else response.content
    )
    if response.get("Content-Type", "").startswith("application/pdf"):
        return pdf_text(body)
    return body.decode("utf-8", "replace")


def _scan(scene: Scene, readers: list[str]) -> dict[str, list[str]]:
    """URL -> canary numbers found, per reader; also asserts no page failed with a 5xx."""
    found: dict[str, list[str]] = {}
    errors = []
    urls = _urls(scene)
    for name in readers:
        client = scene.readers[name]
        targets = [u for u in urls if u.startswith("/api/")] if name.endswith("api-key") else urls
        if name.endswith("openadr"):
            targets = [u for u in urls if u.startswith("/openadr3/")]
        if name == "oscar":
            targets = targets + _admin_urls()
        for url in targets:
            response = client.get(url)
            if response.status_code >= 500:
                errors.append(f"{name} {url}: {response.status_code}")
                continue
            hits = PATTERN.findall(_text(response))
            if hits:
                found[f"{name} {url}"] = sorted(set(hits))
    assert not errors, errors
    return found


def _clear(scene: Scene, i: int) -> None:
    k = scene.k0 + i * calendar.INTERVAL
    outcome = run_clear_interval(interval_start=k, now=calendar.gate_closure(k, 60))
    assert outcome.run.status == "completed", outcome.run.error


def test_sealed_canary_prices_are_nowhere_until_their_interval_clears(scene):
    _clear(scene, 0)
    _clear(scene, 1)  # the canary is in both runs' advisory horizon
    leaks = _scan(
        scene,
        ["alice", "bob", "dave", "dave-api-key", "dave-openadr", "rita-openadr", "rita", "oscar"],
    )
    assert leaks == {}, f"sealed canary prices readable before clearing: {leaks}"

    for i in range(2, CANARY_AT + 1):
        _clear(scene, i)  # now the canary's first interval is firm
    found = _scan(scene, ["rita", "rita-openadr"])
    seen = {n for hits in found.values() for n in hits}
    assert seen & set(NEEDLES["capacity"]), "the cleared canary compute price is published"
    assert seen & set(NEEDLES["energy"]), "the cleared canary energy price is published"
