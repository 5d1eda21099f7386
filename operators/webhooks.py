"""Signed webhook pushes: the signature scheme, and an HTTP client that stays off private networks.

Signature (like Stripe's): header `Wattbit-Signature: t=<unix seconds>,v1=<hex>` where
v1 = HMAC-SHA256(secret, "<t>." + raw body). Receivers recompute it, compare in constant
time and reject timestamps older than five minutes (docs/webhooks.md).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

SIGNATURE_HEADER = "Wattbit-Signature"
DEFAULT_TOLERANCE_S = 300
MAX_RESPONSE_BYTES = 64 * 1024


def signature_header(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_signature(
    secret: str,
    header: str,
    body: bytes,
    *,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> bool:
    """True if `header` signs `body` with `secret` within the replay tolerance."""
    try:
        fields = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(fields["t"])
    except (ValueError, KeyError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance_s:
        return False
    expected = signature_header(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))


@dataclass(frozen=True)
class PushResult:
    status_code: int | None
    latency_ms: int
    error: str = ""

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class BlockedTarget(Exception):
    """The URL resolves to an address a push may not reach."""


def _resolve(host: str, port: int, *, allow_private: bool) -> str:
    infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    for info in infos:
        address = str(info[4][0])
        if allow_private or ipaddress.ip_address(address).is_global:
            return address
    raise BlockedTarget(f"{host} resolves only to private or reserved addresses")


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """Connects to the address we checked, while TLS still verifies the host name.

    Resolving once and connecting to that address closes the DNS-rebinding gap between
    the check and the connection.
    """

    def __init__(self, host: str, port: int, address: str, **kwargs) -> None:
        super().__init__(host, port, **kwargs)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, **kwargs) -> None:
        super().__init__(host, port, **kwargs)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


def post_json(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    timeout_s: float = 10.0,
    allow_private: bool = False,
) -> PushResult:
    """POST `body` once; never follows redirects; every failure becomes a PushResult."""
    started = time.monotonic()

    def result(status: int | None, error: str = "") -> PushResult:
        return PushResult(status, round((time.monotonic() - started) * 1000), error)

    parts = urlsplit(url)
    https = parts.scheme == "https"
    if not https and not allow_private:
        return result(None, "refused: plain http")
    port = parts.port or (443 if https else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        address = _resolve(parts.hostname or "", port, allow_private=allow_private)
        if https:
            conn: http.client.HTTPConnection = _PinnedHTTPSConnection(
                parts.hostname,
                port,
                address,
                timeout=timeout_s,
                context=ssl.create_default_context(),
            )
        else:
            conn = _PinnedHTTPConnection(parts.hostname, port, address, timeout=timeout_s)
        try:
            conn.request(
                "POST", path, body=body, headers={"Content-Type": "application/json", **headers}
            )
            response = conn.getresponse()
            response.read(MAX_RESPONSE_BYTES)
            return result(response.status)
        finally:
            conn.close()
    except BlockedTarget as exc:
        return result(None, f"refused: {exc}")
    except TimeoutError:
        return result(None, "timeout")
    except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
        return result(None, f"{type(exc).__name__}: {exc}"[:300])
