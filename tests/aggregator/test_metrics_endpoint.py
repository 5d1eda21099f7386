"""/metrics: who may read it (token, networks; everyone else gets a plain 404), and the
HTTP request metrics by route name."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.aggregator.test_settings_and_health import PRODUCTION, _manage
from tests.support.prometheus import parse, value

pytestmark = pytest.mark.django_db

OUTSIDE = "203.0.113.7"  # TEST-NET-3: not loopback, not in any default network


def get(path="/metrics", addr="127.0.0.1", meta=None, **headers):
    return Client(REMOTE_ADDR=addr).get(path, headers=headers, **(meta or {}))


def _page(response, path: bytes) -> bytes:
    # The page names its own path (the language form's "next") and a fresh CSRF token.
    body = response.content.replace(path, b"PATH")
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]*"', b"TOKEN", body)


def _is_unknown_page(response, unknown) -> None:
    assert response.status_code == 404
    assert b"wattbit_" not in response.content
    # Indistinguishable from any path that does not exist.
    assert response["Content-Type"] == unknown["Content-Type"]
    assert _page(response, b"/metrics") == _page(unknown, b"/no-such-page")


def test_loopback_may_scrape_by_default():
    response = get()
    assert response.status_code == 200
    # The classic text format every Prometheus 2.x reads.
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert b"# TYPE wattbit_clearing_runs gauge" in response.content


def test_an_outside_address_gets_the_404_of_an_unknown_path(settings):
    settings.METRICS_TOKEN = "scrape-token-0123456789"
    unknown = get("/no-such-page", addr=OUTSIDE)
    _is_unknown_page(get(addr=OUTSIDE), unknown)
    _is_unknown_page(get(addr=OUTSIDE, Authorization="Bearer wrong-token"), unknown)
    _is_unknown_page(get(addr=OUTSIDE, Authorization="Basic c2NyYXBlOnRva2Vu"), unknown)


def test_the_token_admits_from_anywhere_and_a_wrong_one_nowhere(settings):
    settings.METRICS_TOKEN = "scrape-token-0123456789"
    assert get(addr=OUTSIDE, Authorization="Bearer scrape-token-0123456789").status_code == 200
    assert get(addr=OUTSIDE, Authorization="bearer scrape-token-0123456789").status_code == 200
    # A wrong token is refused even from an allowed network (a misconfigured scraper).
    assert get(Authorization="Bearer scrape-token-012345678").status_code == 404
    assert get(addr=OUTSIDE, Authorization="Bearer ").status_code == 404


def test_without_a_token_configured_no_bearer_is_accepted(settings):
    settings.METRICS_TOKEN = None
    assert get(addr=OUTSIDE, Authorization="Bearer ").status_code == 404
    assert get(addr=OUTSIDE, Authorization="Bearer None").status_code == 404


def test_allowed_networks_are_cidrs_and_loopback_can_be_left_out(settings):
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8", "fd00::/8"]
    assert get(addr="10.42.7.9").status_code == 200
    assert get(addr="fd00::12").status_code == 200
    assert get(addr="11.0.0.1").status_code == 404
    assert get(addr="127.0.0.1").status_code == 404


def test_a_request_through_a_proxy_is_never_admitted_by_its_address():
    # The ingress connects from an address that may be allowed; the client behind it is not.
    assert get(meta={"HTTP_X_FORWARDED_FOR": "198.51.100.4"}).status_code == 404
    assert get(**{"X-Forwarded-For": "198.51.100.4"}).status_code == 404
    assert get(Forwarded="for=198.51.100.4").status_code == 404


def test_only_get_and_head_are_answered():
    assert Client().post("/metrics").status_code in (403, 404, 405)
    assert Client().head("/metrics").status_code == 200


def test_http_requests_are_counted_by_route_name_not_by_path():
    before = parse(get().content.decode())
    get("/healthz")
    get("/healthz")
    get("/no-such-page-123")
    after = parse(get().content.decode())

    def count(samples, **labels):
        try:
            return value(samples, "wattbit_http_requests_total", **labels)
        except AssertionError:
            return 0.0

    ok = {"view": "healthz", "method": "GET", "status": "200"}
    assert count(after, **ok) - count(before, **ok) == 2
    missing = {"view": "<unmatched>", "method": "GET", "status": "404"}
    assert count(after, **missing) - count(before, **missing) == 1
    paths = {ls["view"] for ls, _v in after["wattbit_http_requests_total"]}
    assert not any(p.startswith("/") for p in paths), paths
    assert value(after, "wattbit_http_request_duration_seconds_count", view="healthz") >= 2


def test_a_token_file_is_read_and_bad_networks_stop_start_up(tmp_path):
    token = tmp_path / "metrics-token"
    token.write_text("from-a-file-0123456789\n")
    shown = _manage(
        "shell", "-c", "from django.conf import settings; print(settings.METRICS_TOKEN)",
        METRICS_TOKEN_FILE=str(token), **PRODUCTION,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip().splitlines()[-1] == "from-a-file-0123456789"
    bad = _manage("check", METRICS_ALLOWED_NETWORKS="10.0.0.0/8,not-a-network", **PRODUCTION)
    assert bad.returncode != 0
    assert "METRICS_ALLOWED_NETWORKS" in bad.stderr
