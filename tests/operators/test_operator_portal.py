"""Market operator pages: onboarding and parameters (audited); regulators read; others can't."""

from __future__ import annotations

import pytest
from django.test import Client

from aggregator.platform.models import AuditEvent
from market.models import MarketParameters
from operators.models import Membership, Organisation
from tests.conftest import _member, _org, portal_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def oscar(db):
    return _member(_org("ops", ["market_operator"]), "oscar", "admin")


ONBOARD = {
    "slug": "newco",
    "legal_name_ja": "新会社",
    "legal_name_en": "NewCo",
    "roles": ["compute_provider"],
    "invoice_registration_number": "T7000012050002",
    "contact_email": "desk@newco.example.jp",
    "admin_username": "nina",
    "admin_email": "nina@newco.example.jp",
    "admin_password": "a-long-enough-pass-42",
}


def test_operator_onboards_a_participant_with_its_first_admin(oscar):
    response = portal_client(oscar).post("/operator/participants/", ONBOARD)
    assert response.status_code == 302
    membership = Membership.objects.get(user__username="nina")
    assert membership.organisation.slug == "newco" and membership.role == "admin"
    codes = list(
        AuditEvent.objects.filter(organisation__slug="newco").values_list("code", flat=True)
    )
    assert codes == ["operators.organisation.created", "operators.member.added"]
    assert Client().login(username="nina", password="a-long-enough-pass-42")


def test_bad_onboarding_writes_nothing(oscar):
    events = AuditEvent.objects.count()
    bad = {**ONBOARD, "invoice_registration_number": "T8000012050002", "admin_password": "123"}
    response = portal_client(oscar).post("/operator/participants/", bad)
    assert response.status_code == 200 and "check digit" in response.content.decode()
    ok_org_bad_admin = {**ONBOARD, "admin_password": "123"}
    response = portal_client(oscar).post("/operator/participants/", ok_org_bad_admin)
    assert "password" in response.content.decode().lower()
    assert not Organisation.objects.filter(slug="newco").exists()
    assert AuditEvent.objects.count() == events


def test_parameters_changed_and_audited(oscar):
    client = portal_client(oscar)
    form = {name: str(getattr(MarketParameters.current(), name)) for name in (
        "gate_closure_lead_minutes", "horizon_intervals", "max_bid_intervals", "max_days_ahead",
        "capacity_price_min", "capacity_price_max", "energy_price_min", "energy_price_max",
        "limit_price_min", "limit_price_max")}  # fmt: skip
    response = client.post("/operator/parameters/", {**form, "gate_closure_lead_minutes": "30"})
    assert response.status_code == 302
    assert MarketParameters.current().gate_closure_lead_minutes == 30
    event = AuditEvent.objects.get(code="market.parameters.changed")
    assert event.payload == {
        "old": {"gate_closure_lead_minutes": "60"},
        "new": {"gate_closure_lead_minutes": "30"},
    }
    bad = client.post("/operator/parameters/", {**form, "limit_price_max": "-1"})
    assert bad.status_code == 200 and "above the minimum" in bad.content.decode()
    assert MarketParameters.current().limit_price_max > 0


def test_regulator_reads_but_cannot_change(rita, oscar):
    client = portal_client(rita)
    assert "ops" in client.get("/operator/participants/").content.decode()
    assert client.post("/operator/participants/", ONBOARD).status_code == 403
    assert client.get("/operator/parameters/").status_code == 200
    assert (
        client.post("/operator/parameters/", {"gate_closure_lead_minutes": "5"}).status_code == 403
    )
    assert MarketParameters.current().gate_closure_lead_minutes == 60


def test_participants_cannot_open_operator_pages(alice):
    client = portal_client(alice)
    assert client.get("/operator/participants/").status_code == 403
    assert client.get("/operator/parameters/").status_code == 403


def test_audit_chain_page_shows_the_verdict(rita, alice):
    client = portal_client(rita)
    body = client.get("/operator/audit/").content.decode()
    assert "Intact" in body and "operators.member.added" in body
    AuditEvent.objects.filter(seq=1).update(actor_label="user:mallory")
    assert "BROKEN at event #1" in client.get("/operator/audit/").content.decode()
    assert portal_client(alice).get("/operator/audit/").status_code == 403
