"""A small real HTTP server standing in for a participant's webhook receiver.

It verifies every push the way a participant's receiver would, with the `standardwebhooks`
package from PyPI (not our own code): `Webhook(secret).verify(body, headers)`.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook, WebhookVerificationError


@dataclass
class Receiver:
    """`delay_s` waits before answering; `trickle_s` answers one byte per `trickle_s`
    seconds (status line and headers included), the slow-loris receiver of issue 14: each
    single read succeeds in time, only a total deadline stops the sender waiting."""

    secret: str = ""  # a whsec_ secret; empty: accept anything (a test of the client alone)
    status: int = 200
    delay_s: float = 0.0
    trickle_s: float = 0.0
    received: list[dict] = field(default_factory=list)
    rejected: int = 0
    seen_keys: set[str] = field(default_factory=set)
    duplicates: int = 0
    requests: int = 0
    in_flight: int = 0
    max_in_flight: int = 0  # requests open at once (a hang-up shows at the next write)
    trickled_bytes: int = 0
    arrivals: list[tuple[str, float]] = field(default_factory=list)  # (key, monotonic time)
    # Every request as it came (raw body bytes and headers), verified or not, so a test can
    # verify it again with other secrets.
    raw: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # why verification failed
    server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hook"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                with receiver._lock:
                    key = self.headers.get("webhook-id", "")
                    receiver.arrivals.append((key, time.monotonic()))
                    receiver.requests += 1
                    receiver.in_flight += 1
                    receiver.max_in_flight = max(receiver.max_in_flight, receiver.in_flight)
                try:
                    self._answer()
                finally:
                    with receiver._lock:
                        receiver.in_flight -= 1

            def _trickle(self) -> None:
                answer = b"HTTP/1.1 200 OK\r\nX-Pad: " + b"." * 200 + b"\r\n\r\nok"
                for byte in answer:
                    try:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                    except (BrokenPipeError, ConnectionResetError):
                        return  # the sender hung up: its deadline worked
                    receiver.trickled_bytes += 1
                    time.sleep(receiver.trickle_s)
                self.close_connection = True

            def _answer(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if receiver.delay_s:
                    time.sleep(receiver.delay_s)
                headers = dict(self.headers)
                with receiver._lock:
                    receiver.raw.append((body, headers))
                if receiver.secret:
                    try:
                        Webhook(receiver.secret).verify(body, headers)
                    except WebhookVerificationError as exc:
                        receiver.rejected += 1
                        receiver.errors.append(str(exc))
                        self.send_response(401)
                        self.end_headers()
                        return
                if receiver.status >= 300:
                    self.send_response(receiver.status)
                    self.send_header("Location", "http://169.254.169.254/")
                    self.end_headers()
                    return
                key = self.headers.get("webhook-id", "")
                if key in receiver.seen_keys:
                    receiver.duplicates += 1
                else:
                    receiver.seen_keys.add(key)
                    receiver.received.append(
                        {"headers": dict(self.headers), "body": json.loads(body or b"{}")}
                    )
                if receiver.trickle_s:
                    self._trickle()
                    return
                self.send_response(200)
                self.end_headers()
                # The sender may have given up waiting (a timeout test); nothing to answer then.
                with contextlib.suppress(BrokenPipeError):
                    self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
