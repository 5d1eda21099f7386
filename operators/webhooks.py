"""Signed webhook pushes: the signature scheme, and an HTTP client that stays off private
networks and keeps a total deadline per attempt.

Signature (like Stripe's): header `Wattbit-Signature: t=<unix seconds>,v1=<hex>` where
v1 = HMAC-SHA256(secret, "<t>." + raw body). Receivers recompute it, compare in constant
time and reject timestamps older than five minutes (docs/webhooks.md).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from operators.addresses import address_problem

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


# What an attempt may overrun its deadline by: the watchdog's wake-up and the socket
# shutdown reaching the blocked read (milliseconds; one second is generous). The delivery
# lease is sized on `longest_attempt_s` (market.services.dispatch).
ATTEMPT_GRACE_S = 1.0


def longest_attempt_s(timeout_s: float) -> float:
    """The longest one `post_json(timeout_s=…)` can take, name resolution included."""
    return timeout_s + ATTEMPT_GRACE_S


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds

    def remaining(self) -> float:
        left = self.at - time.monotonic()
        if left <= 0:
            raise TimeoutError("deadline passed")
        return left


def _getaddrinfo(host: str, port: int, deadline: _Deadline) -> list:
    """getaddrinfo within the deadline (the C resolver has no timeout of its own).

    A literal address needs no lookup. A name is resolved on a daemon thread; if that
    outlives the deadline it is left to finish on its own and the attempt times out.
    """
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    box: dict = {}

    def lookup() -> None:
        try:
            box["infos"] = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
        except Exception as exc:  # handed to the caller below
            box["error"] = exc

    worker = threading.Thread(target=lookup, name="webhook-dns", daemon=True)
    worker.start()
    worker.join(deadline.remaining())
    if worker.is_alive():
        raise TimeoutError(f"resolving {host} took longer than the deadline")
    if "error" in box:
        raise box["error"]
    return box["infos"]


def _resolve(host: str, port: int, *, allow_private: bool, deadline: _Deadline) -> str:
    problems = []
    for info in _getaddrinfo(host, port, deadline):
        address = str(info[4][0])
        if allow_private:
            return address
        problem = address_problem(address)
        if problem is None:
            return address
        problems.append(problem)
    raise BlockedTarget(f"{host}: {'; '.join(problems[:2]) or 'no address'}")


class _Abortable:
    """`abort()`, from another thread, shuts the connection's socket down: any read or
    write blocked on it returns at once. This is what makes the deadline total — socket
    timeouts only bound each single read, and a receiver sending one byte per second
    never trips them.

    The socket *object* is kept, not its file descriptor: once closed its descriptor
    reads as -1, so a late abort can never reach a descriptor the OS has handed on.
    """

    def _init_abort(self) -> None:
        self._abort_lock = threading.Lock()
        self._tracked: socket.socket | None = None
        self.aborted = False

    def _track(self, sock: socket.socket) -> None:
        with self._abort_lock:
            self._tracked = sock
            if self.aborted:
                self._shutdown(sock)

    @staticmethod
    def _shutdown(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            # The base method: SSLSocket.shutdown would also tear down its TLS state,
            # which the reading thread is still using.
            socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def abort(self) -> None:
        with self._abort_lock:
            self.aborted = True
            if self._tracked is not None:
                self._shutdown(self._tracked)


class _PinnedHTTPSConnection(_Abortable, http.client.HTTPSConnection):
    """Connects to the address we checked, while TLS still verifies the host name.

    Resolving once and connecting to that address closes the DNS-rebinding gap between
    the check and the connection.
    """

    def __init__(self, host: str, port: int, address: str, **kwargs) -> None:
        super().__init__(host, port, **kwargs)
        self._address = address
        self._init_abort()

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self._track(sock)
        # Handshake after tracking the TLS socket, so that a stalled handshake is abortable.
        tls = self._context.wrap_socket(
            sock, server_hostname=self.host, do_handshake_on_connect=False
        )
        self._track(tls)
        self.sock = tls
        tls.do_handshake()


class _PinnedHTTPConnection(_Abortable, http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, **kwargs) -> None:
        super().__init__(host, port, **kwargs)
        self._address = address
        self._init_abort()

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self._track(sock)
        self.sock = sock


def post_json(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    timeout_s: float = 10.0,
    allow_private: bool = False,
) -> PushResult:
    """POST `body` once, within `timeout_s` in all; never follows redirects.

    The deadline covers the whole attempt — resolving, connecting, TLS, sending, and the
    answer's status line and headers — however slowly the receiver trickles them. Every
    failure becomes a PushResult; running out of time is `error == "timeout"`.
    """
    started = time.monotonic()
    deadline = _Deadline(timeout_s)

    def result(status: int | None, error: str = "") -> PushResult:
        return PushResult(status, round((time.monotonic() - started) * 1000), error)

    parts = urlsplit(url)
    https = parts.scheme == "https"
    if not https and not allow_private:
        return result(None, "refused: plain http")
    try:
        port = parts.port or (443 if https else 80)
    except ValueError:
        return result(None, "refused: not a valid port")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    conn: _PinnedHTTPConnection | _PinnedHTTPSConnection | None = None
    watchdog: threading.Timer | None = None
    try:
        address = _resolve(
            parts.hostname or "", port, allow_private=allow_private, deadline=deadline
        )
        remaining = deadline.remaining()
        if https:
            conn = _PinnedHTTPSConnection(
                parts.hostname, port, address, timeout=remaining,
                context=ssl.create_default_context(),
            )  # fmt: skip
        else:
            conn = _PinnedHTTPConnection(parts.hostname, port, address, timeout=remaining)
        watchdog = threading.Timer(remaining, conn.abort)
        watchdog.daemon = True
        watchdog.start()
        conn.request(
            "POST", path, body=body, headers={"Content-Type": "application/json", **headers}
        )
        response = conn.getresponse()
        if conn.aborted:
            # Cut off mid-headers: http.client takes the shut-down socket's end of file
            # for the end of the headers, so what it parsed is not an answer.
            return result(None, "timeout")
        status = response.status
        # Status line and headers are the answer; the body is read (bounded) only so the
        # connection closes cleanly, and a receiver stalling it changes nothing.
        with contextlib.suppress(OSError, http.client.HTTPException):
            response.read(MAX_RESPONSE_BYTES)
        return result(status)
    except BlockedTarget as exc:
        return result(None, f"refused: {exc}")
    except TimeoutError:
        return result(None, "timeout")
    except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
        if conn is not None and conn.aborted:
            return result(None, "timeout")
        return result(None, f"{type(exc).__name__}: {exc}"[:300])
    finally:
        if watchdog is not None:
            watchdog.cancel()
        if conn is not None:
            conn.close()
