"""Prometheus metrics: the /metrics endpoint, who may read it, and the HTTP request metrics.

Under gunicorn the web workers are separate processes: prometheus-client's multiprocess
mode (PROMETHEUS_MULTIPROC_DIR, set by deploy/gunicorn.conf.py) has each one write its
counters to files that a scrape merges. The domain's metrics are not counted in processes
at all: collectors named in METRICS_COLLECTORS (the exchange's, which read every app) read
them from the database at scrape time, so every pod answers the same and nothing is lost
when a worker restarts. The platform imports no app: it loads those collectors by name.

Who may scrape: a bearer token (METRICS_TOKEN, compared in constant time) or a direct
connection from METRICS_ALLOWED_NETWORKS. Anyone else is not answered here at all: the
request goes on down the middleware chain like any other and gets what any unknown path
gets (404, or the HTTPS redirect), so the endpoint's existence is not revealed.
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from functools import cache
from ipaddress import ip_address, ip_network

from django.conf import settings
from django.http import HttpResponse
from django.utils.module_loading import import_string
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

logger = logging.getLogger(__name__)

METRICS_PATH = "/metrics"
# The classic text format (prometheus-client's latest is 1.0.0, which older servers and
# tools do not name); for the names used here the two are the same bytes.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Methods outside this set are counted as "other": a client cannot mint label values.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# A path that resolved to no view (404s, redirects before routing) is one label value,
# never the path itself: label cardinality stays the number of named routes.
UNMATCHED = "<unmatched>"

HTTP_REQUESTS = Counter(
    "wattbit_http_requests",
    "HTTP requests answered, by route name, method and status code.",
    ["view", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "wattbit_http_request_duration_seconds",
    "Time from the request entering the middleware chain to its response, by route name.",
    ["view"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
COLLECTOR_ERRORS = Counter(
    "wattbit_collector_errors",
    "Scrapes in which a domain collector raised (it is skipped and logged; /metrics still answers).",
    ["collector"],
)


def _view_label(request) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return UNMATCHED
    return match.view_name or match._func_path or UNMATCHED


class HttpMetricsMiddleware:
    """Counts and times every request by the name of the route that served it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        view = _view_label(request)
        method = request.method if request.method in _METHODS else "other"
        HTTP_REQUESTS.labels(view, method, str(response.status_code)).inc()
        HTTP_LATENCY.labels(view).observe(time.perf_counter() - started)
        return response


@cache
def _networks(allowed: tuple[str, ...]):
    return tuple(ip_network(n, strict=False) for n in allowed)


def _bearer(request) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _sep, credentials = header.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    return credentials.strip()


def scrape_allowed(request) -> bool:
    """A valid bearer token, or a direct connection from an allowed network."""
    token = settings.METRICS_TOKEN
    given = _bearer(request)
    if given is not None:
        # A wrong token is refused even from an allowed network: it is a misconfigured
        # scraper, better found at once than hidden by where it happens to run.
        return bool(token) and hmac.compare_digest(given.encode(), token.encode())
    if "HTTP_X_FORWARDED_FOR" in request.META or "HTTP_FORWARDED" in request.META:
        # Came through a proxy (the ingress): the socket's address is the proxy's, which may
        # sit in an allowed network while the client is anyone on the internet.
        return False
    try:
        address = ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in net for net in _networks(tuple(settings.METRICS_ALLOWED_NETWORKS)))


class _ProcessMetrics:
    """This process's own registry (the single-process case: runserver, tests)."""

    def collect(self):
        yield from REGISTRY.collect()


class _Guarded:
    """Runs one domain collector; a failure is logged and counted instead of a 500."""

    def __init__(self, name: str, collector) -> None:
        self.name, self.collector = name, collector

    def collect(self):
        try:
            # Materialised first: a collector that fails half-way exposes nothing partial.
            families = list(self.collector.collect())
        except Exception:
            logger.exception("metrics collector %s failed", self.name)
            COLLECTOR_ERRORS.labels(self.name).inc()
            return []
        return families


def build_registry() -> CollectorRegistry:
    """What one scrape exposes: the processes' metrics and the domain collectors."""
    registry = CollectorRegistry(auto_describe=False)
    # The domain first: a collector error it counts shows in this very scrape.
    for path in settings.METRICS_COLLECTORS:
        registry.register(_Guarded(path.rsplit(".", 1)[-1], import_string(path)()))
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ProcessMetrics())
    return registry


def metrics_response() -> HttpResponse:
    body = generate_latest(build_registry())
    response = HttpResponse(body, content_type=CONTENT_TYPE)
    response["Cache-Control"] = "no-store"
    return response


class MetricsEndpointMiddleware:
    """Answers GET /metrics to an admitted scraper before any other middleware but the
    request id's runs.

    First in the chain on purpose: Prometheus scrapes a pod by its address over plain HTTP
    inside the cluster, which the host check and the HTTPS redirect would refuse; the
    token or the network is the check here. Everyone else passes through untouched.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            request.path_info == METRICS_PATH
            and request.method in ("GET", "HEAD")
            and scrape_allowed(request)
        ):
            return metrics_response()
        return self.get_response(request)


__all__ = [
    "COLLECTOR_ERRORS",
    "HTTP_LATENCY",
    "HTTP_REQUESTS",
    "HttpMetricsMiddleware",
    "MetricsEndpointMiddleware",
    "build_registry",
    "scrape_allowed",
]
