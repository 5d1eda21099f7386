"""The Django admin changes nothing that a service validates and audits.

A superuser POSTing an admin change form would save the row directly: no validation (a
webhook URL on the cloud metadata address), no audit event. Those admins are read-only;
changes go through the portal (participants, market and settlement parameters) or the API.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from aggregator.platform.models import AuditEvent
from market.models import CarbonFactor, MarketParameters, Signal
from operators import services
from operators.models import DemandZone, GridArea, Membership
from settlement.models import SettlementParameters
from tests.conftest import actor_of

pytestmark = pytest.mark.django_db

METADATA_URL = "https://169.254.169.254/latest/meta-data/"


@pytest.fixture
def root():
    user = get_user_model().objects.create_superuser("root", "root@example.jp", "pw-9-long-x")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.fixture
def objects(alice, alpha_site):
    endpoint, _secret = services.webhook_endpoint_create(
        actor=actor_of(alice), url="https://hooks.example.jp/wattbit"
    )
    api_key, _key = services.api_key_create(actor=actor_of(alice), name="ci", scopes=["read"])
    area = GridArea.objects.get(code="tokyo")
    now = timezone.now()
    return {
        "operators/organisation": alice.organisation,
        "operators/membership": alice,
        "operators/site": alpha_site,
        "operators/webhookendpoint": endpoint,
        "operators/apikey": api_key,
        "operators/gridarea": area,
        "operators/demandzone": DemandZone.objects.first(),
        "market/marketparameters": MarketParameters.current(),
        "market/signal": Signal.objects.create(
            kind="area_price", area=area, interval_start=now, value=12, source="t", published_at=now
        ),
        "market/carbonfactor": CarbonFactor.objects.create(
            area=area, year=2030, g_per_kwh=400, source="t"
        ),
        "settlement/settlementparameters": SettlementParameters.current(),
    }


def test_a_webhook_url_cannot_be_pointed_at_the_metadata_service_in_the_admin(root, objects):
    endpoint = objects["operators/webhookendpoint"]
    events = AuditEvent.objects.count()
    response = root.post(
        f"/admin/operators/webhookendpoint/{endpoint.pk}/change/",
        {
            "organisation": endpoint.organisation_id,
            "url": METADATA_URL,
            "description": "",
            "is_active": "on",
        },
    )
    assert response.status_code == 403
    endpoint.refresh_from_db()
    assert endpoint.url == "https://hooks.example.jp/wattbit"
    assert AuditEvent.objects.count() == events


def test_a_member_cannot_be_promoted_in_the_admin(root, objects, bob):
    response = root.post(
        f"/admin/operators/membership/{bob.pk}/change/",
        {"user": bob.user_id, "organisation": bob.organisation_id, "role": "admin"},
    )
    assert response.status_code == 403
    assert Membership.objects.get(pk=bob.pk).role == "viewer"


def test_market_parameters_cannot_be_changed_in_the_admin(root, objects):
    params = MarketParameters.current()
    lead = params.gate_closure_lead_minutes
    response = root.post(
        f"/admin/market/marketparameters/{params.pk}/change/",
        {"gate_closure_lead_minutes": lead + 5},
    )
    assert response.status_code == 403
    assert MarketParameters.current().gate_closure_lead_minutes == lead


@pytest.mark.parametrize(
    "name",
    [
        "operators/organisation",
        "operators/membership",
        "operators/site",
        "operators/webhookendpoint",
        "operators/apikey",
        "operators/gridarea",
        "operators/demandzone",
        "market/marketparameters",
        "market/signal",
        "market/carbonfactor",
        "settlement/settlementparameters",
    ],
)
def test_every_audited_model_is_read_only_in_the_admin(root, objects, name):
    obj = objects[name]
    base = f"/admin/{name}/"
    listing = root.get(base)
    assert listing.status_code == 200
    detail = root.get(f"{base}{obj.pk}/change/")
    assert detail.status_code == 200  # shown …
    assert 'name="_save"' not in detail.content.decode()  # … without a save button
    assert root.post(f"{base}{obj.pk}/change/", {}).status_code == 403
    assert root.get(f"{base}add/").status_code == 403
    assert root.post(f"{base}{obj.pk}/delete/", {"post": "yes"}).status_code == 403
    assert type(obj).objects.filter(pk=obj.pk).exists()


def test_signals_cannot_be_rewritten_in_the_admin(root, objects):
    signal = objects["market/signal"]
    response = root.post(
        f"/admin/market/signal/{signal.pk}/change/",
        {
            "kind": "area_price",
            "area": "tokyo",
            "interval_start_0": "2030-01-01",
            "interval_start_1": "00:00:00",
            "value": "999",
            "source": "t",
            "published_at_0": "2030-01-01",
            "published_at_1": "00:00:00",
        },
    )
    assert response.status_code == 403
    signal.refresh_from_db()
    assert signal.value == 12


def test_a_login_cannot_be_made_staff_or_given_a_password_in_the_admin(root, bob):
    user = bob.user
    response = root.post(
        f"/admin/auth/user/{user.pk}/change/",
        {"username": user.username, "is_staff": "on", "is_superuser": "on", "is_active": "on"},
    )
    assert response.status_code == 403
    # There is no password form in this admin (the path falls to the read-only change page).
    root.post(
        f"/admin/auth/user/{user.pk}/password/", {"password1": "x" * 20, "password2": "x" * 20}
    )
    user.refresh_from_db()
    assert not user.is_staff and not user.is_superuser
    assert not user.check_password("x" * 20)
    assert root.get(f"/admin/auth/user/{user.pk}/change/").status_code == 200  # still readable
