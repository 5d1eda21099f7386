"""The OpenAPI document describes the push as it really goes out: an OpenAPI 3.1 `webhooks`
entry whose body schema a real pushed body satisfies and whose headers are the ones sent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from jsonschema import Draft202012Validator

from aggregator.exchange.cycle import run_clear_interval
from market.services.dispatch import deliveries_push_due
from tests.cycle.conftest import gate, register_webhook

pytestmark = pytest.mark.django_db


def _document() -> dict:
    response = Client().get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    return response.json()


def test_the_document_is_openapi_3_1_with_the_dispatch_order_webhook():
    document = _document()
    assert document["openapi"] == "3.1.0"
    push = document["webhooks"]["dispatchOrder"]["post"]
    headers = {p["name"]: p for p in push["parameters"] if p["in"] == "header"}
    assert {"webhook-id", "webhook-timestamp", "webhook-signature"} <= set(headers)
    assert all(headers[h]["required"] for h in ("webhook-id", "webhook-timestamp"))
    assert headers["Wattbit-Signature"]["deprecated"] is True
    assert set(push["responses"]) == {"2XX", "default"}  # no API problem responses here


def test_a_real_push_matches_the_documented_body_and_headers(market, receiver):
    register_webhook(market.charlie, receiver)
    k = market.k(0)
    run_clear_interval(interval_start=k, now=gate(k))
    assert deliveries_push_due(now=gate(k) + timedelta(seconds=1)).delivered == 1
    (got,) = receiver.received
    document = _document()
    push = document["webhooks"]["dispatchOrder"]["post"]
    ref = push["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = {
        "$ref": ref,
        "components": document["components"],  # the refs point into the document
    }
    errors = list(Draft202012Validator(schema).iter_errors(got["body"]))
    assert errors == []
    component = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert set(got["body"]) == set(component["properties"])  # nothing undocumented
    documented = {p["name"].lower() for p in push["parameters"] if p.get("required")}
    assert documented <= {name.lower() for name in got["headers"]}
