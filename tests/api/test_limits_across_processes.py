"""Rate limits hold across processes: two gunicorn servers on one database share them.

With Django's default per-process memory cache each process counted on its own, so N
workers or pods let N times the rate through. Requests alternate between the two servers.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from tests.api import live

pytestmark = pytest.mark.slow

RATE = 10
FAILED_KEYS = 6


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("limits")
    database_url, drop = live.scratch_database(tmp)
    env = live.production_env(
        tmp, database_url,
        API_RATE_ORGANISATION=f"{RATE}/min", API_FAILED_KEYS_PER_MINUTE=str(FAILED_KEYS),
    )  # fmt: skip
    live.manage(env, "migrate", "--noinput", "-v", "0")
    key = live.make_key(env)
    ports = [live.free_port(), live.free_port()]
    servers = [live.gunicorn(env, port, tmp / f"server-{port}.log") for port in ports]
    try:
        yield [f"http://127.0.0.1:{port}" for port in ports], key
    finally:
        for server in servers:
            live.stop(server)
        drop()


def _get(url: str, key: str, address: str) -> int:
    request = urllib.request.Request(  # noqa: S310 — loopback http only
        f"{url}/api/v1/areas/", headers={"Authorization": f"Api-Key {key}", "X-Test": address}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 — loopback
            return response.status
    except urllib.error.HTTPError as exc:
        assert exc.headers["Content-Type"].startswith("application/problem+json")
        body = json.loads(exc.read())
        assert body["status"] == exc.code
        return exc.code


def test_one_organisation_limit_for_both_processes(two_servers):
    urls, key = two_servers
    codes = [_get(urls[i % 2], key, "org") for i in range(3 * RATE)]
    assert codes.count(200) == RATE, codes  # per process it would have been 2 × RATE
    assert codes[RATE:] == [429] * (2 * RATE), codes


def test_failed_keys_are_throttled_per_address_across_processes(two_servers):
    urls, key = two_servers
    codes = [_get(urls[i % 2], f"wb_{i:08x}.not-a-key", "bad") for i in range(3 * FAILED_KEYS)]
    assert codes[:FAILED_KEYS] == [401] * FAILED_KEYS, codes
    assert codes[FAILED_KEYS:] == [429] * (2 * FAILED_KEYS), codes
    # Over the limit, even a valid key from that address waits: probing stops, not only 401s.
    assert _get(urls[0], key, "bad") == 429
