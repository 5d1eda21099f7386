"""Signed webhook pushes: the signature scheme, and an HTTP client that stays off private
networks and keeps a total deadline per attempt.

Signatures follow Standard Webhooks (https://www.standardwebhooks.com, docs/webhooks.md):

    webhook-id: <the order version's idempotency key>
    webhook-timestamp: <unix seconds>
    webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")> [v1,… …]

one `v1,` signature per secret that signs (two while a rotation overlaps), the key being
the base64-decoded bytes after `whsec_`. Receivers verify with any Standard Webhooks
library, which also rejects timestamps more than five minutes off.

The pre-Standard header `Wattbit-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(key,
"<t>." + body)>` is added for this release only, and only while a secret from before the
change still signs (market.services.dispatch), so receivers deployed against it keep working
while they move over.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from operators.addresses import address_problem

WEBHOOK_ID_HEADER = "webhook-id"
WEBHOOK_TIMESTAMP_HEADER = "webhook-timestamp"
WEBHOOK_SIGNATURE_HEADER = "webhook-signature"
LEGACY_SIGNATURE_HEADER = "Wattbit-Signature"
DEFAULT_TOLERANCE_S = 300
MAX_RESPONSE_BYTES = 64 * 1024


@dataclass(frozen=True)
class SigningKey:
    """One secret that signs an endpoint's pushes. `legacy`: it dates from before Standard
    Webhooks, so its pushes also carry the old Wattbit-Signature header."""

    key: bytes
    legacy: bool = False

    def __repr__(self) -> str:  # never print key material
        return f"SigningKey(legacy={self.legacy})"


def sign_v1(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """One Standard Webhooks symmetric signature, `v1,<base64>`."""
    # The spec: the id must not contain "." — "a.1" at t=2 would sign what "a" at t=1 does
    # with another body. Ours are `ord-<run>-<org>-<kind>-<place>-v<n>` (slugs and digits).
    if "." in msg_id or not msg_id:
        raise ValueError("a webhook id is non-empty and contains no '.'")
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode("ascii")


def signed_headers(
    keys: Sequence[SigningKey], msg_id: str, body: bytes, timestamp: int
) -> dict[str, str]:
    """The headers of one push, signed by every key that signs now (current key first)."""
    if not keys:
        raise ValueError("a push needs at least one signing key")
    headers = {
        WEBHOOK_ID_HEADER: msg_id,
        WEBHOOK_TIMESTAMP_HEADER: str(timestamp),
        WEBHOOK_SIGNATURE_HEADER: " ".join(sign_v1(k.key, msg_id, timestamp, body) for k in keys),
    }
    legacy = next((k for k in keys if k.legacy), None)
    if legacy is not None:
        headers[LEGACY_SIGNATURE_HEADER] = legacy_signature(legacy.key, body, timestamp)
    return headers


def legacy_signature(key: bytes, body: bytes, timestamp: int) -> str:
    """The pre-Standard `Wattbit-Signature` value (removed in the next release)."""
    mac = hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_standard(
    keys: Sequence[bytes],
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> bool:
    """True if one of the `v1,` signatures in `headers` signs `body` with one of `keys`
    within the replay tolerance: what a Standard Webhooks receiver checks (the demo's)."""
    lowered = {name.lower(): value for name, value in headers.items()}
    msg_id = lowered.get(WEBHOOK_ID_HEADER, "")
    try:
        timestamp = int(lowered.get(WEBHOOK_TIMESTAMP_HEADER, ""))
    except ValueError:
        return False
    if not msg_id or "." in msg_id:
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance_s:
        return False
    # Bytes, not str: compare_digest refuses non-ASCII text, and a header may carry any.
    offered = [
        o.encode("utf-8", "replace") for o in lowered.get(WEBHOOK_SIGNATURE_HEADER, "").split(" ")
    ]
    expected = [sign_v1(key, msg_id, timestamp, body).encode() for key in keys]
    # Compare every pair, so the time taken does not tell which one matched.
    matches = [hmac.compare_digest(e, o) for e in expected for o in offered if o]
    return any(matches)


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
    outcome, _body = _request(
        "POST", url, body, {"Content-Type": "application/json", **headers},
        timeout_s=timeout_s, allow_private=allow_private, keep_body=False,
    )  # fmt: skip
    return outcome


def get_text(
    url: str, headers: dict[str, str], *, timeout_s: float = 10.0, allow_private: bool = False
) -> tuple[PushResult, bytes]:
    """GET `url` once with the same rules as a push (public addresses only, no redirects,
    one deadline for the status line and headers), and the answer's first 64 KiB. An
    OpenADR subscription's callback is verified this way (its echo challenge)."""
    return _request(
        "GET", url, None, headers, timeout_s=timeout_s, allow_private=allow_private, keep_body=True
    )


def _request(
    method: str,
    url: str,
    body: bytes | None,
    headers: dict[str, str],
    *,
    timeout_s: float,
    allow_private: bool,
    keep_body: bool,
) -> tuple[PushResult, bytes]:
    received = b""
    started = time.monotonic()
    deadline = _Deadline(timeout_s)

    def result(status: int | None, error: str = "") -> tuple[PushResult, bytes]:
        elapsed_ms = round((time.monotonic() - started) * 1000)
        return PushResult(status, elapsed_ms, error), received

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
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        if conn.aborted:
            # Cut off mid-headers: http.client takes the shut-down socket's end of file
            # for the end of the headers, so what it parsed is not an answer.
            return result(None, "timeout")
        status = response.status
        # Status line and headers are the answer; the body is read (bounded) only so the
        # connection closes cleanly, and a receiver stalling it changes nothing.
        with contextlib.suppress(OSError, http.client.HTTPException):
            read = response.read(MAX_RESPONSE_BYTES)
            if keep_body:
                received = read
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
