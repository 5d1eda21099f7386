"""The embedded default (SQLite) under concurrent writes: writers wait for each other
instead of failing with "database is locked" (WAL, IMMEDIATE transactions, busy timeout).

Two bulks of 1,000 bids × 48 intervals at once used to fail intermittently with a 500
(as Django's HTML page). Runs on the CI pass's own database: a SQLite file in the
default pass, where the failure was.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from tests.api import live

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("writes")
    database_url, drop = live.scratch_database(tmp)
    env = live.production_env(tmp, database_url, API_RATE_ORGANISATION="100000/min")
    live.manage(env, "migrate", "--noinput", "-v", "0")
    key = live.make_key(env)
    port = live.free_port()
    process = live.gunicorn(env, port, tmp / "server.log")
    try:
        yield f"http://127.0.0.1:{port}", key
    finally:
        live.stop(process)
        drop()


def _bulk(url: str, key: str, start: datetime, n: int = 1000) -> tuple[int, str]:
    bid = {"type": "workload", "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "intervals": 48,
           "kind": "inference", "accelerator": "h100", "residency_tags": ["jp"],
           "limit_price": 800, "zone": "tokyo", "max_latency_ms": 20, "demand": [2] * 48}  # fmt: skip
    body = json.dumps({"bids": [bid] * n}).encode()
    request = urllib.request.Request(  # noqa: S310 — loopback http only
        f"{url}/api/v1/bids/bulk", data=body, method="POST",
        headers={"Authorization": f"Api-Key {key}", "Content-Type": "application/json"},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
            return response.status, response.headers["Content-Type"]
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"] + " " + exc.read()[:300].decode()


def test_two_bulks_at_once_both_succeed(server):
    url, key = server
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    starts = [now + timedelta(hours=4), now + timedelta(hours=28)]
    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(lambda s: _bulk(url, key, s), starts * 2))
    assert [code for code, _type in outcomes] == [201] * 4, outcomes
