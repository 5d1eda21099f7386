"""Bad input gets a clear, per-field error and writes nothing (no row, no audit event)."""

from __future__ import annotations

import pytest

from aggregator.platform.models import AuditEvent
from operators.models import Site, WebhookEndpoint
from operators.validators import invoice_number_problem, webhook_url_problem
from tests.conftest import SITE_DATA, client_for

pytestmark = pytest.mark.django_db


def _counts():
    return Site.objects.count(), AuditEvent.objects.count()


@pytest.mark.parametrize(
    ("change", "field", "phrase"),
    [
        ({"pue": "0.95"}, "pue", "at least 1.0"),
        ({"kw_per_cu": "0"}, "kw_per_cu", "greater than 0"),
        ({"kw_per_cu": "-1"}, "kw_per_cu", "greater than 0"),
        ({"capacity_cu": 0}, "capacity_cu", "at least 1"),
        ({"latency_ms": {"atlantis": 3}}, "latency_ms", "Unknown demand zone 'atlantis'"),
        ({"latency_ms": {"tokyo": -5}}, "latency_ms", "0–1000"),
        ({"area": "okinawa"}, "area", "Unknown grid area"),
        ({"accelerator": "tpu9"}, "accelerator", "Unknown accelerator"),
        ({"prefecture": "gotham"}, "prefecture", "Unknown prefecture"),
        ({"residency_tags": ["mars"]}, "residency_tags", "Unknown residency tag"),
        ({"grid_connection_cap_kw": "-10"}, "grid_connection_cap_kw", "greater than 0"),
    ],
)
def test_site_rules_give_field_errors_and_write_nothing(alice, change, field, phrase):
    before = _counts()
    response = client_for(alice).post("/api/v1/sites/", {**SITE_DATA, **change}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert response["Content-Type"] == "application/problem+json"
    assert body["type"].endswith("/validation")
    assert field in body["errors"]
    assert any(phrase in message for message in body["errors"][field]), body
    assert _counts() == before


def test_several_errors_reported_together(alice):
    response = client_for(alice).post(
        "/api/v1/sites/", {**SITE_DATA, "pue": "0.5", "kw_per_cu": "0"}, format="json"
    )
    assert set(response.json()["errors"]) == {"pue", "kw_per_cu"}


def test_type_errors_are_problem_details(alice):
    response = client_for(alice).post(
        "/api/v1/sites/", {**SITE_DATA, "capacity_cu": "lots"}, format="json"
    )
    assert response.status_code == 400
    assert "capacity_cu" in response.json()["errors"]


def test_malformed_json_is_a_clear_problem(alice):
    response = client_for(alice).generic(
        "POST", "/api/v1/sites/", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["type"].endswith("/malformed")


def test_duplicate_site_code_refused(alice, alpha_site):
    before = _counts()
    response = client_for(alice).post("/api/v1/sites/", SITE_DATA, format="json")
    assert response.status_code == 400
    assert "already exists" in response.json()["errors"]["code"][0]
    assert _counts() == before


def test_site_code_cannot_change(alice, alpha_site):
    response = client_for(alice).patch(
        f"/api/v1/sites/{alpha_site.pk}/", {"code": "other"}, format="json"
    )
    assert response.status_code == 400
    assert Site.objects.get(pk=alpha_site.pk).code == alpha_site.code


def test_failed_update_leaves_site_untouched(alice, alpha_site):
    events = AuditEvent.objects.count()
    response = client_for(alice).patch(
        f"/api/v1/sites/{alpha_site.pk}/", {"capacity_cu": 99, "pue": "0.2"}, format="json"
    )
    assert response.status_code == 400
    site = Site.objects.get(pk=alpha_site.pk)
    assert site.capacity_cu == 64 and str(site.pue) == "1.30"
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(
    ("number", "ok"),
    [
        ("T7000012050002", True),  # the National Tax Agency's own corporate number
        ("T1290001012345", True),
        ("T8000012050002", False),  # wrong check digit
        ("7000012050002", False),  # no T
        ("T700001205000", False),  # 12 digits
        ("T70000120500a2", False),
    ],
)
def test_invoice_registration_number(number, ok):
    assert (invoice_number_problem(number) is None) is ok


def test_invoice_number_validated_on_update(alice, alpha):
    response = client_for(alice).patch(
        f"/api/v1/organisations/{alpha.pk}/", {"invoice_registration_number": "T8000012050002"}
    )
    assert response.status_code == 400
    assert "check digit" in response.json()["errors"]["invoice_registration_number"][0]


@pytest.mark.parametrize(
    ("url", "phrase"),
    [
        ("http://hooks.example.com/x", "https"),
        ("https://127.0.0.1/hook", "private or reserved"),
        ("https://10.1.2.3/hook", "private or reserved"),
        ("https://169.254.169.254/latest/meta-data", "private or reserved"),
        ("https://[::1]/hook", "private or reserved"),
        ("https://user:pw@8.8.8.8/hook", "Credentials"),
        ("ftp://8.8.8.8/x", "https"),
    ],
)
def test_webhook_targets_off_private_addresses(url, phrase):
    problem = webhook_url_problem(url, allow_private=False)
    assert problem is not None and phrase in problem


def test_webhook_public_address_accepted():
    assert webhook_url_problem("https://8.8.8.8/hook", allow_private=False) is None


def test_webhook_create_refuses_private_target(alice, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    response = client_for(alice).post(
        "/api/v1/webhook-endpoints/", {"url": "https://192.168.1.5/hook"}
    )
    assert response.status_code == 400
    assert "url" in response.json()["errors"]
    assert WebhookEndpoint.objects.count() == 0
