"""Every portal list page and API list: a fixed number of queries, however many rows.

NetBox-style: render with a little data, add more, render again; the count must not grow.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from aggregator.exchange.cycle import run_clear_interval
from market import calendar
from tests.conftest import PASSWORD, client_for
from tests.cycle.conftest import gate

pytestmark = pytest.mark.django_db

PAGES = [
    ("dave", "/"),
    ("dave", "/market/bids/"),
    ("dave", "/market/orders/"),
    ("rita", "/market/runs/"),
    ("rita", "/market/results/?day={day}"),
    ("dave", "/market/results/?day={day}"),
    ("alice", "/sites/"),
    ("alice", "/api-keys/"),
    ("alice", "/webhooks/"),
    ("alice", "/organisation/"),
    ("rita", "/operator/participants/"),
]
API = [
    ("rita", "/api/v1/orders"),
    ("dave", "/api/v1/allocations"),
    ("rita", "/api/v1/clearing-runs"),
    ("dave", "/api/v1/workloads/"),
    ("rita", "/api/v1/results?from={k}&to={k4}"),
]
BUDGET = 20


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(ctx.captured_queries)


def _users(market):
    return {"dave": market.dave, "rita": market.rita, "alice": market.alice}


def _fill(market, n: int) -> None:
    for i in range(n):
        k = market.k(i)
        run_clear_interval(interval_start=k, now=gate(k))


@pytest.mark.parametrize(("who", "url"), PAGES)
def test_portal_page_queries_do_not_grow_with_rows(market, who, url):
    url = url.format(day=calendar.to_jst(market.k(0)).date().isoformat())
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert client.login(username=_users(market)[who].user.username, password=PASSWORD)
    _fill(market, 1)
    few = _count(client, url)
    _fill(market, 4)
    many = _count(client, url)
    assert many == few and many <= BUDGET, (url, few, many)


@pytest.mark.parametrize(("who", "url"), API)
def test_api_list_queries_do_not_grow_with_rows(market, who, url):
    url = url.format(k=calendar.iso_z(market.k(0)), k4=calendar.iso_z(market.k(4)))
    client = client_for(_users(market)[who])
    _fill(market, 1)
    few = _count(client, url)
    _fill(market, 4)
    many = _count(client, url)
    assert many == few and many <= BUDGET, (url, few, many)
