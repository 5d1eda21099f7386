"""The cycle's small market, cleared, and OpenADR clients of its participants."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from rest_framework.test import APIClient

from aggregator.exchange.cycle import run_clear_interval
from aggregator.openadr.services.clients import openadr_client_create
from tests.cycle.conftest import gate, market  # noqa: F401 (fixtures)
from tests.openadr.spec import check
from tests.support.oadr_callback import CallbackServer

HOST = "http://testserver"


class Vtn:
    """A VEN's side of the VTN in-process: every answer is checked against the spec."""

    def __init__(self, organisation, *, read_only: bool = False):
        self.client, self.secret = openadr_client_create(
            organisation=organisation, read_only=read_only
        )
        self.client_id = self.client.application.client_id
        self.http = APIClient()
        self.token = None

    def fetch_token(self, scope: str | None = None) -> dict:
        data = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self.secret,
        }
        if scope is not None:
            data["scope"] = scope
        response = self.http.post(
            "/openadr3/auth/token",
            urlencode(data),
            content_type="application/x-www-form-urlencoded",
        )
        body = self.checked("POST", "/openadr3/auth/token", response)
        if response.status_code == 200:
            self.token = body["access_token"]
            self.http.credentials(HTTP_AUTHORIZATION=f"Bearer {self.token}")
        return body

    def checked(self, method: str, url: str, response):
        return check(
            HOST, method, url, response.status_code, response.content, response["Content-Type"]
        )

    def call(self, method: str, url: str, body=None, expect: int = 200):
        response = getattr(self.http, method.lower())(url, body, format="json")
        assert response.status_code == expect, response.content
        return self.checked(method, url, response)


@pytest.fixture
def cleared(market):  # noqa: F811 (the imported fixture)
    k = market.k(0)
    run_clear_interval(interval_start=k, now=gate(k))
    return market


@pytest.fixture
def callback():
    server = CallbackServer().start()
    yield server
    server.stop()
